"""Argument checks and TF-exact padding arithmetic shared by the convolution, pooling and
image-reshaping layers.

Who owns what: this module only validates arguments and computes lengths / pads; the layers
own their weights and their torch calls. 'same' follows TensorFlow (and Keras 3): the output
has ceil(n / s) steps and the odd padding cell goes at the end, which torch's symmetric
`padding=` cannot express, so asymmetric pads are applied with `F.pad`.
"""

import math
import numbers

import torch.nn.functional as F

from ... import config

DATA_FORMATS = ("channels_last", "channels_first")


def normalize_tuple(value, n, owner, argument, minimum=1):
    """Turns an int or a sequence of `n` ints into a tuple of `n` ints >= `minimum`.

    Args:
        value: int or sequence of ints.
        n: the number of spatial dimensions.
        owner: the layer's class name, for the error message.
        argument: the argument's name, for the error message.
        minimum: the smallest allowed entry (1 for sizes and strides, 0 for paddings).

    Returns:
        A tuple of `n` ints.

    Raises:
        ValueError: for wrong lengths, non-integers or entries below `minimum`.
    """
    items = (value,) * n if _is_int(value) else value
    try:
        items = tuple(items)
    except TypeError:
        items = None
    if items is None or len(items) != n or not all(_is_int(v) and v >= minimum for v in items):
        kind = "positive" if minimum == 1 else f"integers >= {minimum}"
        raise ValueError(
            f"{owner}({argument}={value!r}): {argument} must be an int or a tuple of {n} "
            f"{kind} ints, received {value!r}"
        )
    return tuple(int(v) for v in items)


def normalize_pairs(value, owner, argument):
    """Turns an int, (rows, cols) or ((top, bottom), (left, right)) into the last form.

    Args:
        value: the argument as given (entries >= 0).
        owner / argument: the layer's class and argument names, for the error message.

    Returns:
        ((top, bottom), (left, right)).
    """
    items = (value, value) if _is_int(value) else value
    try:
        pairs = tuple(normalize_tuple(v, 2, owner, argument, minimum=0) for v in items)
    except (TypeError, ValueError):
        pairs = ()
    if len(pairs) != 2:
        raise ValueError(
            f"{owner}({argument}={value!r}): {argument} must be an int, a pair of ints "
            f"(rows, cols) or a pair of pairs ((top, bottom), (left, right)) of ints >= 0, "
            f"received {value!r}"
        )
    return pairs


def normalize_padding(value, owner, allowed=("valid", "same")):
    """Lower-cases and checks a padding mode ('valid', 'same', and 'causal' for Conv1D)."""
    mode = value.lower() if isinstance(value, str) else value
    if mode not in allowed:
        raise ValueError(
            f"{owner}(padding={value!r}): padding must be one of "
            f"{', '.join(repr(a) for a in allowed)}, received {value!r}"
        )
    return mode


def normalize_data_format(value, owner):
    """Returns 'channels_last' or 'channels_first'; None means `config.image_data_format()`."""
    if value is None:
        return config.image_data_format()
    fmt = value.lower() if isinstance(value, str) else value
    if fmt not in DATA_FORMATS:
        raise ValueError(
            f"{owner}(data_format={value!r}): data_format must be 'channels_last' or "
            f"'channels_first' (or None for the global setting), received {value!r}"
        )
    return fmt


def positive_int(value, owner, argument):
    """Checks that `value` is a positive int (bools rejected)."""
    if not _is_int(value) or value <= 0:
        raise ValueError(
            f"{owner}({argument}={value!r}): {argument} must be a positive integer, "
            f"received {value!r}"
        )
    return int(value)


def check_ndim(layer, shape, rank):
    """Raises unless `shape` has `rank + 2` axes (batch, spatial..., channels in some order).

    Args:
        layer: the layer (its name and class go in the message).
        shape: the received shape (tuple or torch.Size).
        rank: the number of spatial dimensions.
    """
    if len(shape) != rank + 2:
        layout = _layout(rank, getattr(layer, "data_format", "channels_last"))
        raise ValueError(
            f"Layer '{layer.name}' ({type(layer).__name__}) expected ndim={rank + 2} input "
            f"{layout}, received input of shape {tuple(shape)} (ndim={len(shape)}); "
            f"reshape the input or use a {rank}D layer that matches it"
        )


def channel_dim(layer, shape):
    """The channel count of `shape` for the layer's data_format; it must be known."""
    channels = shape[-1] if layer.data_format == "channels_last" else shape[1]
    if channels is None:
        raise ValueError(
            f"Layer '{layer.name}' ({type(layer).__name__}) needs a known channel dimension, "
            f"received input shape {tuple(shape)} with data_format={layer.data_format!r}"
        )
    return channels


def spatial_dims(shape, data_format):
    """The spatial entries of a full shape (batch first)."""
    return tuple(shape[1:-1]) if data_format == "channels_last" else tuple(shape[2:])


def with_spatial(shape, spatial, channels, data_format):
    """Builds a full shape from batch, new spatial entries and a channel count."""
    if data_format == "channels_last":
        return (shape[0],) + tuple(spatial) + (channels,)
    return (shape[0], channels) + tuple(spatial)


def to_channels_first(x, data_format):
    """(B, *spatial, C) → (B, C, *spatial) as a view; torch kernels read it without copying."""
    return x.movedim(-1, 1) if data_format == "channels_last" else x


def from_channels_first(x, data_format):
    """(B, C, *spatial) → the layer's data_format (a view)."""
    return x.movedim(1, -1) if data_format == "channels_last" else x


def effective_size(kernel, dilation):
    """Extent of a dilated kernel: (k - 1) * d + 1."""
    return (kernel - 1) * dilation + 1


def pad_pair(length, kernel, stride, padding, dilation=1):
    """(before, after) zero padding of one axis for 'valid', 'same' (TF) or 'causal'."""
    k_eff = effective_size(kernel, dilation)
    if padding == "valid":
        return 0, 0
    if padding == "causal":
        return k_eff - 1, 0
    total = max(0, (math.ceil(length / stride) - 1) * stride + k_eff - length)
    return total // 2, total - total // 2


def output_length(length, kernel, stride, padding, dilation=1):
    """Output steps of one axis; None stays None (unknown length)."""
    if length is None:
        return None
    before, after = pad_pair(length, kernel, stride, padding, dilation)
    return (length + before + after - effective_size(kernel, dilation)) // stride + 1


def pad_spatial(x, pairs, value=0.0):
    """Pads the trailing spatial axes of a channels-first tensor.

    Returns `(x, torch_padding)`: when every pair is symmetric the input is returned
    untouched and the pads are left to the torch kernel (no copy); otherwise `x` is padded
    with `F.pad` and `torch_padding` is all zeros.
    """
    if all(before == after for before, after in pairs):
        return x, tuple(before for before, _ in pairs)
    flat = [p for before, after in reversed(pairs) for p in (before, after)]  # last axis first
    return F.pad(x, flat, value=value), (0,) * len(pairs)


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _layout(rank, data_format):
    names = {1: ("steps",), 2: ("rows", "cols"), 3: ("dim1", "dim2", "dim3")}[rank]
    inner = ", ".join(names)
    if data_format == "channels_last":
        return f"(batch, {inner}, channels)"
    return f"(batch, channels, {inner})"
