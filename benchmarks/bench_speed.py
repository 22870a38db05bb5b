"""Issue 17's speed suite: layerkit vs a hand-written PyTorch loop vs Keras 3 (torch
backend), in one run.

Workloads (data from speed_data.py, systems from speed_systems.py):
  imdb-kfold     IMDB MLP 10000-16-16-1, RMSprop, bs 512: one `fit(epochs=1)` call, as a
                 k-fold loop or per-epoch calls make it, vs one torch epoch
  reuters-kfold  Reuters MLP 10000-64-64-46, the same
  imdb-val       IMDB MLP with validation_data (a third held out): an epoch with its
                 validation pass (the second epoch of a fit(epochs=2) call)
  lstm           Embedding(10000, 32) + LSTM(32), RMSprop, bs 128, Zipf word ids, reviews
                 of varied length pre-padded to 500; layerkit with each flush-to-zero
                 policy (auto, on, off)
  convnet        MNIST convnet 32-64-64, bs 64, on blurred digit-like strokes; the same
                 three policies
  boston         13-64-64-1, batch_size=1, RMSprop, mse + mae
  fashion        784-300-100-10, SGD(0.01, momentum 0.9, nesterov), bs 32
  text           Tokenizer + pad_sequences on Zipf text: layerkit vs keras-preprocessing

Each system lives in its own worker process (torch loop, layerkit, Keras 3), which builds
the data and the models once per workload and warms them up (first call, timed apart);
the driver then asks for rounds in rotating order (one round of every system and variant,
the next round starting one further), so a busy minute on a shared machine hits all of
them. Only one worker computes at a time. Reported: median seconds per round with the
[min - max] spread, and the median of each round's ratio to the torch loop with its
spread, and /proc/loadavg before and after each workload.

    python benchmarks/bench_speed.py                  # everything, 3 rounds (~4 min)
    python benchmarks/bench_speed.py --only boston fashion --rounds 5
    python benchmarks/bench_speed.py --quick          # smoke run: tiny data, 1 round
    python benchmarks/bench_speed.py --threads 1 --clock cpu   # a busy machine
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))
os.environ.setdefault("KERAS_BACKEND", "torch")

import speed_systems  # noqa: E402

TARGETS = {"text": 1.00, "imdb-kfold": 1.10, "reuters-kfold": 1.10, "imdb-val": 1.10, "lstm": 1.05,
           "convnet": 1.00, "boston": 0.80, "fashion": 0.90}
KERAS_JAX = {"boston": 0.61, "fashion": 0.76}  # issue 17's measurement on this machine


# --------------------------------------------------------------------- worker side
def worker(system, threads=None):
    """Answers JSON commands on stdin: setup / round / loops / drop."""
    if threads:
        import torch

        torch.set_num_threads(threads)
    reply = sys.stdout
    sys.stdout = sys.stderr  # library prints must not break the protocol
    sessions = {}
    for line in sys.stdin:
        cmd = json.loads(line)
        name = cmd.get("workload")
        try:
            if cmd["op"] == "setup":
                s = sessions[name] = speed_systems.session(system, name, cmd["quick"])
                out = None if s is None else {"variants": list(s.variants),
                                              "first_call": s.first_call}
            elif cmd["op"] == "round":
                out = sessions[name].round(cmd["variant"])
            elif cmd["op"] == "loops":
                out = sessions[name].loops()
            else:
                out = sessions.pop(name, None) and None
        except Exception as e:  # reported by the driver with the worker's traceback
            import traceback

            out = {"error": f"{type(e).__name__}: {e}\n{traceback.format_exc()}"}
        reply.write(json.dumps(out) + "\n")
        reply.flush()


# --------------------------------------------------------------------- driver side
class Worker:
    def __init__(self, system, threads=None):
        self.system = system
        extra = ["--threads", str(threads)] if threads else []
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker",
                                      system] + extra, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def ask(self, **cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.system} worker died (see its stderr above)")
        out = json.loads(line)
        if isinstance(out, dict) and "error" in out:
            raise RuntimeError(f"{self.system} worker: {out['error']}")
        return out

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def run_workload(workers, name, quick, rounds):
    """{(system, variant): [round results]}, plus the warm-up (first) calls."""
    entries, first = [], {}
    for system, w in workers.items():
        info = w.ask(op="setup", workload=name, quick=quick)
        if info is not None:
            entries += [(system, v) for v in info["variants"]]
            first.update({(system, v): s for v, s in info["first_call"].items()})
    results = {e: [] for e in entries}
    for r in range(rounds):
        shift = r % len(entries)
        for system, variant in entries[shift:] + entries[:shift]:
            results[(system, variant)].append(
                workers[system].ask(op="round", workload=name, variant=variant))
    loops = None
    if speed_systems.SPECS[name].get("calls") and "layerkit" in workers:
        loops = workers["layerkit"].ask(op="loops", workload=name)
    for w in workers.values():
        w.ask(op="drop", workload=name)
    return results, first, loops


def _spread(values, fmt=".3f"):
    return (f"{statistics.median(values):{fmt}} [{min(values):{fmt}}-{max(values):{fmt}}]"
            if values else "-")


def _label(system, variant, text=False):
    names = {"torch": "torch loop", "layerkit": "layerkit",
             "keras": "keras-preprocessing 1.1.2" if text else "Keras 3 (torch)"}
    return names[system] + (f" {variant}" if variant else "")


def print_workload(name, results, first, loops, clock="seconds"):
    """One table per workload: a row per system/variant, ratios to the torch loop
    (`clock`: "seconds" for wall time, "cpu" for the worker's CPU time)."""
    base = results.get(("torch", "")) or results.get(("keras", ""))
    base_name = "torch loop" if ("torch", "") in results else "keras-preprocessing"
    print(f"\n### {name}  (ratios vs {base_name}; target layerkit <= "
          f"{TARGETS.get(name, '-')}x" + (f"; Keras 3 on JAX: {KERAS_JAX[name]}x"
                                          if name in KERAS_JAX else "") + ")\n")
    unit = "CPU s" if clock == "cpu" else "s"
    print(f"| system | {unit}/round median [min-max] | ratio median [min-max] | {unit} "
          "outside the epoch | first call wall s (build included) | final metric |")
    print("|---|---|---|---|---|---|")
    outside, epoch_key = ("outside_cpu", "epoch_cpu") if clock == "cpu" else ("outside", "epoch")
    for (system, variant), rows in results.items():
        seconds = [r[clock] for r in rows]
        ratios = [r[clock] / b[clock] for r, b in zip(rows, base)]
        print(f"| {_label(system, variant, name == 'text')} | {_spread(seconds)} | "
              f"{_spread(ratios, '.2f')} | {_spread([r[outside] for r in rows])} | "
              f"{first[(system, variant)]:.3f} | {rows[-1]['metric']:.4g} |")
    if loops:
        rows = next(v for (system, _), v in results.items() if system == "layerkit")
        epoch = statistics.median(r[epoch_key] for r in rows)
        parts = [f"fit {statistics.median(r[outside] for r in rows):.4f}"]
        parts += [f"{k} {v['call'] - v['loop']:.4f} (wall)" for k, v in loops.items()]
        print(f"\nlayerkit {clock} outside the batches per call: {', '.join(parts)} "
              f"(one epoch: {epoch:.3f} s; bar 2% = {0.02 * epoch:.4f} s)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", default=list(speed_systems.SPECS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--systems", nargs="*", default=["torch", "layerkit", "keras"])
    parser.add_argument("--quick", action="store_true", help="tiny data, one round")
    parser.add_argument("--threads", type=int, help="torch threads per worker (default: "
                        "torch's, 2 here)")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="cpu: the workers' CPU seconds, steadier than wall time on a "
                        "busy machine; use it with --threads 1 (pool threads spin)")
    parser.add_argument("--worker")
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.threads)
    rounds = 1 if args.quick else args.rounds
    clock = "cpu" if args.clock == "cpu" else "seconds"
    workers = {s: Worker(s, args.threads) for s in args.systems}
    try:
        for name in args.only:
            before = loadavg()
            results, first, loops = run_workload(workers, name, args.quick, rounds)
            print_workload(name, results, first, loops, clock)
            print(f"\nloadavg before {before}, after {loadavg()}", flush=True)
    finally:
        for w in workers.values():
            w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
