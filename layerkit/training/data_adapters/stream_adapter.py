"""StreamAdapter: batches from generators, `Sequence`s, image iterators, torch Datasets and
DataLoaders.

Who owns what: `array_adapter` handles in-memory arrays; this adapter handles data that
arrives batch by batch. It checks and converts each yielded batch (`unpack_batch`: its
structure, sample counts, NaN / inf) to `(x, y, sample_weight)` device tensors and knows
its length when it has one. A Python generator is one endless stream:
with `steps_per_epoch`, each epoch takes the next `steps` batches (as tf.keras does).
`workers` with `use_multiprocessing=True` load a Sequence's batches in DataLoader worker
processes; without multiprocessing batches are loaded in the main process.
"""

import itertools

import numpy as np
import torch

from ... import config, devices
from ...utils.sequence import Sequence
from .. import convert
from .arrays import csr_to_torch, expand_rank1, is_pandas, is_sparse


def is_stream(x):
    """True for data that yields whole batches (not an in-memory array)."""
    if isinstance(x, (np.ndarray, torch.Tensor, list, tuple, dict)) or is_sparse(x):
        return False
    if is_pandas(x):
        return False
    return (isinstance(x, Sequence) or hasattr(x, "__next__")
            or isinstance(x, (torch.utils.data.Dataset, torch.utils.data.DataLoader))
            or (hasattr(x, "__getitem__") and hasattr(x, "__len__")))


