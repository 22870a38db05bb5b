"""ArrayAdapter: in-memory data (numpy, lists, pandas, torch tensors, scipy.sparse) as batches.

Who owns what: `arrays` converts and checks; this adapter holds the converted arrays and
cuts them into device batches, one `torch.randperm` per epoch when shuffling (Keras 3's
torch backend). Dense tensors move to the device once; sparse arrays and `HostRows`
(evaluate / predict read numpy x once, converting it per batch) batch by batch.

NaN / inf in x (`unchecked`): the inputs torch viewed without a copy are not read before
training; on the CPU each batch is checked as it is cut (`convert.check_batch`, before the
step sees it, so a bad batch changes no weight), until one pass has drawn every sample —
the call's later epochs read nothing more; on an accelerator the whole arrays are checked
once on the device after their one transfer (one synchronisation per call). Targets and
weights are small and read whole before training anyway (target checks, class weights):
`arrays` checks them as they are converted.

Sharding seam (for a distributed strategy): every epoch is a sequence of global batches,
each a range `[start, stop)` of positions in the epoch's order; `local_range(start, stop)`
returns the part of that range this process trains on (all of it here). A strategy that
splits each global batch contiguously across ranks overrides only that method.
"""

import itertools

import torch

from ... import config, devices
from .. import convert
from . import arrays as arrays_module
from .arrays import HostRows, csr_to_torch, is_sparse


def convert_arrays(x, y, sample_weight, input_names, output_names, input_shapes=None,
                   lazy=False, names=("x", "y", "sample_weight"), check_x=True):
    """Converts and checks a call's x, y and sample_weight.

    Args:
        x, y: one array, or a list / dict (by name) for several model inputs / outputs.
        sample_weight: one weight per sample, or None.
        input_names, output_names: the model's, for lists and dicts.
        input_shapes: the model's input shapes (rank-1 expansion), or None.
        lazy: numpy x is converted and checked per batch (a single pass).
        names: what to call x, y and sample_weight in messages.
        check_x: False: x arrays torch views without a copy are not read here; the
            `ArrayAdapter` made with `unchecked=names[0]` checks their batches.

    Returns:
        (x, y, sample_weight) converted; sample_weight as (n,) floatx.

    Raises:
        ValueError: naming the argument, for bad values, shapes or sample counts.
    """
    x_name, y_name, sw_name = names
    x = arrays_module.expand_rank1(
        arrays_module.to_arrays(x, input_names, x_name, lazy, check=check_x), input_shapes)
    y = None if y is None else arrays_module.to_arrays(y, output_names, y_name)
    sample_weight = None if sample_weight is None else arrays_module.to_array(
        sample_weight, sw_name)
    flat_x = x if isinstance(x, list) else [x]
    n = flat_x[0].shape[0]
    named = [(f"{x_name}[{i}]", a) for i, a in enumerate(flat_x[1:], 1)]
    named += [(y_name, a) for a in (y if isinstance(y, list) else [y]) if a is not None]
    named += [(sw_name, sample_weight)] if sample_weight is not None else []
    for name, array in named:
        if array.shape[0] != n:
            raise ValueError(
                f"Data cardinality is ambiguous: {x_name} has {n} samples but {name} has "
                f"{array.shape[0]}. Make sure all arrays contain the same number of samples"
            )
    if sample_weight is not None:
        sample_weight = arrays_module.per_sample_weights(sample_weight, n, sw_name)
    return x, y, sample_weight


