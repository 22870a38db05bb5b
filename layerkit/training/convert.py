"""One user array in, one checked CPU tensor (or scipy CSR matrix) out.

Who owns what: this module reads a single numpy array, nested list, pandas object, torch
tensor or scipy.sparse matrix, rejects what is not a table of real numbers (text, objects,
ragged lists, complex numbers, structured records, dates) naming the argument, and converts
it: floats become floatx, booleans 0.0/1.0 in floatx (lossless), integers int64. Values are
checked for NaN and inf, floats that overflow floatx and uint64 beyond int64. `data_adapters`
decide when: an array that is copied (another dtype, a layout torch cannot view) is checked
as it is copied, while each chunk is hot in cache; one torch views as it is can be returned
unchecked (`check=False`), and its batches are then checked as they are drawn
(`check_batch`: one reduction per batch, the exact search only when it fails), so a `fit`
call never reads the whole input just to check it. Streams and the rows evaluate / predict
read once are checked batch by batch (`rows_to_tensor`); `data_adapters.arrays` checks
sample and class weights. Every message names the argument, the first bad index (counted
in the whole array, also for a shuffled batch), the value found and the samples checked.

Any numpy layout is taken as it is: an array torch can view (positive strides, native byte
order, aligned — Fortran order, strided slices, read-only and memory-mapped arrays included)
is viewed without a copy; one it cannot (negative strides, big-endian, packed records) or of
another dtype is copied once into a fresh C-ordered array. Both walk the rows in chunks of
about `CHUNK_BYTES`, each checked while it is hot in cache: the check costs one pass over the
data and no memory beyond the chunk (a float sum: finite means every value is, only a non-
finite sum looks for the culprit).
"""

import warnings

import numpy as np
import torch

from .. import config

CHUNK_BYTES = 4 << 20
_INT64_MAX = np.iinfo(np.int64).max


def is_sparse(data):
    return hasattr(data, "tocsr") and hasattr(data, "nnz")


def is_pandas(data):
    return type(data).__module__.split(".")[0] == "pandas"


# ---------------------------------------------------------------------------- reading
def as_host(data, what, check=True):
    """Reads `data` as a validated host array, not yet converted.

    Args:
        data: numpy array (any layout, memmap included), nested list, pandas DataFrame or
            Series, torch tensor or scipy.sparse matrix.
        what: the argument's name for messages ('x', 'y[1]', "x['tokens']", ...).
        check: False: a torch tensor already in the engine's dtype is not checked here
            (its batches are, see `check_batch`).

    Returns:
        A numpy array of booleans / integers / floats in its own layout, a CPU torch tensor
        (already converted; checked unless `check` is False and it needed no copy) or a
        float32 scipy CSR matrix (checked).

    Raises:
        ValueError: naming `what`, for None, scalars, empty data, text, objects, ragged
            lists, complex numbers, records, dates, NaN / inf or overflowing values.
    """
    if data is None:
        raise ValueError(f"{what} is None; expected an array with one row per sample")
    if is_sparse(data):
        return _sparse(data, what)
    if isinstance(data, torch.Tensor):
        return _tensor(data, what, check)
    array = _pandas(data, what) if is_pandas(data) else _numpy(data, what)
    _check_kind(array, what)
    _check_rows(array.shape, what)
    return array


def _numpy(data, what):
    if isinstance(data, np.ndarray):
        return data  # a memmap stays one: its rows are read as batches need them
    try:
        return np.asarray(data)
    except (ValueError, TypeError) as error:  # numpy: "inhomogeneous shape after ..."
        raise ValueError(_ragged_message(data, what) or
                         f"{what} could not be read as an array of numbers: {error}") from None


def _pandas(data, what):
    dtypes = data.dtypes.items() if hasattr(data, "columns") else [(data.name, data.dtype)]
    bad = [f"{name!r} ({dtype})" for name, dtype in dtypes
           if getattr(dtype, "kind", "O") not in "biuf"]
    if bad:
        raise ValueError(
            f"{what} is a pandas {type(data).__name__} with non-numeric columns "
            f"{', '.join(bad)}; expected numbers: encode them first (e.g. pandas.get_dummies "
            "or .cat.codes) or drop them"
        )
    array = data.to_numpy()
    if array.dtype == object:  # nullable Int64 / Float64 / boolean columns
        array = data.to_numpy(dtype="float64", na_value=np.nan)
    return array


