"""Turns user data (numpy, lists, pandas, torch tensors, scipy.sparse) into device batches.

Who owns what: this module converts and checks arrays once per `fit`/`evaluate`/`predict`
call, splits off validation data and yields batches; it knows nothing about models.
Batches are sliced from tensors that were converted once (float64 becomes floatx), with
one `torch.randperm` per epoch when shuffling, like Keras 3's torch backend. A scipy.sparse
x stays sparse: each batch becomes a torch sparse CSR tensor that the first Dense layer
multiplies directly.
"""

import warnings

import numpy as np
import torch

from .. import config


def is_sparse(data):
    return hasattr(data, "tocsr") and hasattr(data, "nnz")


def is_pandas(data):
    return type(data).__module__.split(".")[0] == "pandas"


def to_array(data, what):
    """Converts one input array to a torch tensor (CPU) or a scipy CSR matrix.

    Args:
        data: numpy array, nested list, pandas DataFrame/Series, torch tensor or scipy.sparse.
        what: 'x', 'y' or 'sample_weight', for messages.

    Returns:
        A CPU torch tensor (floats in floatx, integers as int64, bools as floatx) or a
        float32 scipy CSR matrix.

    Raises:
        ValueError: for strings/objects, NaN or inf values, or empty data.
    """
    if is_sparse(data):
        csr = data.tocsr().astype(np.float32)
        csr.sort_indices()
        _check_finite(csr.data, what)
        if csr.shape[0] == 0:
            raise ValueError(f"{what} is empty (0 samples); fit/evaluate need data")
        return csr
    if isinstance(data, torch.Tensor):
        tensor = data.detach().cpu()
    else:
        if is_pandas(data):
            data = data.to_numpy()
        array = np.asarray(data)
        if array.dtype.kind in "OUS":
            raise ValueError(
                f"{what} has dtype {array.dtype} ({array.dtype.kind!r}); expected numbers. "
                "Convert text with a Tokenizer or pad_sequences first"
            )
        if not array.flags.writeable:  # e.g. np.frombuffer labels: torch needs its own copy
            array = array.copy()
        tensor = torch.from_numpy(np.ascontiguousarray(array))
    if tensor.dtype.is_floating_point or tensor.dtype == torch.bool:
        tensor = tensor.to(config.floatx_dtype())
        _check_finite(tensor, what)
    elif tensor.dtype != torch.int64:
        tensor = tensor.to(torch.int64)
    if tensor.dim() == 0 or tensor.shape[0] == 0:
        raise ValueError(f"{what} is empty (shape {tuple(tensor.shape)}); expected samples")
    return tensor


def _check_finite(values, what):
    values = values if isinstance(values, torch.Tensor) else torch.from_numpy(values)
    if values.numel() and not bool(torch.isfinite(values).all()):
        bad = (~torch.isfinite(values)).nonzero()[0].tolist()
        raise ValueError(
            f"{what} contains NaN or inf (first at index {tuple(bad)}); clean or impute the "
            "data before training"
        )


def num_samples(array):
    return array.shape[0]


def to_arrays(data, names, what):
    """Converts the data for a model's inputs (or outputs) `names`.

    Args:
        data: one array for one input; a list/tuple or a dict (by name) for several.
        names: the model's input (or output) names.
        what: 'x' or 'y', for messages.

    Returns:
        One converted array, or a list of them in `names` order.
    """
    if isinstance(data, dict):
        missing = [n for n in names if n not in data]
        if missing:
            raise ValueError(
                f"{what} is a dict with keys {sorted(data)}, but the model expects "
                f"{names}; missing {missing}"
            )
        data = [data[n] for n in names]
        return to_array(data[0], what) if len(names) == 1 else [
            to_array(d, f"{what}[{n!r}]") for d, n in zip(data, names)]
    if len(names) == 1:
        if isinstance(data, (list, tuple)) and len(data) == 1 and hasattr(data[0], "shape"):
            data = data[0]
        return to_array(data, what)
    if not isinstance(data, (list, tuple)) or len(data) != len(names):
        got = f"a list of {len(data)}" if isinstance(data, (list, tuple)) else \
            type(data).__name__
        raise ValueError(
            f"The model has {len(names)} {'inputs' if what == 'x' else 'outputs'} {names}: "
            f"{what} must be a list of {len(names)} arrays or a dict by name, received {got}"
        )
    return [to_array(d, f"{what}[{i}]") for i, d in enumerate(data)]


def expand_rank1(x, input_shapes):
    """Rank-1 arrays fed to inputs of shape (None, 1) become (N, 1).

    Keras 2.2's `standardize_input_data` (`keras/engine/training_utils.py`) and tf.keras
    2.x's `data_adapter.expand_1d` did this, so notes feed `(N,)` word indices to
    `Input((1,))` (the skip-gram's `train_on_batch([targets, contexts], labels)`).

    Args:
        x: converted data: one tensor / array, or a list of them (one per model input).
        input_shapes: the model's input shapes (batch entry None), or None when unknown.

    Returns:
        `x` with those arrays reshaped (views, no copies); anything else unchanged.
    """
    if not input_shapes:
        return x
    if isinstance(x, list):
        if len(x) != len(input_shapes):
            return x
        return [_expand_to(a, s) for a, s in zip(x, input_shapes)]
    if len(input_shapes) == 1 and not isinstance(x, (tuple, dict)):
        return _expand_to(x, input_shapes[0])
    return x


