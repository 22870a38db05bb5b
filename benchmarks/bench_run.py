"""What `layerkit run` adds: a Keras script run unchanged vs `python` on the edited script.

The same program is written twice into a temporary folder: `keras_script.py` imports
`from keras import models, layers` (run by `layerkit run`, `python -m layerkit run`, and as
a one-cell notebook), `edited_script.py` imports `from layerkit import models, layers` (run
by `python`). It builds the notes' IMDB MLP and trains one small epoch, so most of the time
is interpreter and library start-up. Each round runs every command once, in rotating order
so drift in a shared machine's load spreads evenly. For wall seconds and for CPU seconds
(user + system of the child, steadier than wall time when other jobs share the cores) the
table gives the median, min and max over rounds, and the median and spread of each round's
difference from `python edited_script.py` (target: at most 0.3 s). A second table times
the parts `layerkit run` adds, each in a fresh process after `import layerkit` (which both
sides pay): importing the command line and runner, and running an empty script through
`run()` (alias on and off, `__main__` set up, compile, exec); they are milliseconds, so
they show the overhead without the load noise of whole-process timings.

    python benchmarks/bench_run.py --repeat 9
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

PROGRAM = """\
import numpy as np
from {package} import models, layers

model = models.Sequential()
model.add(layers.Dense(16, activation='relu', input_shape=(1000,)))
model.add(layers.Dense(16, activation='relu'))
model.add(layers.Dense(1, activation='sigmoid'))
model.compile(optimizer='rmsprop', loss='binary_crossentropy', metrics=['acc'])
x = np.random.RandomState(0).rand(512, 1000)
y = (x[:, 0] > 0.5).astype('float32')
model.fit(x, y, epochs=1, batch_size=128, verbose=0)
print('ok')
"""

TARGET_S = 0.3


def write_programs(folder):
    """Writes the program's variants; returns {label: command}."""
    keras_py = os.path.join(folder, "keras_script.py")
    edited_py = os.path.join(folder, "edited_script.py")
    notebook = os.path.join(folder, "keras_notebook.ipynb")
    with open(keras_py, "w") as f:
        f.write(PROGRAM.format(package="keras"))
    with open(edited_py, "w") as f:
        f.write(PROGRAM.format(package="layerkit"))
    with open(notebook, "w") as f:
        cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                "source": PROGRAM.format(package="keras").splitlines(True)}
        json.dump({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}, f)
    layerkit = os.path.join(os.path.dirname(sys.executable), "layerkit")
    commands = {"python edited_script.py": [sys.executable, edited_py]}
    if os.path.exists(layerkit):
        commands["layerkit run keras_script.py"] = [layerkit, "run", keras_py]
    commands["python -m layerkit run keras_script.py"] = [
        sys.executable, "-m", "layerkit", "run", keras_py]
    commands["python -m layerkit run keras_notebook.ipynb"] = [
        sys.executable, "-m", "layerkit", "run", notebook]
    return commands


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def seconds(command, cwd):
    """Runs one command; returns (wall seconds, CPU seconds)."""
    cpu, start = _children_cpu(), time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    wall = time.perf_counter() - start
    if result.returncode != 0 or "ok" not in result.stdout:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr}")
    return wall, _children_cpu() - cpu


def measure(commands, repeat, cwd):
    """Returns {label: [(wall, cpu) per round]}, rotating the order every round."""
    labels = list(commands)
    times = {label: [] for label in labels}
    seconds(commands[labels[0]], cwd)  # warm the file cache once, not timed
    for round_ in range(repeat):
        shift = round_ % len(labels)
        for label in labels[shift:] + labels[:shift]:
            times[label].append(seconds(commands[label], cwd))
    return times


def _spread(values, sign=""):
    return (f"{statistics.median(values):{sign}.3f} "
            f"[{min(values):{sign}.3f} - {max(values):{sign}.3f}]")


def print_table(times, repeat):
    baseline_label = next(iter(times))
    print(f"\n{repeat} rounds; seconds per process as median [min - max]; added = each "
          f"round's difference from `{baseline_label}`, median [min - max]\n")
    print("| command | wall s | wall added | CPU s | CPU added | median added <= 0.3 s |")
    print("|---|---|---|---|---|---|")
    for label, pairs in times.items():
        row = [f"`{label}`"]
        added_medians = []
        for kind in (0, 1):
            values = [pair[kind] for pair in pairs]
            base = [pair[kind] for pair in times[baseline_label]]
            added = [v - b for v, b in zip(values, base)]
            row.append(_spread(values))
            row.append("-" if label == baseline_label else _spread(added, "+"))
            added_medians.append(statistics.median(added))
        ok = "-" if label == baseline_label else (
            "yes" if max(added_medians) <= TARGET_S else "NO")
        print("| " + " | ".join(row + [ok]) + " |")


PARTS = {
    "import layerkit.__main__ + compat.runner (argparse included)": """
import time, layerkit
start = time.perf_counter()
import argparse, layerkit.__main__, layerkit.compat.runner
print(time.perf_counter() - start)
""",
    "run(empty script): __main__, alias on/off, compile, exec (median of 50)": """
import statistics, sys, time, layerkit
from layerkit.compat.runner import run
laps = []
for _ in range(50):
    start = time.perf_counter()
    run(sys.argv[1])
    laps.append(time.perf_counter() - start)
print(statistics.median(laps))
""",
    "first `from keras import models, layers` + `import keras.backend as K` via the alias": """
import time, layerkit
from layerkit.compat import keras_alias
keras_alias.install()
start = time.perf_counter()
from keras import models, layers
import keras.backend as K
from tensorflow.keras.layers import Dense
print(time.perf_counter() - start)
""",
}


def print_parts(folder, repeat):
    empty = os.path.join(folder, "empty.py")
    with open(empty, "w") as f:
        f.write("pass\n")
    print(f"\nParts of the overhead, milliseconds, median [min - max] of {repeat} processes\n")
    print("| part | ms |")
    print("|---|---|")
    for label, code in PARTS.items():
        laps = []
        for _ in range(repeat):
            result = subprocess.run([sys.executable, "-c", code, empty], capture_output=True,
                                    text=True, timeout=300, cwd=folder)
            if result.returncode != 0:
                raise RuntimeError(f"{label} failed:\n{result.stderr}")
            laps.append(1000 * float(result.stdout.split()[-1]))
        print(f"| {label} | {statistics.median(laps):.2f} [{min(laps):.2f} - {max(laps):.2f}] |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=9, help="rounds (default 9)")
    parser.add_argument("--parts-only", action="store_true",
                        help="only the table of the overhead's parts")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        if not args.parts_only:
            commands = write_programs(folder)
            print_table(measure(commands, args.repeat, folder), args.repeat)
        print_parts(folder, min(args.repeat, 5))


if __name__ == "__main__":
    main()
