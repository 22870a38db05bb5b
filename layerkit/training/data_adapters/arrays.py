"""One user array (or a list / dict of them) in, checked CPU arrays out; weights checked.

Who owns what: `convert` reads and checks a single array; this module applies it to a
call's x / y / sample_weight (`to_arrays`), checks sample and class weights, expands rank-1
inputs, splits off validation data and packs batch parts. It knows nothing about models or
batches: `array_adapter` batches what it returns, `epoch_iterator` decides when. A numpy x
read once (evaluate, predict) stays on the host as `HostRows`, converted and checked batch by
batch; a scipy.sparse x stays sparse (each batch becomes a torch sparse CSR tensor).
"""

import warnings

import numpy as np
import torch

from ... import config
from .. import convert
from ..convert import is_pandas as is_pandas, is_sparse as is_sparse


def to_array(data, what, lazy=False, check=True):
    """Converts one input array to a torch tensor (CPU), a scipy CSR matrix or `HostRows`.

    Args:
        data: numpy array (any layout), nested list, pandas DataFrame/Series, torch tensor
            or scipy.sparse.
        what: 'x', 'y' or 'sample_weight' (or 'x[1]', ...), for messages.
        lazy: a numpy x read once (evaluate, predict): convert and check it per batch.
        check: False: an array torch views without a copy is returned unchecked (the
            `ArrayAdapter` checks its batches as it draws them, see `convert.to_tensor`).

    Returns:
        A CPU torch tensor (floats and bools in floatx, integers as int64; a view of the
        user's memory where torch can share it), a float32 scipy CSR matrix, or with
        `lazy`, `HostRows` over the user's numpy array.

    Raises:
        ValueError: naming `what`, for anything but real numbers in a rectangular array,
            empty data, NaN or inf, and values beyond floatx's range (see `convert`).
    """
    host = convert.as_host(data, what, check)
    if not isinstance(host, np.ndarray):
        return host
    return HostRows(host, what) if lazy else convert.to_tensor(host, what, check)


class HostRows:
    """A validated numpy array whose rows become checked tensors only when a batch asks.

    Keeps the user's array as it is (any layout, memmap included); `rows(start, stop)`
    converts that slice, a view when it already is C-contiguous floatx / int64.
    """

    def __init__(self, array, what):
        self.array = array
        self.what = what

    @property
    def shape(self):
        return self.array.shape

    @property
    def ndim(self):
        return self.array.ndim

    def reshape(self, *shape):
        return HostRows(self.array.reshape(*shape), self.what)

    def rows(self, start, stop):
        return convert.rows_to_tensor(self.array[start:stop], self.what, start)

    def take(self, index):
        return convert.rows_to_tensor(self.array[index], self.what, index=index)


def num_samples(array):
    return array.shape[0]