def _expand_to(array, shape):
    if len(shape) == 2 and shape[1] == 1 and getattr(array, "ndim", None) == 1:
        return array.reshape(-1, 1)
    return array


def shape_of(data):
    """Keras shape(s) of converted data (a list for several arrays), batch entry None."""
    if isinstance(data, list):
        return [shape_of(d) for d in data]
    return (None,) + tuple(data.shape[1:])


def train_validation_split(arrays, validation_split):
    """Splits off the last `validation_split` fraction of every array (before shuffling).

    Returns:
        (train_arrays, val_arrays) with None entries kept as None.
    """
    if not 0 < validation_split < 1:
        raise ValueError(
            f"validation_split must be a float in (0, 1), received {validation_split!r}"
        )
    specs, flat = _flatten_parts(arrays)
    n = num_samples(flat[0])
    split_at = int(np.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"validation_split={validation_split} leaves {split_at} training and "
            f"{n - split_at} validation samples out of {n}; both need at least one"
        )
    train = _pack_parts(specs, [a[:split_at] for a in flat])
    val = _pack_parts(specs, [a[split_at:] for a in flat])
    return train, val


class ArrayBatches:
    """Yields (x, y, sample_weight) batches on the device from converted arrays.

    Args:
        x, y: converted arrays, or lists of them (several model inputs / outputs).
        sample_weight: converted array or None.
        batch_size: positive int.
        shuffle: True (new permutation each epoch), False, or 'batch'.
    """

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False):
        self._parts, self.arrays = _flatten_parts((x, y, sample_weight))
        self.n = num_samples(self.arrays[0])
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.device = config.device()
        self._sparse = [is_sparse(a) for a in self.arrays]
        # Dense arrays move to the device once; sparse ones batch by batch.
        self._on_device = [
            None if sparse else a.to(self.device, non_blocking=True)
            for a, sparse in zip(self.arrays, self._sparse)
        ]

    def __len__(self):
        return -(-self.n // self.batch_size)

    def epoch(self):
        """Iterator over one epoch's batches."""
        return iter(self)

    def on_epoch_end(self):
        """Arrays need nothing here (generators and Sequences do)."""

    def _order(self):
        if self.shuffle is True:
            return torch.randperm(self.n)
        if self.shuffle == "batch":
            starts = torch.randperm(len(self)) * self.batch_size
            chunks = [torch.arange(s, min(s + self.batch_size, self.n)) for s in starts.tolist()]
            return torch.cat(chunks)
        return None

    def __iter__(self):
        order = self._order()
        if order is not None and self.device.type != "cpu":
            order_dev = order.to(self.device)
        else:
            order_dev = order
        count = len(self.arrays)
        for start in range(0, self.n, self.batch_size):
            stop = min(start + self.batch_size, self.n)
            if order is None:
                values = [self._slice(i, start, stop) for i in range(count)]
            else:
                idx, idx_dev = order[start:stop], order_dev[start:stop]
                values = [self._take(i, idx, idx_dev) for i in range(count)]
            yield _pack_parts(self._parts, values)

    def _slice(self, i, start, stop):
        if self._sparse[i]:
            return _csr_to_torch(self.arrays[i][start:stop], self.device)
        return self._on_device[i][start:stop]

    def _take(self, i, idx, idx_dev):
        if self._sparse[i]:
            return _csr_to_torch(self.arrays[i][idx.numpy()], self.device)
        return self._on_device[i].index_select(0, idx_dev)


def _flatten_parts(parts):
    """(specs, flat arrays) for a tuple of parts that are None, an array or a list."""
    specs, flat = [], []
    for part in parts:
        if part is None:
            specs.append(None)
        elif isinstance(part, list):
            specs.append((len(flat), len(part), True))
            flat.extend(part)
        else:
            specs.append((len(flat), 1, False))
            flat.append(part)
    return specs, flat


def _pack_parts(specs, values):
    packed = []
    for spec in specs:
        if spec is None:
            packed.append(None)
        else:
            start, count, is_list = spec
            packed.append(values[start:start + count] if is_list else values[start])
    return tuple(packed)


def _csr_to_torch(csr, device):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
        tensor = torch.sparse_csr_tensor(
            torch.from_numpy(csr.indptr.astype(np.int64)),
            torch.from_numpy(csr.indices.astype(np.int64)),
            torch.from_numpy(csr.data),
            size=csr.shape,
            check_invariants=False,
        )
    return tensor.to(device)