def _check_kind(array, what):
    kind = array.dtype.kind
    if kind in "biuf":
        return
    if kind in "US":
        raise ValueError(
            f"{what} has dtype {array.dtype} ({kind!r}); expected numbers. Convert text with "
            "a Tokenizer or pad_sequences first"
        )
    if kind == "O":
        raise ValueError(_object_message(array, what))
    if kind == "c":
        raise ValueError(
            f"{what} has complex dtype {array.dtype}; expected real numbers (layerkit does "
            "not drop imaginary parts): pass np.abs(...), or the real and imaginary parts as "
            "separate features (np.stack([z.real, z.imag], axis=-1))"
        )
    if kind == "V":
        raise ValueError(
            f"{what} is a structured array with fields {array.dtype.names}; expected plain "
            "numbers: numpy.lib.recfunctions.structured_to_unstructured(...) stacks them"
        )
    raise ValueError(
        f"{what} has dtype {array.dtype}; expected numbers: convert dates and durations to "
        "numeric features first"
    )


def _check_rows(shape, what):
    if len(shape) == 0:
        raise ValueError(f"{what} is a single number (shape ()); expected an array with one "
                         "row per sample")
    if shape[0] == 0:
        raise ValueError(f"{what} is empty (shape {tuple(shape)}); expected samples")


def _is_sequence(value):
    return isinstance(value, (list, tuple, np.ndarray, torch.Tensor))


def _ragged_message(data, what):
    """Names the first element whose length differs from its siblings', or None."""
    if not _is_sequence(data) or len(data) == 0:
        return None
    lengths = [len(v) if _is_sequence(v) and np.ndim(v) else None for v in data]
    for i, length in enumerate(lengths):
        if length != lengths[0]:
            def size(n):
                return "a single number" if n is None else f"{n} elements"
            return (
                f"{what} is ragged: {what}[{i}] has {size(length)} but {what}[0] has "
                f"{size(lengths[0])}; every sample needs the same shape. Pad sequences to "
                "one length first (layerkit.preprocessing.sequence.pad_sequences) or "
                "vectorize them"
            )
    if lengths[0] is None:
        return None
    for i, value in enumerate(data):
        found = _ragged_message(value, f"{what}[{i}]")
        if found:
            return found.replace(f"{what}[{i}] is ragged", f"{what} is ragged", 1)
    return None


def _object_message(array, what):
    if array.ndim == 1 and len(array) and all(_is_sequence(v) for v in array):
        ragged = _ragged_message(list(array), what)
        if ragged:
            return ragged
        return (f"{what} is an object array of sequences; expected one numeric array: "
                f"np.stack({what}) makes it one")
    for index, value in np.ndenumerate(array):
        if value is None:
            return (f"{what} has None at index {index}; expected numbers: fill in missing "
                    "values first")
        if isinstance(value, (str, bytes)):
            return (f"{what} has the text {value!r} at index {index}; expected numbers. "
                    "Convert text with a Tokenizer or pad_sequences first")
        if not isinstance(value, (int, float, np.number, bool)) or isinstance(value, complex):
            return (f"{what} has a {type(value).__name__} at index {index}; expected an "
                    "array of numbers")
    return (f"{what} has dtype object; expected a numeric dtype: convert it with "
            f"{what}.astype('float32')")


# ---------------------------------------------------------------------------- tensors
def _tensor(tensor, what, check=True):
    tensor = tensor.detach().cpu()
    if tensor.is_complex():
        raise ValueError(f"{what} has complex dtype {tensor.dtype}; expected real numbers "
                         "(layerkit does not drop imaginary parts): pass tensor.abs() or the "
                         "real and imaginary parts as separate features")
    _check_rows(tuple(tensor.shape), what)
    if tensor.dtype.is_floating_point or tensor.dtype == torch.bool:
        source = tensor
        tensor = tensor.to(config.floatx_dtype())
        if source is tensor and not check:
            return tensor  # no copy: checked batch by batch
        values = _numpy_view(tensor)
        src = _numpy_view(source) if source is not tensor else None
        for start, stop in _chunks(tensor.shape, tensor.element_size()):
            _check_values(values[start:stop], what, start,
                          None if src is None else src[start:stop])
    elif tensor.dtype != torch.int64:
        tensor = tensor.to(torch.int64)
    return tensor


def _numpy_view(tensor):
    if tensor.dtype == torch.bfloat16:
        return tensor.float().numpy()  # numpy has no bfloat16
    return tensor.numpy()


