"""What the per-batch stop agreement costs under data parallelism (2 CPU processes x 1
thread, gloo): with a callback that overrides `on_train_batch_end`, `fit` OR-reduces
`stop_training` after every batch so that a stop asked on one rank stops all ranks at that
batch.

Workload: the MLP of bench_distribute (8000 x 784, Dense 300-100-10, SGD, global batch 128:
63 steps an epoch), float32. Systems, alternated within each repeat on the same 2 ranks
(ms/step = median epoch wall time after the first / steps):
  no-hooks     no batch-hook callback: the flag is agreed after each epoch's first batch
  hooks        a no-op on_train_batch_end callback: batch logs + the per-batch OR-reduce
  hooks-local  the same callback with the per-batch OR-reduce patched out (what the
               agreement costs = hooks - hooks-local)
Also the bare collective, `reduction.should_stop` called 2000 times: outside `fit` (gloo)
and inside it, in `on_train_begin` (while the replica is open: its same-host shared-memory
group on CPU ranks).

    python benchmarks/bench_batch_stop.py [--repeats 5] [--epochs 3]
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SYSTEMS = ("no-hooks", "hooks", "hooks-local")
N, BATCH = 8000, 128


def _model():
    from layerkit import layers, models

    torch.manual_seed(0)
    net = models.Sequential([layers.Dense(300, activation="relu", input_shape=(784,)),
                             layers.Dense(100, activation="relu"), layers.Dense(10)])
    net.compile("sgd", "sparse_categorical_crossentropy")
    return net


def _fit_ms_per_step(strategy, system, epochs):
    from layerkit import callbacks
    from layerkit.distribute import data_parallel

    class Noop(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            pass

    class Timer(callbacks.Callback):
        times = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            Timer.times.append(time.perf_counter() - self.start)

    rng = np.random.default_rng(0)
    x = rng.random((N, 784), dtype=np.float32)
    y = (x @ rng.normal(size=784).astype(np.float32) > 0).astype("int64")
    with strategy.scope():
        net = _model()
    original = data_parallel.DataParallel.end_train_batch
    if system == "hooks-local":
        data_parallel.DataParallel.end_train_batch = \
            lambda self, flag, hooks: original(self, flag, False)
    Timer.times = []
    try:
        cbs = [Timer()] + ([Noop()] if system != "no-hooks" else [])
        net.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0, shuffle=False,
                callbacks=cbs)
    finally:
        data_parallel.DataParallel.end_train_batch = original
    steps = -(-N // BATCH)
    return 1000 * statistics.median(Timer.times[1:]) / steps


def _collective_us(calls=2000):
    from layerkit.distribute import reduction

    reduction.should_stop(False)
    start = time.perf_counter()
    for _ in range(calls):
        reduction.should_stop(False)
    return 1e6 * (time.perf_counter() - start) / calls


def _collective_in_fit_us(strategy):
    from layerkit import callbacks

    class Measure(callbacks.Callback):
        us = None

        def on_train_begin(self, logs=None):
            Measure.us = _collective_us()

    x = np.zeros((64, 784), dtype=np.float32)
    with strategy.scope():
        net = _model()
    net.fit(x, np.zeros(64, dtype="int64"), batch_size=64, epochs=1, verbose=0,
            callbacks=[Measure()])
    return Measure.us


def rank_main(repeats, epochs):
    torch.set_num_threads(1)
    from layerkit import distribute

    strategy = distribute.MirroredStrategy(timeout=120)
    results = {name: [] for name in SYSTEMS}
    for _ in range(repeats):
        for name in SYSTEMS:
            results[name].append(_fit_ms_per_step(strategy, name, epochs))
    results["collective_us"] = [_collective_us() for _ in range(repeats)]
    results["collective_in_fit_us"] = [_collective_in_fit_us(strategy) for _ in range(repeats)]
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    from layerkit import distribute

    with open("/proc/loadavg") as f:
        print("load before:", f.read().strip())
    results = distribute.launch(rank_main, 2, args=(args.repeats, args.epochs), timeout=900)[0]
    print(f"2 ranks x 1 thread, MLP, global batch {BATCH}, {-(-N // BATCH)} steps/epoch; "
          f"rank 0's numbers, {args.repeats} alternated repeats")
    print(f"{'system':<14}{'median ms/step':>16}{'min':>9}{'max':>9}")
    for name in SYSTEMS:
        values = results[name]
        print(f"{name:<14}{statistics.median(values):>16.3f}{min(values):>9.3f}"
              f"{max(values):>9.3f}")
    paired = [h - local for h, local in zip(results["hooks"], results["hooks-local"])]
    print(f"per-batch OR-reduce (hooks - hooks-local, paired): median "
          f"{1000 * statistics.median(paired):.0f} us/step, range "
          f"[{1000 * min(paired):.0f}, {1000 * max(paired):.0f}]")
    for key, where in (("collective_us", "outside fit"), ("collective_in_fit_us", "in fit")):
        us = results[key]
        print(f"bare reduction.should_stop {where}: median {statistics.median(us):.1f} "
              f"us/call, range [{min(us):.1f}, {max(us):.1f}]")
    with open("/proc/loadavg") as f:
        print("load after:", f.read().strip())


if __name__ == "__main__":
    main()