def _to_device(value, what, device):
    """One yielded array (any numpy layout, list, tensor, sparse) as a checked tensor on
    `device`; copied on the host only when its dtype or layout is not one torch can use as
    it is, then moved by `devices.to_device` (pinned, non-blocking to CUDA)."""
    if value is None:
        return None
    if isinstance(value, dict):
        return {k: _to_device(v, f"{what}[{k!r}]", device) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and value and hasattr(value[0], "shape"):
        # several model inputs / outputs
        return [_to_device(v, f"{what}[{i}]", device) for i, v in enumerate(value)]
    host = convert.as_host(value, what)
    if is_sparse(host):
        return csr_to_torch(host, device)
    if isinstance(host, np.ndarray):
        host = convert.rows_to_tensor(host, what)
    return devices.to_device(host, device)


def unpack_batch(batch, source_name, index, device=None):
    """Checks one yielded batch and converts it to (x, y, sample_weight) tensors on
    `device` (None: `config.device()`).

    Raises:
        ValueError: when the batch is not `(x, y)` or `(x, y, sample_weight)` (or `x` alone
            for predict), naming the source and the batch index.
    """
    if isinstance(batch, (np.ndarray, torch.Tensor)):
        batch = (batch,)
    if not isinstance(batch, (tuple, list)) or not 1 <= len(batch) <= 3:
        raise ValueError(
            f"{source_name} yielded batch {index} of type {type(batch).__name__}; expected a "
            "tuple (x, y) or (x, y, sample_weight)"
        )
    x, y, sw = (tuple(batch) + (None, None))[:3]
    n = None if x is None else _batch_len(x)
    if not n:
        raise ValueError(f"{source_name} yielded an empty batch {index}")
    for name, value in (("y", y), ("sample_weight", sw)):
        if value is not None and _batch_len(value) != n:
            raise ValueError(
                f"{source_name} yielded batch {index} with {n} samples in x but "
                f"{_batch_len(value)} in {name}"
            )
    where = f"of batch {index} from {source_name}"
    device = config.device() if device is None else device
    x, y = _to_device(x, f"x {where}", device), _to_device(y, f"y {where}", device)
    sw = _to_device(sw, f"sample_weight {where}", device)
    if sw is not None and tuple(sw.shape) not in ((n,), (n, 1)):
        raise ValueError(
            f"sample_weight {where} must have shape ({n},) or ({n}, 1), one weight per "
            f"sample; received shape {tuple(sw.shape)}"
        )
    return x, y, sw


def _batch_len(value):
    if isinstance(value, dict):
        value = next(iter(value.values()))
    if isinstance(value, (list, tuple)) and value and hasattr(value[0], "shape"):
        value = value[0]
    return len(value)


class StreamAdapter:
    """Epoch-by-epoch batches from a generator, Sequence, Dataset or DataLoader.

    Args:
        data: the user's source.
        batch_size: used only for a map-style torch Dataset of single samples.
        shuffle: shuffle a Sequence's batch order / a Dataset's samples each epoch.
        workers / use_multiprocessing: DataLoader worker processes for Sequences.
        input_shapes: the model's input shapes, for `expand_rank1` (None: unknown).
        device: where batches go (None: `config.device()`; the engine passes the model's).
    """

    complete = False  # first_batch() is one batch of many

    def __init__(self, data, batch_size=32, shuffle=False, workers=1,
                 use_multiprocessing=False, input_shapes=None, device=None):
        self.data = data
        self.input_shapes = input_shapes
        self.device = config.device() if device is None else torch.device(device)
        self.name = type(data).__name__
        self._first = None
        if isinstance(data, torch.utils.data.Dataset) and not isinstance(data, Sequence):
            self.loader = torch.utils.data.DataLoader(data, batch_size=batch_size,
                                                      shuffle=bool(shuffle))
        elif isinstance(data, torch.utils.data.DataLoader):
            self.loader = data
        elif hasattr(data, "__getitem__") and hasattr(data, "__len__"):
            self.loader = _sequence_loader(data, shuffle, workers, use_multiprocessing)
        else:
            self.loader = None  # a generator: one endless stream
            self._stream = iter(data)

    def num_batches(self, steps=None, continues=True):
        """Batches per epoch: `steps` when given, else one pass (None for a generator)."""
        if steps is not None:
            return steps
        return len(self.loader) if self.loader is not None else None

    def first_batch(self):
        """The first batch (kept and replayed), for checks before training."""
        if self._first is None:
            if self.loader is not None:
                self._first = self._unpack(next(iter(self.loader)), 0)
            else:
                try:
                    raw = next(self._stream)
                except StopIteration:
                    raise ValueError(f"{self.name} yielded no batches") from None
                self._stream = itertools.chain([raw], self._stream)
                self._first = self._unpack(raw, 0)
        return self._first

    def epoch(self, steps=None, continues=True):
        """Iterator over this epoch's batches (device tensors): one pass, or `steps`
        batches (a loader cycles from its start; a generator is one stream, so each epoch
        takes the next `steps`, as tf.keras does)."""
        if self.loader is not None:
            batches = iter(self.loader) if steps is None else itertools.islice(
                _cycle(self.loader), steps)
        else:
            batches = self._stream if steps is None else itertools.islice(
                self._stream, steps)
        count = 0
        for index, raw in enumerate(batches):
            count += 1
            yield self._unpack(raw, index)
        if steps is not None and count < steps:
            raise ValueError(
                f"{self.name} ran dry after {count} batches, but steps_per_epoch / steps is "
                f"{steps}: make the generator loop forever (while True: ...) or lower "
                "the steps"
            )

    def _unpack(self, raw, index):
        x, y, sw = unpack_batch(raw, self.name, index, self.device)
        return expand_rank1(x, self.input_shapes), y, sw

    def on_epoch_end(self):
        if hasattr(self.data, "on_epoch_end"):
            self.data.on_epoch_end()


def _cycle(loader):
    while True:
        yield from loader


class _BatchIndexDataset(torch.utils.data.Dataset):
    """Exposes a Sequence's batches as DataLoader items (one item = one whole batch)."""

    def __init__(self, sequence):
        self.sequence = sequence

    def __len__(self):
        return len(self.sequence)

    def __getitem__(self, index):
        return self.sequence[index]


def _sequence_loader(sequence, shuffle, workers, use_multiprocessing):
    num_workers = workers if use_multiprocessing and workers and workers > 1 else 0
    return torch.utils.data.DataLoader(
        _BatchIndexDataset(sequence), batch_size=None, shuffle=bool(shuffle),
        num_workers=num_workers, collate_fn=_keep_numpy,
    )


def _keep_numpy(batch):
    return batch
