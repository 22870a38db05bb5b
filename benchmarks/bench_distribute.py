"""Data-parallel speed on CPU: 2 processes x 1 thread vs 1 process x 1 thread, strong and weak
scaling, gloo's all-reduce vs the shared-memory one, and the cost of the replica in a world
of one.

Workloads (synthetic, float32):
  MLP      8000 x 784, Dense 300-100-10, SGD, batch 128
  convnet  4000 x 28x28x1, Conv2D 16 (3x3) - MaxPool - Conv2D 32 - MaxPool - Dense 10,
           Adam, batch 64

Systems, alternated within each repeat (samples/s = samples per epoch / median epoch time
after the first):
  one          1 process, 1 thread, plain fit, the workload's batch
  strong-gloo  2 processes (layerkit.distribute.launch), 1 thread each, MirroredStrategy,
               the same global batch (each rank computes half of it); DDP's default
               all-reduce over gloo (`shared_memory.set_enabled(False)`)
  strong-shm   the same through the shared-memory all-reduce (the default on CPU ranks)
  weak-gloo    2 processes, the per-replica batch fixed at the workload's batch: global batch
  weak-shm     = 2 x batch (Keras's distributed guide: scale the global batch with replicas)
  world of one 1 process, 1 thread, a gloo group of one: the built-in step driven by hand
               through the Replica (in a world of one it has no DDP: averaging over one rank
               is the identity) vs the same loop without, alternating blocks in one process

Both clocks are printed: wall (what a quiet 2-core machine shows) and CPU (each rank's CPU
seconds: what it would show if each rank had a core to itself while other work shares the
machine; spinning counts, sleeping in the kernel does not).

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


def epoch_seconds(name, epochs, strategy=None, batch=None):
    """Median (wall, CPU) seconds per epoch after the first (fit under the strategy's scope
    if any)."""
    import contextlib

    from layerkit import callbacks

    torch.set_num_threads(1)
    times = []

    class Clock(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter(), time.process_time()

        def on_epoch_end(self, epoch, logs=None):
            times.append((time.perf_counter() - self.start[0],
                          time.process_time() - self.start[1]))

    x, y = data(name)
    with strategy.scope() if strategy else contextlib.nullcontext():
        net = model(name)
        net.fit(x, y, batch_size=batch or WORKLOADS[name]["batch"], epochs=epochs, verbose=0,
                shuffle=True, callbacks=[Clock()])
    return tuple(statistics.median(t[k] for t in times[1:]) for k in (0, 1))


def two_ranks(name, epochs, scaling, shared):
    """Runs in each of 2 workers: `scaling` 'strong' (the same global batch) or 'weak' (the
    per-replica batch fixed); `shared` picks the shared-memory all-reduce or gloo's."""
    torch.set_num_threads(1)
    from layerkit import distribute
    from layerkit.distribute import shared_memory

    shared_memory.set_enabled(shared)
    batch = WORKLOADS[name]["batch"] * (2 if scaling == "weak" else 1)
    return epoch_seconds(name, epochs, distribute.MirroredStrategy(timeout=600), batch)


def step_loop_seconds(name, steps, blocks=8):
    """CPU seconds per built-in train_step on fixed batches without and with a Replica in a
    gloo group of one, alternating blocks of `steps` steps in this one process (runs in a
    worker); returns the per-block (plain, replica) times."""
    torch.set_num_threads(1)
    from layerkit import distribute
    from layerkit.distribute import replica, sharding

    strategy = distribute.MirroredStrategy(timeout=600)
    x, y = data(name)
    batch = WORKLOADS[name]["batch"]
    net = model(name)
    net.fit(x[:batch], y[:batch], batch_size=batch, epochs=1, verbose=0)  # build, warm up
    part = sharding.Shard(np.arange(batch), 1.0, False, batch)
    batches = [(torch.as_tensor(x[i:i + batch]), torch.as_tensor(y[i:i + batch]))
               for i in range(0, batch * 20, batch)]
    pairs = []
    for _ in range(blocks):
        pair = []
        for through_replica in (False, True):
            bound = replica.Replica(net, strategy.device) if through_replica else None
            start = time.process_time()
            for i in range(steps):
                data_ = batches[i % len(batches)]
                (bound.train_step(data_, part) if bound else net.train_step(data_))
            pair.append((time.process_time() - start) / steps)
            if bound is not None:
                bound.close()
        pairs.append(tuple(pair))
    return pairs


def one_rank_group(name, steps):
    import torch.distributed as dist

    os.environ.update(RANK="0", WORLD_SIZE="1")  # launch(…, 1) set the address and port
    dist.init_process_group("gloo", rank=0, world_size=1)
    return step_loop_seconds(name, steps)


SYSTEMS = [("strong-gloo", "strong", False), ("strong-shm", "strong", True),
           ("weak-gloo", "weak", False), ("weak-shm", "weak", True)]


def measure(name, args):
    """One repeat: samples/s of every system, alternated, by wall and by CPU clock (a
    rank's CPU seconds: the run as if each rank had a core to itself)."""
    from layerkit import distribute

    n = WORKLOADS[name]["n"]
    one = distribute.launch(epoch_seconds, 1, args=(name, args.epochs), timeout=1200)[0]
    rates = {"one": (n / one[0], n / one[1])}
    for system, scaling, shared in SYSTEMS:
        seconds = distribute.launch(two_ranks, 2, args=(name, args.epochs, scaling, shared),
                                    timeout=1200)
        rates[system] = tuple(n / max(s[k] for s in seconds) for k in (0, 1))
    return rates


def _spread(values, scale=1.0, fmt="{:.2f}"):
    values = [v * scale for v in values]
    return (fmt.format(statistics.median(values)) + " [" + fmt.format(min(values)) + ", "
            + fmt.format(max(values)) + "]")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--workloads", nargs="*", default=list(WORKLOADS))
    args = parser.parse_args()
    from layerkit import distribute

    torch.set_num_threads(1)
    print(f"load before: {open('/proc/loadavg').read().split()[:3]}")
    names = ["one"] + [system for system, _, _ in SYSTEMS]
    for name in args.workloads:
        runs = []
        for _ in range(args.repeats):
            rates = measure(name, args)
            runs.append(rates)
            print(f"{name:8s} samples/s wall|cpu " + "  ".join(
                f"{k} {rates[k][0]:.0f}|{rates[k][1]:.0f}" for k in names)
                + f"  load {os.getloadavg()[0]:.2f}", flush=True)
        print(f"{name:8s} speed-up over one process, median [min, max] of {args.repeats}:")
        for system in names[1:]:
            print(f"    {system:12s} wall {_spread([r[system][0] / r['one'][0] for r in runs])}x"
                  f"   cpu {_spread([r[system][1] / r['one'][1] for r in runs])}x")
        pairs = distribute.launch(one_rank_group, 1, args=(name, args.steps))[0]
        print(f"    replica in a world of one (no DDP): step {_spread([p for p, _ in pairs], 1e3)}"
              f" ms, overhead {_spread([r / p - 1 for p, r in pairs], 100, '{:+.1f}')} % "
              f"(CPU clock, {len(pairs)} alternating blocks of {args.steps} steps)", flush=True)
    print(f"load after: {open('/proc/loadavg').read().split()[:3]}")


if __name__ == "__main__":
    main()
