"""Data-parallel speed on CPU: 2 processes x 1 thread vs 1 process x 1 thread, and the cost
of the DDP replica in a world of one.

Workloads (synthetic, float32):
  MLP      8000 x 784, Dense 300-100-10, SGD, global batch 128
  convnet  4000 x 28x28x1, Conv2D 16 (3x3) - MaxPool - Conv2D 32 - MaxPool - Dense 10,
           Adam, global batch 64

Systems, alternated within each repeat:
  one    1 process, 1 thread, plain fit
  two    2 processes (layerkit.distribute.launch, gloo), 1 thread each, fit under
         MirroredStrategy with the same global batch
  ddp1   1 process, 1 thread, a gloo group of one: the built-in step driven by hand through
         the DDP Replica (forward hook, gradient hooks, all-reduce) vs the same loop without

    python benchmarks/bench_distribute.py [--repeats 3] [--epochs 3]
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

WORKLOADS = {"MLP": dict(n=8000, batch=128), "convnet": dict(n=4000, batch=64)}


def data(name):
    rng = np.random.default_rng(0)
    n = WORKLOADS[name]["n"]
    x = rng.random((n, 784) if name == "MLP" else (n, 28, 28, 1), dtype=np.float32)
    y = (x.reshape(n, -1) @ rng.normal(size=784).astype(np.float32) > 0).astype("int64")
    return x, y


def model(name):
    from layerkit import layers, models

    torch.manual_seed(0)
    if name == "MLP":
        net = models.Sequential([layers.Dense(300, activation="relu", input_shape=(784,)),
                                 layers.Dense(100, activation="relu"), layers.Dense(10)])
        net.compile("sgd", "sparse_categorical_crossentropy")
        return net
    net = models.Sequential([
        layers.Conv2D(16, 3, activation="relu", input_shape=(28, 28, 1)), layers.MaxPooling2D(),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(), layers.Flatten(),
        layers.Dense(10)])
    net.compile("adam", "sparse_categorical_crossentropy")
    return net


def epoch_seconds(name, epochs, strategy=None):
    """Median seconds per epoch after the first (fit under the strategy's scope if any)."""
    import contextlib

    from layerkit import callbacks

    torch.set_num_threads(1)
    times = []

    class Clock(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)

    x, y = data(name)
    with strategy.scope() if strategy else contextlib.nullcontext():
        net = model(name)
        net.fit(x, y, batch_size=WORKLOADS[name]["batch"], epochs=epochs, verbose=0,
                shuffle=True, callbacks=[Clock()])
    return statistics.median(times[1:])


def two_ranks(name, epochs):
    """Runs in each of 2 workers."""
    torch.set_num_threads(1)
    from layerkit import distribute

    return epoch_seconds(name, epochs, distribute.MirroredStrategy(timeout=600))


def step_loop_seconds(name, steps, through_replica):
    """Seconds per built-in train_step on fixed batches, optionally through a Replica in a
    gloo group of one (runs in a worker)."""
    torch.set_num_threads(1)
    from layerkit import distribute
    from layerkit.distribute import replica, sharding

    strategy = distribute.MirroredStrategy(timeout=600)
    x, y = data(name)
    batch = WORKLOADS[name]["batch"]
    net = model(name)
    net.fit(x[:batch], y[:batch], batch_size=batch, epochs=1, verbose=0)  # build, warm up
    bound = replica.Replica(net, strategy.device) if through_replica else None
    part = sharding.Shard(np.arange(batch), 1.0, False, batch)
    batches = [(torch.as_tensor(x[i:i + batch]), torch.as_tensor(y[i:i + batch]))
               for i in range(0, batch * 20, batch)]
    start = time.perf_counter()
    for i in range(steps):
        data_ = batches[i % len(batches)]
        (bound.train_step(data_, part) if bound else net.train_step(data_))
    return (time.perf_counter() - start) / steps


def one_rank_group(name, steps, through_replica):
    import torch.distributed as dist

    os.environ.update(RANK="0", WORLD_SIZE="1")  # launch(…, 1) set the address and port
    dist.init_process_group("gloo", rank=0, world_size=1)
    return step_loop_seconds(name, steps, through_replica)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    from layerkit import distribute

    torch.set_num_threads(1)
    print(f"load before: {open('/proc/loadavg').read().split()[:3]}")
    for name in WORKLOADS:
        ratios, overheads = [], []
        for _ in range(args.repeats):
            one = distribute.launch(epoch_seconds, 1, args=(name, args.epochs), timeout=1200)[0]
            two = max(distribute.launch(two_ranks, 2, args=(name, args.epochs), timeout=1200))
            plain = distribute.launch(one_rank_group, 1, args=(name, args.steps, False))[0]
            ddp = distribute.launch(one_rank_group, 1, args=(name, args.steps, True))[0]
            ratios.append(one / two)
            overheads.append(ddp / plain - 1)
            print(f"{name:8s} one {one:7.3f} s/epoch  two {two:7.3f} s/epoch  "
                  f"speed-up {one / two:5.2f}x   step {plain * 1e3:7.3f} ms  "
                  f"ddp1 {ddp * 1e3:7.3f} ms  (+{(ddp / plain - 1) * 100:5.1f}%)", flush=True)
        print(f"{name:8s} speed-up median {statistics.median(ratios):.2f}x "
              f"[{min(ratios):.2f}, {max(ratios):.2f}]; DDP world-1 overhead median "
              f"{statistics.median(overheads) * 100:+.1f}% "
              f"[{min(overheads) * 100:+.1f}, {max(overheads) * 100:+.1f}]")
    print(f"load after: {open('/proc/loadavg').read().split()[:3]}")


if __name__ == "__main__":
    main()