def _sparse(data, what):
    if data.dtype.kind not in "biuf":
        _check_kind(np.empty(0, data.dtype), what)
    csr = data.tocsr()
    _check_rows(csr.shape, what)
    converted = csr.astype(np.float32, copy=False)  # float32 CSR: the user's, no copy
    if not converted.has_sorted_indices:
        if converted is data:
            converted = converted.copy()  # never reorder the user's matrix
        converted.sort_indices()
    values = converted.data
    with np.errstate(over="ignore", invalid="ignore"):
        finite = np.isfinite(np.add.reduce(values)) if values.size else True
    bad = np.flatnonzero(~np.isfinite(values)) if not finite else []
    if len(bad):  # name the entry (row, column), not its place in .data
        at = int(bad[0])
        row = int(np.searchsorted(converted.indptr, at, side="right") - 1)
        index = (row, int(converted.indices[at]))
        source = csr[index] if csr.dtype.kind == "f" else None
        raise _bad_value(what, index, source, float(values[at]), _found(0, csr.shape[0]))
    return converted


# ---------------------------------------------------------------------------- conversion
def target_dtype(dtype):
    """The numpy dtype the engine uses for data of numpy dtype `dtype`."""
    if dtype.kind in "iu":
        return np.dtype(np.int64)
    floatx = config.floatx()
    return np.dtype(np.float32 if floatx == "bfloat16" else floatx)


def torch_can_view(array):
    """True when torch.from_numpy can share the array's memory as it is."""
    return (array.dtype.isnative and array.flags.aligned
            and all(s >= 0 and s % array.itemsize == 0 for s in array.strides))


def to_tensor(array, what, check=True):
    """Converts a validated numpy array (see `as_host`) to a CPU tensor, in chunks.

    Args:
        array: from `as_host`.
        what: the argument's name for messages.
        check: False: an array returned as a view is not read at all (its batches are
            checked as they are drawn, `check_batch`); a copy is always checked as it is
            made (its values are in cache then, and an overflow can name the value it
            came from).

    Returns:
        A view of `array` when its dtype is already the engine's and torch can view its
        layout; otherwise a fresh C-ordered tensor.
    """
    target = target_dtype(array.dtype)
    if array.dtype == target and torch_can_view(array):
        if check:
            for start, stop in _chunks(array.shape, array.itemsize):
                _check_values(array[start:stop], what, start)
        return _finish(_from_numpy(array))
    out = np.empty(array.shape, target)
    for start, stop in _chunks(array.shape, max(array.itemsize, target.itemsize)):
        _convert_into(out[start:stop], array[start:stop], what, start)
    return _finish(torch.from_numpy(out))


def rows_to_tensor(rows, what, first_row=0, index=None):
    """Converts one batch of rows (a numpy array) to a C-contiguous tensor, checked.

    A batch that is already C-contiguous in the engine's dtype is viewed, not copied.
    Messages count rows from `first_row`, or name them `index[i]` (a shuffled batch: the
    rows' indices in the whole array).
    """
    target = target_dtype(rows.dtype)
    if rows.dtype == target and rows.flags.c_contiguous and torch_can_view(rows):
        _check_values(rows, what, first_row, index=index)
        return _finish(_from_numpy(rows))
    out = np.empty(rows.shape, target)
    _convert_into(out, rows, what, first_row, index)
    return _finish(torch.from_numpy(out))


def check_batch(batch, what, first_row=0, index=None):
    """Raises for NaN / inf in one batch drawn from an array that was not checked whole.

    One reduction (a float sum is finite exactly when every value is, unless it
    overflows); only a non-finite sum looks for the culprit. Runs on the batch's device
    and reads the batch once, right after it was cut, so no temporary beyond the batch.

    Args:
        batch: a tensor (integers pass unread).
        what: the argument's name ('x', 'validation_data[0]', ...).
        first_row: the whole array's index of the batch's first row (unshuffled).
        index: the whole array's indices of the batch's rows (a shuffled batch), or None.

    Raises:
        ValueError: naming `what`, the first bad index in the whole array, the value and
            the samples the batch holds.
    """
    if not batch.dtype.is_floating_point or batch.numel() == 0:
        return
    if _finite_sum(batch):
        return
    bad = torch.isfinite(batch).logical_not_().nonzero()
    if len(bad) == 0:
        return  # the sum overflowed; every value is finite
    local = tuple(int(i) for i in bad[0])
    row = first_row + local[0] if index is None else int(index[local[0]])
    raise _bad_value(what, (row,) + local[1:], None, float(batch[local]),
                     _found(first_row, batch.shape[0], index))


