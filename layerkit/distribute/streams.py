"""Sharding streams (generators, `Sequence`s, DataLoaders): every rank iterates the same
stream of *global* batches and keeps its contiguous part of each.

Who owns what: `data_parallel` wraps a stream's epoch iterator with the functions here; the
arithmetic of parts and gradient factors is `sharding`'s (one global batch of `b` samples is
positions `[0, b)`), so a stream's batches are split and weighted exactly as arrays' are.
Here:
- `batch_len` / `take_rows`: the samples of one batch as the step takes it (`x`, `(x,)`,
  `(x, y)`, `(x, y, sample_weight)`; tensors, sparse tensors, lists, tuples, dicts);
- `signature` / `check_alike`: the cheap check that every rank's stream is the same stream
  (the number of batches per epoch, and the shapes and a checksum of each epoch's first
  batch), raising the same error on every rank when they are not;
- `agreed`: for a stream of unknown length (a generator without `steps`), every rank
  confirms each step that it holds a batch of the same size, so that all ranks end together
  instead of one waiting for the others at a collective.

The requirement, which only the user can meet: the stream yields the same batches in the
same order on every rank (a generator or `Sequence` seeded alike on every rank; the engine
makes torch's, numpy's and Python's global generators alike at the start of `fit`).
"""

import hashlib
import warnings
from typing import NamedTuple

import torch

from . import collectives

_END = object()


def batch_len(data):
    """The number of samples in a batch (its first tensor's first dimension)."""
    for tensor in _leaves(data):
        return int(tensor.shape[0])
    raise ValueError(f"a batch holds no tensor, received {type(data).__name__}")


def take_rows(data, start, stop):
    """Rows `[start, stop)` of every tensor in `data`, keeping its structure."""
    if data is None:
        return None
    if isinstance(data, torch.Tensor):
        return _rows(data, start, stop)
    if isinstance(data, dict):
        return {key: take_rows(value, start, stop) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return type(data)(take_rows(value, start, stop) for value in data)
    raise TypeError(f"cannot take rows of {type(data).__name__} in a batch; expected tensors "
                    "in tuples, lists or dicts")


def _rows(tensor, start, stop):
    if tensor.layout == torch.sparse_csr:
        crow = tensor.crow_indices()
        lo, hi = int(crow[start]), int(crow[stop])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "invariant checks disabled"
            return torch.sparse_csr_tensor(
                crow[start:stop + 1] - lo, tensor.col_indices()[lo:hi],
                tensor.values()[lo:hi], size=(stop - start,) + tuple(tensor.shape[1:]),
                check_invariants=False)
    if tensor.layout == torch.sparse_coo:
        return tensor.index_select(0, torch.arange(start, stop, device=tensor.device))
    return tensor[start:stop]


def _leaves(data):
    if isinstance(data, torch.Tensor):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from _leaves(value)
    elif isinstance(data, (list, tuple)):
        for value in data:
            yield from _leaves(value)


class Signature(NamedTuple):
    """What every rank's stream must agree on at the start of an epoch."""

    num_batches: object  # int, or None for a stream of unknown length
    shapes: tuple  # ((shape, dtype), ...) of the epoch's first batch
    checksum: str  # of the first batch's bytes


def signature(data, num_batches):
    """The `Signature` of an epoch whose first batch is `data` (hashes its bytes: cheap
    next to a training step on that batch)."""
    digest = hashlib.blake2b(digest_size=8)
    shapes = []
    for tensor in _leaves(data):
        shapes.append((tuple(tensor.shape), str(tensor.dtype)))
        if tensor.layout == torch.sparse_coo:
            tensor = tensor.coalesce().values()
        elif tensor.layout != torch.strided:
            tensor = tensor.values()
        flat = tensor.detach().contiguous().reshape(-1).cpu()
        digest.update(flat.view(torch.uint8).numpy().tobytes())
    return Signature(num_batches, tuple(shapes), digest.hexdigest())


_FIELDS = (("num_batches", "number of batches per epoch"),
           ("shapes", "first batch's shapes"),
           ("checksum", "first batch's values (checksum)"))


def check_alike(mine, source, epoch, owner):
    """Raises the same `ValueError` on every rank when some rank's `Signature` differs from
    rank 0's (one small collective).

    Args:
        mine: this rank's `Signature`.
        source: the stream's name, for the message (`'generator'`, `'MySequence'`).
        epoch: the epoch being checked, for the message.
        owner: who asks (the strategy's class name).
    """
    everyone = collectives.all_gather_object(tuple(mine), what=f"{source}'s first batch")
    first = Signature(*everyone[0])
    for rank, theirs in enumerate(everyone[1:], 1):
        theirs = Signature(*theirs)
        for field, words in _FIELDS:
            if getattr(theirs, field) != getattr(first, field):
                raise ValueError(
                    f"{owner}: every rank must iterate the same {source} (each takes its part "
                    f"of every global batch), but at epoch {epoch} rank {rank}'s {words} "
                    f"differs from rank 0's: {getattr(theirs, field)} vs "
                    f"{getattr(first, field)}. {_ADVICE}"
                )


_ADVICE = ("Make the stream yield the same batches in the same order on every rank (seed its "
           "random generators alike, e.g. np.random.default_rng(seed) with one seed for all "
           "ranks), or pass arrays, which are sharded for you")


def agreed(pairs, source, owner):
    """`pairs` (`(step, batch)`) of a stream of unknown length, each confirmed by every rank:
    one small all-reduce per step compares the ranks' batch sizes (0: the stream ended), so
    all ranks end at the same step, or all raise the same `ValueError`."""
    world, rank = collectives.world_size(), collectives.rank()
    pairs = iter(pairs)
    count = 0
    while True:
        item = next(pairs, _END)
        sizes = torch.zeros(world, dtype=torch.int64)
        sizes[rank] = 0 if item is _END else batch_len(item[1])
        collectives.all_reduce_sum_([sizes], what=f"the batch sizes of {source}")
        if bool((sizes != sizes[0]).any()):
            raise ValueError(_disagreement(sizes.tolist(), count, source, owner))
        if item is _END:
            return
        count += 1
        yield item


def _disagreement(sizes, count, source, owner):
    rank = next(r for r, size in enumerate(sizes) if size != sizes[0])
    if 0 in (sizes[0], sizes[rank]):
        ended, going = (0, rank) if sizes[0] == 0 else (rank, 0)
        what = (f"rank {ended}'s {source} ended after {count} batches while rank {going}'s "
                f"yielded another")
    else:
        what = (f"batch {count} of {source} has {sizes[rank]} samples on rank {rank} and "
                f"{sizes[0]} on rank 0")
    return (f"{owner}: every rank must iterate the same {source} (each takes its part of every "
            f"global batch), but {what}. {_ADVICE}")