class ArrayAdapter:
    """Yields (x, y, sample_weight) device batches from converted arrays.

    `first_batch()` is all of the data (`complete`), so checks before training see it all.

    Args:
        x, y: converted arrays, or lists of them (several model inputs / outputs).
        sample_weight: converted (n,) weights or None.
        batch_size: positive int.
        shuffle: True (new permutation each epoch), False, or 'batch'.
        device: where batches go (None: `config.device()`; the engine passes the model's).
        unchecked: x's name ('x', 'validation_data[0]') when its dense arrays were not
            checked for NaN / inf (`convert_arrays(check_x=False)`): checked here, batch by
            batch (see the module's docstring); None: nothing to check.
        first_index: the index in the user's array of this data's first sample (the
            held-out part of `validation_split`), for messages.
    """

    complete = True

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False,
                 device=None, unchecked=None, first_index=0):
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.parts, self.arrays = arrays_module.flatten_parts((x, y, sample_weight))
        self.n = self.arrays[0].shape[0]
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.device = config.device() if device is None else torch.device(device)
        self.sparse = [is_sparse(a) for a in self.arrays]
        self.host = [isinstance(a, HostRows) for a in self.arrays]
        self.on_device = [
            None if sparse or host else self._to_device(a)
            for a, sparse, host in zip(self.arrays, self.sparse, self.host)
        ]
        self._endless = None
        self.first_index = first_index
        self._pending = self._unchecked(unchecked)
        if self._pending and self.device.type != "cpu":
            self._check_on_device()

    def _to_device(self, array):
        """A dense array on the device, once per call; drawn in shuffled order, C-ordered
        (a row gather from another layout, e.g. pandas' column blocks, reads most of the
        array for every batch: 1.1 s against 0.07 s per IMDB epoch)."""
        array = array.to(self.device, non_blocking=True)
        return array.contiguous() if self.shuffle else array

    def _unchecked(self, name):
        """[(flat index, name)] of the dense float x arrays still to check."""
        if name is None or self.parts[0] is None:
            return []
        start, count, is_list = self.parts[0]
        return [(i, f"{name}[{i - start}]" if is_list else name)
                for i in range(start, start + count)
                if self.on_device[i] is not None and self.on_device[i].is_floating_point()]

    def _check_on_device(self):
        """Accelerators: every unchecked array at once where it now lives (one sum each,
        one synchronisation); the exact search, on the host copy, only if one fails."""
        for i, name in self._pending:
            if not bool(torch.isfinite(self.on_device[i].sum())):
                convert.check_rows(self.arrays[i], name, self.first_index)
        self._pending = []

    def num_batches(self, steps=None, continues=False):
        """Batches per epoch: one pass, or `steps` (at most one pass unless `continues`)."""
        full = -(-self.n // self.batch_size)
        if steps is None:
            return full
        return steps if continues else min(steps, full)

    def first_batch(self):
        """The whole converted data, for checks before training (no copy)."""
        return self.x, self.y, self.sample_weight

    def epoch(self, steps=None, continues=False):
        """Iterator over one epoch's batches; `steps` cuts it, and with `continues` (fit's
        steps_per_epoch, as tf.keras) each epoch takes up where the previous one stopped."""
        if steps is None:
            return iter(self)
        if not continues:
            return itertools.islice(iter(self), steps)
        if self._endless is None:
            self._endless = itertools.chain.from_iterable(
                iter(self) for _ in itertools.count())
        return itertools.islice(self._endless, steps)

    def on_epoch_end(self):
        """Arrays need nothing here (Sequences do)."""

    def local_range(self, start, stop):
        """The positions of the global batch `[start, stop)` this process trains on (the
        seam a distributed strategy overrides to split batches across ranks)."""
        return start, stop

    def _order(self):
        if self.shuffle is True:
            return torch.randperm(self.n)
        if self.shuffle == "batch":
            starts = torch.randperm(self.num_batches()) * self.batch_size
            chunks = [torch.arange(s, min(s + self.batch_size, self.n)) for s in starts.tolist()]
            return torch.cat(chunks)
        return None

    def __iter__(self):
        order = self._order()
        order_dev = order.to(self.device) if order is not None and \
            self.device.type != "cpu" else order
        count, drawn, pending = len(self.arrays), 0, self._pending
        for global_start in range(0, self.n, self.batch_size):
            start, stop = self.local_range(global_start,
                                           min(global_start + self.batch_size, self.n))
            if order is None:
                values = [self._slice(i, start, stop) for i in range(count)]
                index = None
            else:
                index, idx_dev = order[start:stop], order_dev[start:stop]
                values = [self._take(i, index, idx_dev) for i in range(count)]
            for i, name in pending:
                convert.check_batch(values[i], name, self.first_index + start,
                                    None if index is None else index + self.first_index)
            drawn += stop - start
            yield arrays_module.pack_parts(self.parts, values)
        if drawn == self.n:  # one whole pass: every sample was checked (sharded: not yet)
            self._pending = []

    def _slice(self, i, start, stop):
        if self.sparse[i]:
            return csr_to_torch(self.arrays[i][start:stop], self.device)
        if self.host[i]:
            return devices.to_device(self.arrays[i].rows(start, stop), self.device)
        return self.on_device[i][start:stop]

    def _take(self, i, idx, idx_dev):
        if self.sparse[i]:
            return csr_to_torch(self.arrays[i][idx.numpy()], self.device)
        if self.host[i]:
            return devices.to_device(self.arrays[i].take(idx.numpy()), self.device)
        return self.on_device[i].index_select(0, idx_dev)