def _finite_sum(batch):
    """Whether the batch's sum is finite. On the CPU numpy's reduction (a freshly gathered
    IMDB batch: +6 ms per epoch over the gather, torch.sum +50 ms on this machine)."""
    if batch.device.type == "cpu" and batch.dtype in (torch.float32, torch.float64,
                                                      torch.float16):
        with np.errstate(over="ignore", invalid="ignore"):
            return bool(np.isfinite(np.add.reduce(batch.numpy(), axis=None)))
    return bool(torch.isfinite(batch.sum()))


def check_rows(tensor, what, first_row=0):
    """`check_batch` over a whole tensor, chunk by chunk (temporaries of a chunk's size)."""
    for start, stop in _chunks(tensor.shape, tensor.element_size()):
        check_batch(tensor[start:stop], what, first_row + start)


def _chunks(shape, itemsize):
    row_bytes = max(1, itemsize * int(np.prod(shape[1:], dtype=np.int64)))
    step = max(1, CHUNK_BYTES // row_bytes)
    return [(start, min(start + step, shape[0])) for start in range(0, shape[0], step)]


def _from_numpy(array):
    with warnings.catch_warnings():
        # Read-only memory (np.frombuffer, memmap mode 'r'): the engine never writes to its
        # inputs, so sharing it is safe and a copy would be wasted.
        warnings.filterwarnings("ignore", "The given NumPy array is not writable")
        return torch.from_numpy(array)


def _finish(tensor):
    if tensor.dtype.is_floating_point and tensor.dtype != config.floatx_dtype():
        return tensor.to(config.floatx_dtype())  # bfloat16 floatx
    return tensor


def _convert_into(out, src, what, first_row, index=None):
    if src.dtype == np.uint64 and src.size and src.max() > _INT64_MAX:
        local = tuple(int(i) for i in np.unravel_index(int(np.argmax(src > _INT64_MAX)),
                                                       src.shape))
        at = (_row(local[0], first_row, index),) + local[1:]
        raise ValueError(f"{what} has the value {src[local]} at index {at}, beyond int64's "
                         "range; expected integers below 2**63")
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below
        np.copyto(out, src, casting="unsafe")
    _check_values(out, what, first_row, src if src.dtype.kind == "f" else None, index)


def _check_values(values, what, first_row, source=None, index=None):
    """Raises for NaN / inf in a float chunk (or values that overflowed converting
    `source`); indices in the message count from `first_row` (or are `index[i]`)."""
    if values.dtype.kind != "f" or values.size == 0:
        return
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.add.reduce(values, axis=None)):
            return
    bad = np.argwhere(~np.isfinite(values))
    if len(bad) == 0:
        return  # the sum overflowed; every value is finite
    local = tuple(int(i) for i in bad[0])
    at = (_row(local[0], first_row, index),) + local[1:]
    raise _bad_value(what, at, None if source is None else source[local],
                     float(values[local]), _found(first_row, values.shape[0], index))


def _row(local, first_row, index):
    return first_row + local if index is None else int(index[local])


def _found(first_row, count, index=None, shown=8):
    """Which samples a check read: a range, or a shuffled batch's indices."""
    if index is None:
        return f"samples {first_row} to {first_row + count - 1}"
    rows = [int(i) for i in index[:shown]]
    more = ", ..." if count > shown else ""
    return (f"a shuffled batch of {count} samples: {', '.join(map(str, rows))}{more}")


def _bad_value(what, index, source_value, value, found):
    """The error for the non-finite `value` at `index`: an overflow when the value it was
    converted from is finite, NaN / inf otherwise; `found` says which samples were read."""
    if source_value is not None and np.isfinite(source_value):
        dtype = config.floatx_dtype()
        largest = torch.finfo(dtype).max
        return ValueError(
            f"{what} has the value {float(source_value):g} at index {index}, which "
            f"overflows {str(dtype).replace('torch.', '')} (largest {largest:.4g}) and would "
            "become inf; rescale the data (e.g. divide by its maximum) or call "
            "layerkit.config.set_floatx('float64')"
        )
    return ValueError(
        f"{what} contains NaN or inf (first at index {index}); clean or impute the data "
        f"before training (found {value} checking {found})"
    )
