"""Deterministic data sharding for data-parallel `fit`: pure functions, no torch.distributed.

One epoch on `W` ranks with global batch `B`:
1. every rank computes the same order of the `N` samples (`epoch_order`: the identity, or
   one permutation from a seed all ranks share and the epoch number);
2. the order is cut into global batches of `B` (`global_batches`; the last one may be short);
3. each global batch is split contiguously across ranks (`split_batch`, sizes differing by at
   most one, earlier ranks larger), so that the ranks' shards, concatenated in rank order,
   are exactly the global batch: no sample is duplicated or dropped (unlike
   `DistributedSampler`, which pads);
4. each rank's gradient is scaled by `gradient_factor` before DDP averages it, so that an
   uneven split (the short last batch) yields exactly the single-process gradient.

Why the factor: Keras's default loss reduction ("sum_over_batch_size") makes the batch
loss `(1/b) Σ lᵢ`. Rank r's loss is `(1/b_r) Σ_{i∈r} lᵢ`, and DDP averages gradients over
W ranks, so scaling rank r's gradient by `c_r = W·b_r/b` gives
`(1/W) Σ_r c_r (1/b_r) Σ_{i∈r} ∇lᵢ = (1/b) Σ ∇lᵢ`. Since `Σ_r c_r = W`, terms every rank
adds in full (regularization penalties, `add_loss` constants) keep their single-process
weight too. (A loss reduced with "sum" would need `c_r = W`; the built-in losses and
Keras's default reduce per batch size.)

A rank whose share of a batch is empty (a last batch smaller than W) still has to take part
in the gradient all-reduce: it processes a *ghost* shard (the batch's first sample) with
factor 0, and the caller reverts the ghost's effect on metrics and statistics.
"""

from typing import NamedTuple

import numpy as np


class Shard(NamedTuple):
    """One rank's share of one global batch.

    Attributes:
        indices: positions into the dataset (int64 array), in the epoch's order.
        factor: the gradient scale `W·b_r/b` (0.0 for a ghost shard).
        ghost: True when the rank's share is empty and `indices` is a stand-in sample.
        batch_size: `b`, the number of samples in the global batch.
    """

    indices: np.ndarray
    factor: float
    ghost: bool
    batch_size: int


def epoch_order(num_samples, seed=None, epoch=0, shuffle=False):
    """The order in which one epoch visits the samples; identical on every rank.

    Args:
        num_samples: `N`, a non-negative int.
        seed: an int all ranks share (required when `shuffle`).
        epoch: the epoch number; each epoch draws its own permutation.
        shuffle: False gives `0..N-1`.

    Returns:
        An int64 array of length `N`.
    """
    _check_count("epoch_order", "num_samples", num_samples, minimum=0)
    if not shuffle:
        return np.arange(num_samples, dtype=np.int64)
    if seed is None:
        raise ValueError("epoch_order(shuffle=True): give the seed all ranks share, "
                         "received seed=None")
    rng = np.random.default_rng([int(seed), int(epoch)])
    return rng.permutation(num_samples).astype(np.int64)


def global_batches(num_samples, batch_size):
    """Cuts `N` samples into global batches of `batch_size`; the last one may be shorter.

    Returns:
        A list of `(start, stop)` pairs into the epoch order.
    """
    _check_count("global_batches", "num_samples", num_samples, minimum=0)
    _check_count("global_batches", "batch_size", batch_size, minimum=1)
    return [(start, min(start + batch_size, num_samples))
            for start in range(0, num_samples, batch_size)]


def split_batch(batch_len, world_size):
    """Splits one batch of `batch_len` samples contiguously across `world_size` ranks.

    Sizes differ by at most one; earlier ranks take the extra samples (as `np.array_split`).

    Returns:
        A list of `(start, stop)` pairs relative to the batch, one per rank (possibly empty).
    """
    _check_count("split_batch", "batch_len", batch_len, minimum=0)
    _check_count("split_batch", "world_size", world_size, minimum=1)
    base, extra = divmod(batch_len, world_size)
    bounds, start = [], 0
    for rank in range(world_size):
        stop = start + base + (1 if rank < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


def gradient_factor(local_len, batch_len, world_size):
    """`W·b_r/b`: the scale of rank r's gradient that makes DDP's average exact."""
    if batch_len <= 0:
        raise ValueError(f"gradient_factor: batch_len must be positive, received {batch_len}")
    return world_size * local_len / batch_len


def local_bounds(start, stop, world_size, rank):
    """Rank `rank`'s part of the global batch at positions `[start, stop)` of the epoch order.

    Returns:
        `(local_start, local_stop, factor, ghost)`: positions in the epoch order; a ghost
        part is the batch's first position with factor 0.
    """
    _check_rank(world_size, rank)
    local_start, local_stop = split_batch(stop - start, world_size)[rank]
    if local_stop > local_start:
        factor = gradient_factor(local_stop - local_start, stop - start, world_size)
        return start + local_start, start + local_stop, factor, False
    return start, start + 1, 0.0, True


def shard(order, start, stop, world_size, rank):
    """Rank `rank`'s `Shard` of the global batch `order[start:stop]`."""
    lo, hi, factor, ghost = local_bounds(start, stop, world_size, rank)
    return Shard(order[lo:hi], factor, ghost, stop - start)


def epoch_shards(order, batch_size, world_size, rank):
    """Every `Shard` of rank `rank` for one epoch, in step order.

    Args:
        order: the epoch's sample order (`epoch_order`), the same array on every rank.
        batch_size: the global batch size.
        world_size / rank: this process's place in the group.

    Returns:
        A list with one `Shard` per global batch: every rank gets the same number of steps.

    Example:
        >>> [s.indices.tolist() for s in epoch_shards(np.arange(5), 4, 2, 1)]
        [[2, 3], [4]]
    """
    return [shard(order, start, stop, world_size, rank)
            for start, stop in global_batches(len(order), batch_size)]


def _check_count(owner, name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{owner}: {name} must be an int >= {minimum}, received {value!r}")


def _check_rank(world_size, rank):
    _check_count("shard", "world_size", world_size, minimum=1)
    if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or \
            not 0 <= rank < world_size:
        raise ValueError(f"shard: rank must be an int in [0, {world_size}), received {rank!r}")
