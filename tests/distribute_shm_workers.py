"""Worker functions for test_distribute_shm.py (run inside `distribute.launch` processes)."""

import json
import os
import time

import numpy as np
import torch
import torch.distributed as dist

SIZES = (1, 7, 1000, 16384, 16385, 50_001)  # 16384 float32 = one 64 KiB slot: chunking
DTYPES = (torch.float32, torch.float64, torch.int64)


def leftovers():
    """Segment files of this package in /dev/shm."""
    from layerkit.distribute import shared_memory

    return sorted(f for f in os.listdir("/dev/shm") if f.startswith(shared_memory.PREFIX))


def _values(rank, n, dtype, seed):
    generator = torch.Generator().manual_seed(seed * 100 + rank)
    if dtype.is_floating_point:
        return torch.randn(n, generator=generator, dtype=dtype) * 10 ** (seed % 5)
    return torch.randint(-1000, 1000, (n,), generator=generator, dtype=dtype)


def reduce_checks():
    """Shared-memory sums (uneven sizes, chunked, three dtypes, a list of mixed tensors) next
    to gloo's, on each rank; whether the segment file was gone while the group was open."""
    torch.set_num_threads(1)
    from layerkit import distribute
    from layerkit.distribute import shared_memory

    strategy = distribute.MirroredStrategy(timeout=60)
    group = shared_memory.open_group(1)  # the smallest slot (64 KiB): large sizes chunk
    files_while_open = leftovers()
    results = {}
    for seed, (n, dtype) in enumerate((n, d) for n in SIZES for d in DTYPES):
        mine = _values(strategy.rank, n, dtype, seed)
        shared, gloo = mine.clone(), mine.clone()
        group.all_reduce_sum_(shared, what="test values")
        dist.all_reduce(gloo)
        results[(n, str(dtype))] = (shared.numpy(), gloo.numpy())
    divided = _values(strategy.rank, 999, torch.float64, 7)
    group.all_reduce_sum_(divided, what="averaged values", divide=2)
    mixed = [torch.full((3, 2), 1.5 + strategy.rank), torch.tensor(4 + strategy.rank),
             torch.arange(5, dtype=torch.float64)]
    group.all_reduce_sum_list_(mixed, what="mixed tensors")
    gathered = group.all_gather(torch.arange(6.0).view(2, 3) + 10 * strategy.rank, "a gather")
    group.close()
    return dict(results=results, divided=divided.numpy(), mixed=[t.numpy() for t in mixed],
                files_while_open=files_while_open, rank=strategy.rank,
                gathered=gathered.numpy(),
                gradients=ddp_gradients(strategy),
                modes=[replica_modes(strategy, True), replica_modes(strategy, False)])