def to_arrays(data, names, what, lazy=False, check=True):
    """Converts the data for a model's inputs (or outputs) `names`.

    Args:
        data: one array for one input; a list/tuple or a dict (by name) for several.
        names: the model's input (or output) names.
        what: 'x' or 'y', for messages.
        lazy, check: see `to_array`.

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
        return to_array(data[0], what, lazy, check) if len(names) == 1 else [
            to_array(d, f"{what}[{n!r}]", lazy, check) for d, n in zip(data, names)]
    if len(names) == 1:
        if isinstance(data, (list, tuple)) and len(data) == 1 and hasattr(data[0], "shape"):
            data = data[0]
        return to_array(data, what, lazy, check)
    if not isinstance(data, (list, tuple)) or len(data) != len(names):
        got = f"a list of {len(data)}" if isinstance(data, (list, tuple)) else \
            type(data).__name__
        raise ValueError(
            f"The model has {len(names)} {'inputs' if what == 'x' else 'outputs'} {names}: "
            f"{what} must be a list of {len(names)} arrays or a dict by name, received {got}"
        )
    return [to_array(d, f"{what}[{i}]", lazy, check) for i, d in enumerate(data)]


def per_sample_weights(weights, n, what="sample_weight"):
    """(n,) floatx weights from a converted `sample_weight`, checked.

    Raises:
        ValueError: for a shape other than (n,) or (n, 1), negative weights, or all zeros
            (no sample would count toward the loss).
    """
    if weights.dim() > 2 or (weights.dim() == 2 and weights.shape[1] != 1):
        raise ValueError(
            f"{what} must have shape ({n},) or ({n}, 1), one weight per sample; received "
            f"shape {tuple(weights.shape)}. For a weight per class pass class_weight=... "
            "instead"
        )
    weights = weights.to(config.floatx_dtype()).reshape(n)
    check_weights(weights, what)
    return weights


def check_weights(weights, what):
    """Raises for negative weights, or weights that are all zero."""
    negative = (weights < 0).nonzero()
    if len(negative):
        at = int(negative[0][0])
        raise ValueError(f"{what} must be non-negative; received {float(weights[at]):g} at "
                         f"index {at}")
    if not bool(weights.any()):
        raise ValueError(f"{what} gives every sample the weight 0, so no sample would "
                         "count toward the loss; expected at least one positive weight")


def class_weight_table(class_weight, num_classes=None):
    """A tensor `table[label] = weight` from a `class_weight` dict, checked.

    Args:
        class_weight: {class index: weight}; classes left out weigh 1 (as in Keras 2).
        num_classes: the output's number of classes (2 for one sigmoid unit), or None.

    Raises:
        ValueError: for anything but a dict of integer keys in [0, num_classes) to
            non-negative finite numbers.
    """
    if not isinstance(class_weight, dict):
        raise ValueError(
            "class_weight must be a dict mapping class indices to weights, e.g. "
            f"{{0: 1.0, 1: 3.0}}; received {type(class_weight).__name__}"
        )
    for key, value in class_weight.items():
        if isinstance(key, (bool, np.bool_)) or not isinstance(key, (int, np.integer)):
            raise ValueError(
                f"class_weight keys must be integer class indices, e.g. {{0: 1.0, 1: 3.0}}; "
                f"received the key {key!r} ({type(key).__name__}). Convert them with "
                "{int(k): w for k, w in class_weight.items()}"
            )
        if key < 0 or (num_classes is not None and key >= num_classes):
            expected = f"[0, {num_classes})" if num_classes is not None else "non-negative"
            raise ValueError(
                f"class_weight has the key {key}, but the model's output has "
                f"{num_classes} classes; expected keys in {expected}"
            )
        if isinstance(value, (bool, np.bool_)) or not isinstance(
                value, (int, float, np.integer, np.floating)) or not value >= 0 \
                or not np.isfinite(value):
            raise ValueError(
                f"class_weight[{key}] must be a non-negative finite number; received "
                f"{value!r}"
            )
    size = max(int(k) for k in class_weight) + 1 if class_weight else 0
    table = torch.ones(max(size, num_classes or 0))
    for key, value in class_weight.items():
        table[int(key)] = float(value)
    return table


def weights_from_classes(y, table, sample_weight=None, covered=False):
    """Per-sample weights `table[label]` (times `sample_weight`, as tf.keras does).

    Labels are y's argmax for one-hot rows, else y rounded; labels beyond the table weigh 1.
    `covered`: the table already covers every label of y (`covering_table` of all the
    data): no check, so no device synchronisation per batch.
    """
    labels = _labels(y)
    if not covered:
        table = covering_table(y, table)
    weights = table.to(labels.device)[labels].to(config.floatx_dtype())
    return weights if sample_weight is None else weights * sample_weight


def covering_table(y, table):
    """`table` extended with weight 1 up to y's largest label.

    Raises:
        ValueError: for a negative label, naming its index.
    """
    labels = _labels(y)
    if len(labels) and int(labels.min()) < 0:
        at = int((labels < 0).nonzero()[0][0])
        raise ValueError(f"class_weight needs class indices in y; received the label "
                         f"{int(labels[at])} at index {at}")
    top = int(labels.max()) + 1 if len(labels) else 0
    if top > len(table):
        table = torch.cat([table, torch.ones(top - len(table), dtype=table.dtype)])
    return table


def _labels(y):
    if y.dim() > 1 and y.shape[-1] > 1:
        return y.argmax(-1)
    return y.reshape(y.shape[0]).round().long()


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
    specs, flat = flatten_parts(arrays)
    n = num_samples(flat[0])
    split_at = int(np.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"validation_split={validation_split} leaves {split_at} training and "
            f"{n - split_at} validation samples out of {n}; both need at least one"
        )
    train = pack_parts(specs, [a[:split_at] for a in flat])
    val = pack_parts(specs, [a[split_at:] for a in flat])
    return train, val


def flatten_parts(parts):
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


def pack_parts(specs, values):
    packed = []
    for spec in specs:
        if spec is None:
            packed.append(None)
        else:
            start, count, is_list = spec
            packed.append(values[start:start + count] if is_list else values[start])
    return tuple(packed)


def csr_to_torch(csr, device):
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
