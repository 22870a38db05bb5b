"""`layerkit.backend` (imported as `K` in the notes): tensor functions for Lambda bodies.

They take and return torch tensors with Keras's argument names (`axis`, `keepdims`) and
semantics; settings come from `layerkit.config`. Graph-mode helpers of TF-era Keras
(`K.function`, `K.gradients`, `K.placeholder`) have no eager equivalent and are not
provided: compute gradients with `torch.autograd.grad` on real tensors instead.
"""

import numpy as np
import torch
import torch.nn.functional as F

from . import config
from .config import epsilon as epsilon
from .config import floatx as floatx
from .config import image_data_format as image_data_format
from .config import set_epsilon as set_epsilon
from .config import set_floatx as set_floatx
from .config import set_image_data_format as set_image_data_format
from .utils.naming import reset_names


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _reduce(fn, x, axis, keepdims):
    if axis is None:
        out = fn(x)
        return out.reshape([1] * x.dim()) if keepdims else out
    return fn(x, dim=_axis(axis), keepdim=keepdims)


def mean(x, axis=None, keepdims=False):
    """Mean over `axis` (int, tuple or None for all)."""
    return _reduce(torch.mean, _float(x), axis, keepdims)


def sum(x, axis=None, keepdims=False):  # noqa: A001 (Keras's name)
    return _reduce(torch.sum, x, axis, keepdims)


def max(x, axis=None, keepdims=False):  # noqa: A001
    return _reduce(torch.amax, x, axis, keepdims)


def min(x, axis=None, keepdims=False):  # noqa: A001
    return _reduce(torch.amin, x, axis, keepdims)


def _float(x):
    return x if x.is_floating_point() else x.to(config.floatx_dtype())


def square(x):
    return torch.square(x)


def sqrt(x):
    """Square root; Keras clips negative inputs to 0 first."""
    return torch.sqrt(torch.clamp(x, min=0.0))


def abs(x):  # noqa: A001
    return torch.abs(x)


def exp(x):
    return torch.exp(x)


def log(x):
    return torch.log(x)


def dot(x, y):
    """Matrix product on the last axis of x and the second-to-last of y (Keras's K.dot)."""
    return torch.matmul(x, y)


def batch_dot(x, y, axes=None):
    """Per-sample dot product contracting `axes` (Keras 2 semantics: rank-2 inputs give (B, 1)).

    Args:
        x, y: tensors with a leading batch axis.
        axes: int or (ax, ay); default last axis of x and second-to-last (or last) of y.
    """
    if isinstance(axes, int):
        axes = (axes, axes)
    if axes is None:
        axes = (x.dim() - 1, y.dim() - 2 if y.dim() > 2 else y.dim() - 1)
    ax, ay = [a % t.dim() for a, t in zip(axes, (x, y))]
    if ax == 0 or ay == 0:
        raise ValueError(f"batch_dot: cannot contract the batch axis, received axes={axes}")
    x_last = x.movedim(ax, -1)           # (B, ..., n)
    y_first = y.movedim(ay, 1)           # (B, n, ...)
    xs, ys = x_last.shape, y_first.shape
    out = torch.bmm(x_last.reshape(xs[0], -1, xs[-1]), y_first.reshape(ys[0], ys[1], -1))
    out = out.reshape(xs[:-1] + ys[2:])  # (B, x_rest..., y_rest...)
    return out.unsqueeze(-1) if out.dim() == 1 else out


def concatenate(tensors, axis=-1):
    return torch.cat(list(tensors), dim=axis)


def reshape(x, shape):
    return x.reshape(tuple(shape))


def expand_dims(x, axis=-1):
    return x.unsqueeze(axis)


def squeeze(x, axis):
    return x.squeeze(axis)


def transpose(x, axes=None):
    """Reverses the axes (like numpy) or permutes them by `axes`."""
    return x.permute(*(axes if axes is not None else reversed(range(x.dim()))))


def l2_normalize(x, axis=None):
    """`x / sqrt(max(sum(x**2, axis), 1e-12))` (tf.keras's definition)."""
    square_sum = torch.sum(torch.square(x), dim=_axis(axis), keepdim=True) if axis is not None \
        else torch.sum(torch.square(x))
    return x * torch.rsqrt(torch.clamp(square_sum, min=1e-12))


def softmax(x, axis=-1):
    return torch.softmax(x, dim=axis)


def sigmoid(x):
    return torch.sigmoid(x)


def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    from .activations import relu as _relu

    return _relu(x, negative_slope=alpha, max_value=max_value, threshold=threshold)


def tanh(x):
    return torch.tanh(x)


def clip(x, min_value, max_value):
    return torch.clamp(x, min_value, max_value)


def one_hot(indices, num_classes):
    return F.one_hot(indices.long(), num_classes).to(config.floatx_dtype())


def cast(x, dtype):
    return x.to(config.standardize_dtype(dtype))


def constant(value, dtype=None, shape=None):
    tensor = torch.as_tensor(np.asarray(value), dtype=config.standardize_dtype(dtype))
    return tensor.expand(shape).clone() if shape is not None else tensor


def zeros(shape, dtype=None):
    return torch.zeros(shape, dtype=config.standardize_dtype(dtype))


def ones(shape, dtype=None):
    return torch.ones(shape, dtype=config.standardize_dtype(dtype))


def int_shape(x):
    """Shape as a tuple of ints (None for an unknown batch of a symbolic tensor)."""
    return tuple(x.shape)


def ndim(x):
    return len(x.shape)


def get_value(x):
    """A tensor (or weight) as numpy."""
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def set_value(x, value):
    """Copies `value` into the tensor `x` in place."""
    with torch.no_grad():
        x.copy_(torch.as_tensor(np.asarray(value), dtype=x.dtype))


def clear_session():
    """Resets the layer-name counters (`dense`, `dense_1`, ... start again)."""
    reset_names()
