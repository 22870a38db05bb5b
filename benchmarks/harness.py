"""Shared benchmark harness: each (workload, runner) pair runs in its own subprocess.

A benchmark script defines `make_data(name)` and one `run_<runner>(name, x, y, epochs)` per
runner returning (epoch_seconds, final_metric), then calls `main(...)`. Pairs run one
after the other, so timings do not compete for the cores, and peak memory (the peak RSS
of the training, above the RSS once data and libraries are loaded) belongs to the pair. Reported: median epoch seconds over
epochs 2..N (epoch 1 warms up) and ratios against the plain PyTorch loop and Keras 3.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time


def epoch_timer(base_class):
    """A callback class (for layerkit or Keras) that records each epoch's seconds."""

    class EpochTimer(base_class):
        def __init__(self):
            super().__init__()
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self._start)

    return EpochTimer()


def _child(module, name, runner, epochs):
    x, y = module.make_data(name)
    import torch  # noqa: F401  (imports count in the baseline, not the workload)

    if runner.startswith("keras"):
        os.environ["KERAS_BACKEND"] = "torch"
        import keras  # noqa: F401
    else:
        import layerkit  # noqa: F401
    base = _reset_peak_rss()
    times, metric = getattr(module, "run_" + runner.replace("-", "_"))(name, x, y, epochs)
    peak = _peak_rss_kb()
    print(json.dumps({"times": times, "metric": float(metric), "mem_mb": (peak - base) / 1024}))


def _status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _reset_peak_rss():
    """Resets the peak-RSS mark (Linux clear_refs), so the data generation before the
    workload does not hide the workload's own peak; returns the current RSS in kB."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return _status_kb("VmRSS")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _peak_rss_kb():
    try:
        return _status_kb("VmHWM")
    except (OSError, KeyError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(script, name, runner, epochs):
    out = subprocess.run([sys.executable, script, "--child", name, runner, str(epochs)],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{name}/{runner} failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["median"] = statistics.median(result["times"][1:] or result["times"])
    return result


def _interleaved(script, name, epochs, repeat):
    """Runs torch, layerkit and Keras `repeat` times in rotating order (a slow minute on a
    shared machine then hits every runner) and keeps each runner's median round."""
    runners = ["torch", "layerkit", "keras"]
    rounds = {r: [] for r in runners}
    for i in range(repeat):
        for runner in runners[i % 3:] + runners[:i % 3]:
            rounds[runner].append(measure(script, name, runner, epochs))
    return {r: sorted(v, key=lambda m: m["median"])[len(v) // 2] for r, v in rounds.items()}


def row(name, r):
    t, lk, k = r["torch"]["median"], r["layerkit"]["median"], r["keras"]["median"]
    return (f"| {name} | {t:.3f} | {lk:.3f} | {k:.3f} | {lk / t:.2f}x | {lk / k:.2f}x | "
            f"{r['torch']['metric']:.3f} / {r['layerkit']['metric']:.3f} / "
            f"{r['keras']['metric']:.3f} |")


HEADER = ("| workload | torch loop s/epoch | layerkit s/epoch | Keras 3 s/epoch | "
          "layerkit / torch | layerkit / Keras 3 | final metric torch / layerkit / Keras |\n"
          "|---|---|---|---|---|---|---|")


def main(module, script, workloads, extra=None):
    """Parses the command line; runs a child or the whole table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", nargs="*", default=list(workloads))
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds of the three runners, interleaved; medians are reported")
    parser.add_argument("--child", nargs=3)
    args = parser.parse_args()
    if args.child:
        _child(module, args.child[0], args.child[1], int(args.child[2]))
        return
    print(HEADER, flush=True)
    for name in args.only:
        results = _interleaved(script, name, args.epochs, args.repeat)
        print(row(name, results), flush=True)
        if extra is not None:
            extra(name, results, lambda runner: measure(script, name, runner, args.epochs))