def _net(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(  # parameter sizes 35, 5, 665, 19, 38, 2: uneven buckets
        torch.nn.Linear(7, 5), torch.nn.Tanh(), torch.nn.Linear(5, 19, bias=True),
        torch.nn.Linear(19, 35), torch.nn.Tanh(), torch.nn.Linear(35, 2)).double()


def ddp_gradients(strategy):
    """Gradients of 3 steps through DDP with small (uneven) buckets: gloo's default
    all-reduce, then the shared-memory hook; returns both."""
    from torch.nn.parallel import DistributedDataParallel

    from layerkit.distribute import shared_memory

    out = {}
    for name in ("gloo", "shared memory"):
        ddp = DistributedDataParallel(_net(), bucket_cap_mb=0.002)  # ~2 KB buckets
        group = None
        if name == "shared memory":
            group = shared_memory.open_group(1)
            ddp.register_comm_hook(group, shared_memory.ddp_hook)
        generator = torch.Generator().manual_seed(strategy.rank)
        grads = []
        for _ in range(3):
            ddp.zero_grad()
            x = torch.randn(6, 7, generator=generator, dtype=torch.float64)
            ddp(x).square().sum().backward()
            grads.append([p.grad.numpy().copy() for p in ddp.parameters()])
        out[name] = grads
        if group is not None:
            group.close()
    return out


def replica_modes(strategy, enable_on_rank_one):
    """`Replica.all_reduce` for a layerkit model under a 2-rank strategy (rank 1 may have
    the shared-memory path switched off: then no rank uses it)."""
    from layerkit import distribute, layers, models
    from layerkit.distribute import replica, shared_memory

    shared_memory.set_enabled(enable_on_rank_one or strategy.rank == 0)
    with strategy.scope():
        model = models.Sequential([layers.Dense(3, input_shape=(4,))])
        model.compile("sgd", "mse")
    bound = replica.Replica(model, strategy.device)
    mode = bound.all_reduce
    stop = distribute.should_stop(strategy.rank == 1)  # through the group when open
    bound.close()
    shared_memory.set_enabled(True)
    return mode, stop, shared_memory.current() is None


def world_of_one_mode():
    """`Replica.all_reduce` in a gloo group of one: no DDP."""
    from layerkit import distribute, layers, models
    from layerkit.distribute import replica

    os.environ.update(RANK="0", WORLD_SIZE="1")
    dist.init_process_group("gloo", rank=0, world_size=1)
    model = models.Sequential([layers.Dense(3, input_shape=(4,))])
    model.compile("sgd", "mse")
    strategy = distribute.MirroredStrategy()
    bound = replica.Replica(model, strategy.device)
    mode = bound.all_reduce
    bound.close()
    return mode


def peer_stalls(folder, hows):
    """For each of `hows`, rank 1 stops taking part once a group is open ('close' its
    group, 'sleep' past the 3 s timeout, 'exit' the process: last); rank 0's sum must
    raise. Rank 0 writes what happened to `folder` (launch reports only the first failing
    rank)."""
    torch.set_num_threads(1)
    from layerkit import distribute

    strategy = distribute.MirroredStrategy(timeout=3)
    results = []
    for how in hows:
        results.append(_stall(strategy, folder, how))
    return results


def _stall(strategy, folder, how):
    from layerkit.distribute import collectives, shared_memory

    group = shared_memory.open_group(1)
    group.all_reduce_sum_(torch.ones(10), what="a first sum")  # both ranks here
    if strategy.rank == 1:
        if how == "exit":
            os._exit(3)
        if how == "close":
            group.close()
        else:
            time.sleep(4)
        return "rank 1 done"
    start = time.monotonic()
    try:
        group.all_reduce_sum_(torch.ones(10), what="the test's values")
        outcome = "no error"
    except collectives.CollectiveError as e:
        outcome = f"CollectiveError: {e}"
    elapsed = time.monotonic() - start
    again = "no error"
    try:  # a failed group stays failed: no second wait
        group.all_reduce_sum_(torch.ones(1), what="after the failure")
    except collectives.CollectiveError as e:
        again = f"CollectiveError: {e}"
    group.close()
    with open(os.path.join(folder, f"{how}.json"), "w") as f:
        json.dump(dict(elapsed=elapsed, outcome=outcome, again=again), f)
    return elapsed


def fit_results():
    """`fit` under a 2-rank strategy (float32), through the shared-memory all-reduce and
    through gloo's: (history, weights, leftover files) of each."""
    torch.set_num_threads(1)
    from layerkit import distribute
    from layerkit.distribute import shared_memory

    strategy = distribute.MirroredStrategy(timeout=60)
    results = []
    for shared in (True, False):
        shared_memory.set_enabled(shared)
        results.append(_fit(strategy))
    return results


def _fit(strategy):
    from layerkit import layers, models

    rng = np.random.default_rng(0)
    x = rng.random((300, 12), dtype=np.float32)
    y = (x.sum(1) > 6).astype("float32")
    with strategy.scope():
        torch.manual_seed(0)
        model = models.Sequential([layers.Dense(16, activation="relu", input_shape=(12,)),
                                   layers.Dense(1, activation="sigmoid")])
        model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
        history = model.fit(x, y, batch_size=40, epochs=2, verbose=0)
    return history.history, [w.detach().numpy() for w in model.weights], leftovers()
