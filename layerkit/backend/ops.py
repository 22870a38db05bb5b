"""Tensor functions of `layerkit.backend` (Keras 2's `K.*`), on torch tensors.

Each takes Keras's argument names (`axis`, `keepdims`) and semantics, and accepts torch
tensors, numpy arrays and Python numbers (as Keras 2 did). Called with a symbolic tensor
anywhere in its arguments (`K.mean(layer.output)`), a function records itself into the
graph instead and returns a symbolic tensor (see `graph.symbolic.apply_op`).
"""

import functools
import weakref

import numpy as np
import torch
import torch.nn.functional as F

from .. import activations, config, initializers
from ..graph import evaluate
from ..graph.node import flatten as _leaves
from ..graph.node import is_symbolic, map_structure
from ..graph.symbolic import KerasTensor, apply_op
from .state import in_training


def op(fn):
    """Makes `fn` record itself when any argument is symbolic (`K.mean(layer.output)`)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if is_symbolic([list(args), list(kwargs.values())]):
            return apply_op(fn, args, kwargs, name=fn.__name__.strip("_"))
        return fn(*args, **kwargs)

    return wrapper


def tensor(x, dtype=None):
    """`x` (tensor, numpy array, number or nested list) as a torch tensor.

    Floating numpy data and Python floats become floatx, as Keras converts them.
    """
    if isinstance(x, torch.Tensor):
        return x if dtype is None else x.to(config.standardize_dtype(dtype))
    array = np.asarray(x)
    if dtype is None and array.dtype.kind == "f":
        dtype = config.floatx()
    if array.dtype.kind not in "fiub":
        raise TypeError(f"expected a tensor, a numpy array or a number, received "
                        f"{type(x).__name__} {x!r}")
    out = torch.as_tensor(np.ascontiguousarray(array))
    return out if dtype is None else out.to(config.standardize_dtype(dtype))


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _float(x):
    x = tensor(x)
    return x if x.is_floating_point() else x.to(config.floatx_dtype())


def _reduce(fn, x, axis, keepdims):
    if axis is None:
        out = fn(x)
        return out.reshape([1] * x.dim()) if keepdims else out
    return fn(x, dim=_axis(axis), keepdim=keepdims)


# ---------------------------------------------------------------- reductions
@op
def mean(x, axis=None, keepdims=False):
    """Mean over `axis` (int, tuple or None for all)."""
    return _reduce(torch.mean, _float(x), axis, keepdims)


@op
def sum(x, axis=None, keepdims=False):  # noqa: A001 (Keras's name)
    return _reduce(torch.sum, tensor(x), axis, keepdims)


@op
def max(x, axis=None, keepdims=False):  # noqa: A001
    return _reduce(torch.amax, tensor(x), axis, keepdims)


@op
def min(x, axis=None, keepdims=False):  # noqa: A001
    return _reduce(torch.amin, tensor(x), axis, keepdims)


@op
def prod(x, axis=None, keepdims=False):
    x = tensor(x)
    if axis is None:
        return _reduce(torch.prod, x, None, keepdims)
    for a in sorted((_axis(axis) if isinstance(axis, (tuple, list)) else (axis,)),
                    key=lambda a: a % x.dim(), reverse=True):
        x = torch.prod(x, dim=a, keepdim=keepdims)
    return x


@op
def var(x, axis=None, keepdims=False):
    """Population variance (divides by n, as tf.math.reduce_variance)."""
    return _reduce(functools.partial(torch.var, correction=0), _float(x), axis, keepdims)


@op
def std(x, axis=None, keepdims=False):
    return torch.sqrt(var(x, axis=axis, keepdims=keepdims))


@op
def any(x, axis=None, keepdims=False):  # noqa: A001
    x = tensor(x).bool()
    return torch.any(x) if axis is None else torch.any(x, dim=_axis(axis), keepdim=keepdims)


@op
def all(x, axis=None, keepdims=False):  # noqa: A001
    x = tensor(x).bool()
    return torch.all(x) if axis is None else torch.all(x, dim=_axis(axis), keepdim=keepdims)


@op
def argmax(x, axis=-1):
    return torch.argmax(tensor(x), dim=axis)


@op
def argmin(x, axis=-1):
    return torch.argmin(tensor(x), dim=axis)


@op
def logsumexp(x, axis=None, keepdims=False):
    x = _float(x)
    if axis is None:
        out = torch.logsumexp(x.reshape(-1), dim=0)
        return out.reshape([1] * x.dim()) if keepdims else out
    return torch.logsumexp(x, dim=_axis(axis), keepdim=keepdims)


@op
def cumsum(x, axis=0):
    return torch.cumsum(tensor(x), dim=axis)


@op
def cumprod(x, axis=0):
    return torch.cumprod(tensor(x), dim=axis)


# ---------------------------------------------------------------- element-wise
@op
def square(x):
    return torch.square(tensor(x))


@op
def sqrt(x):
    """Square root; Keras clips negative inputs to 0 first."""
    return torch.sqrt(torch.clamp(_float(x), min=0.0))


@op
def abs(x):  # noqa: A001
    return torch.abs(tensor(x))


@op
def exp(x):
    return torch.exp(_float(x))


@op
def log(x):
    return torch.log(_float(x))


@op
def pow(x, a):  # noqa: A001
    return torch.pow(tensor(x), a if not isinstance(a, np.ndarray) else tensor(a))


@op
def sign(x):
    return torch.sign(tensor(x))


@op
def round(x):  # noqa: A001
    """Rounds half to even, as tf.round."""
    return torch.round(tensor(x))


@op
def sin(x):
    return torch.sin(_float(x))


@op
def cos(x):
    return torch.cos(_float(x))


def _pair(x, y):
    x = tensor(x)
    y = tensor(y, dtype=x.dtype) if not isinstance(y, torch.Tensor) else y
    return x, y


@op
def maximum(x, y):
    return torch.maximum(*_pair(x, y))


@op
def minimum(x, y):
    return torch.minimum(*_pair(x, y))


@op
def clip(x, min_value, max_value):
    if max_value is not None and min_value is not None and max_value < min_value:
        max_value = min_value  # Keras: an empty range clips everything to min_value
    return torch.clamp(tensor(x), min_value, max_value)


@op
def equal(x, y):
    return torch.eq(*_pair(x, y))


@op
def not_equal(x, y):
    return torch.ne(*_pair(x, y))


@op
def greater(x, y):
    return torch.gt(*_pair(x, y))


@op
def greater_equal(x, y):
    return torch.ge(*_pair(x, y))


@op
def less(x, y):
    return torch.lt(*_pair(x, y))


@op
def less_equal(x, y):
    return torch.le(*_pair(x, y))


@op
def switch(condition, then_expression, else_expression):
    """Element-wise `then if condition else else` (callables are called first)."""
    then_value = then_expression() if callable(then_expression) else then_expression
    else_value = else_expression() if callable(else_expression) else else_expression
    then_value, else_value = _pair(then_value, else_value)
    return torch.where(tensor(condition).bool(), then_value, else_value)


@op
def stop_gradient(x):
    return tensor(x).detach()


# ---------------------------------------------------------------- linear algebra
@op
def dot(x, y):
    """Sums over the last axis of x and the second-to-last of y (the last when y is 1-D),
    as numpy.dot and Keras's K.dot: (2, 3, 4) · (7, 4, 5) → (2, 3, 7, 5), no broadcasting."""
    x, y = tensor(x), tensor(y)
    if x.dim() <= 2 and y.dim() <= 2:
        return torch.matmul(x, y)
    return torch.tensordot(x, y, dims=([x.dim() - 1], [y.dim() - 2 if y.dim() > 1 else 0]))


@op
def batch_dot(x, y, axes=None):
    """Per-sample dot product contracting `axes` (Keras 2 semantics: rank-2 inputs give (B, 1)).

    Args:
        x, y: tensors with a leading batch axis.
        axes: int or (ax, ay); default last axis of x and second-to-last (or last) of y.
    """
    x, y = tensor(x), tensor(y)
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


@op
def l2_normalize(x, axis=None):
    """`x / sqrt(max(sum(x**2, axis), 1e-12))` (tf.keras's definition)."""
    x = _float(x)
    square_sum = torch.sum(torch.square(x), dim=_axis(axis), keepdim=True) if axis is not None \
        else torch.sum(torch.square(x))
    return x * torch.rsqrt(torch.clamp(square_sum, min=1e-12))


# ---------------------------------------------------------------- shapes
@op
def concatenate(tensors, axis=-1):
    return torch.cat([tensor(t) for t in tensors], dim=axis)


@op
def stack(x, axis=0):
    return torch.stack([tensor(t) for t in x], dim=axis)


@op
def reshape(x, shape):
    return tensor(x).reshape(tuple(int(d) for d in shape))


@op
def expand_dims(x, axis=-1):
    return tensor(x).unsqueeze(axis)


@op
def squeeze(x, axis):
    return tensor(x).squeeze(axis)


@op
def flatten(x):
    return tensor(x).reshape(-1)


@op
def batch_flatten(x):
    x = tensor(x)
    return x.reshape(x.shape[0], -1)


@op
def transpose(x, axes=None):
    """Reverses the axes (like numpy) or permutes them by `axes`."""
    x = tensor(x)
    return x.permute(*(axes if axes is not None else reversed(range(x.dim()))))


@op
def permute_dimensions(x, pattern):
    return tensor(x).permute(*pattern)


@op
def tile(x, n):
    return tensor(x).repeat(*([n] if isinstance(n, int) else n))


@op
def repeat(x, n):
    """(B, d) → (B, n, d), as Keras's RepeatVector."""
    return tensor(x).unsqueeze(1).expand(-1, n, -1).contiguous()


@op
def repeat_elements(x, rep, axis):
    return torch.repeat_interleave(tensor(x), rep, dim=axis)


@op
def gather(reference, indices):
    return tensor(reference)[tensor(indices).long()]


def _shape(x):
    return torch.tensor(tuple(tensor(x).shape), dtype=torch.int32)


def shape(x):
    """The shape as a 1-D int tensor (Keras 2's dynamic `K.shape`).

    On a symbolic tensor the result is symbolic; its sizes feed `K.random_*` shapes and
    `K.reshape` inside layers, and stay known where `x`'s are (see `random`)."""
    if not is_symbolic(x):
        return _shape(x)
    out = apply_op(_shape, (x,), name="shape")
    if isinstance(out, KerasTensor):  # (inside a forward pass it is a value already)
        _SHAPES[out] = tuple(x.shape)
    return out


def int_shape(x):
    """Shape as a tuple of ints (None where a symbolic tensor's size is unknown)."""
    return tuple(x.shape) if hasattr(x, "shape") else tuple(np.shape(x))


def ndim(x):
    return len(int_shape(x))


def dtype(x):
    """The dtype's name: 'float32', 'int64', ..."""
    value = x.dtype
    return value if isinstance(value, str) else str(value).replace("torch.", "")


def count_params(x):
    return int(np.prod(int_shape(x)))


@op
def resize_images(x, height_factor, width_factor, data_format=None, interpolation="nearest"):
    """Up-samples the spatial axes by integer factors (Keras's UpSampling2D math)."""
    x = tensor(x)
    channels_last = (data_format or config.image_data_format()) == "channels_last"
    h_axis, w_axis = (1, 2) if channels_last else (2, 3)
    if interpolation != "nearest":
        raise ValueError(f"resize_images: interpolation {interpolation!r} is not supported; "
                         "use 'nearest' or layers.UpSampling2D(interpolation='bilinear')")
    return x.repeat_interleave(height_factor, dim=h_axis).repeat_interleave(width_factor,
                                                                            dim=w_axis)


# ---------------------------------------------------------------- activations & losses
@op
def softmax(x, axis=-1):
    return torch.softmax(_float(x), dim=axis)


@op
def sigmoid(x):
    return torch.sigmoid(_float(x))


@op
def hard_sigmoid(x):
    return activations.hard_sigmoid(_float(x))


@op
def softplus(x):
    return F.softplus(_float(x))


@op
def softsign(x):
    return F.softsign(_float(x))


@op
def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    return activations.relu(_float(x), negative_slope=alpha, max_value=max_value,
                            threshold=threshold)


@op
def elu(x, alpha=1.0):
    return activations.elu(_float(x), alpha=alpha)


@op
def tanh(x):
    return torch.tanh(_float(x))


@op
def binary_crossentropy(target, output, from_logits=False):
    """Element-wise crossentropy; probabilities are clipped to [eps, 1 - eps] (Keras 2)."""
    target, output = _float(target), _float(output)
    if from_logits:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")
    eps = config.epsilon()
    output = torch.clamp(output, eps, 1.0 - eps)
    return -(target * torch.log(output) + (1.0 - target) * torch.log(1.0 - output))


@op
def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    target, output = _float(target), _float(output)
    if from_logits:
        return -torch.sum(target * torch.log_softmax(output, dim=axis), dim=axis)
    output = output / torch.sum(output, dim=axis, keepdim=True)
    output = torch.clamp(output, config.epsilon(), 1.0 - config.epsilon())
    return -torch.sum(target * torch.log(output), dim=axis)


@op
def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    target = tensor(target).long()
    output = _float(output)
    if target.dim() == output.dim():
        target = target.squeeze(axis)
    one_hot_target = F.one_hot(target, output.shape[axis]).to(output.dtype).movedim(-1, axis)
    return categorical_crossentropy(one_hot_target, output, from_logits=from_logits, axis=axis)


# ---------------------------------------------------------------- creation & casting
@op
def one_hot(indices, num_classes):
    return F.one_hot(tensor(indices).long(), num_classes).to(config.floatx_dtype())


@op
def cast(x, dtype):
    return tensor(x).to(config.standardize_dtype(dtype))


def constant(value, dtype=None, shape=None, name=None):
    """A constant tensor (floatx for floating values)."""
    out = tensor(value, dtype=dtype)
    return out.expand(shape).clone() if shape is not None else out


def zeros(shape, dtype=None, name=None):
    return torch.zeros(tuple(shape), dtype=config.standardize_dtype(dtype))


def ones(shape, dtype=None, name=None):
    return torch.ones(tuple(shape), dtype=config.standardize_dtype(dtype))


def eye(size, dtype=None, name=None):
    return torch.eye(size, dtype=config.standardize_dtype(dtype))


@op
def zeros_like(x, dtype=None, name=None):
    x = tensor(x)
    return torch.zeros_like(x, dtype=config.standardize_dtype(dtype) if dtype else x.dtype)


@op
def ones_like(x, dtype=None, name=None):
    x = tensor(x)
    return torch.ones_like(x, dtype=config.standardize_dtype(dtype) if dtype else x.dtype)


def arange(start, stop=None, step=1, dtype="int32"):
    return torch.arange(start, stop, step, dtype=config.standardize_dtype(dtype)) \
        if stop is not None else torch.arange(start, dtype=config.standardize_dtype(dtype))


def _shape_values(shape):
    """A shape given as ints, a 1-D int tensor, or a mix of ints and int tensors."""
    if isinstance(shape, torch.Tensor):
        return tuple(int(d) for d in shape.reshape(-1))
    out = []
    for d in shape:
        if isinstance(d, torch.Tensor):
            out.extend(int(v) for v in d.reshape(-1))
        else:
            out.append(int(d))
    return tuple(out)


def random(fn):
    """Like `op`, for functions of a `shape` that may hold symbolic sizes.

    `K.random_normal(shape=(K.shape(z_mean)[0], 2))` at graph level records an operation
    whose output shape is known where Keras 2's static shape was: sizes computed from
    `K.shape(...)` of a tensor with a known size are known, the batch stays None.
    """
    @functools.wraps(fn)
    def wrapper(shape, *args, **kwargs):
        if is_symbolic([list(args), list(kwargs.values())]):
            raise TypeError(f"K.{fn.__name__}: only `shape` may be symbolic; give numbers "
                            "for the other arguments")
        if is_symbolic(shape):
            dtype = config.standardize_dtype(kwargs.get("dtype"))
            spec = ([_static_dims(shape)], [dtype], False)
            return apply_op(fn, (shape,) + args, kwargs, name=fn.__name__,
                            output_spec=spec)
        return fn(shape, *args, **kwargs)

    return wrapper


def _on_device(value):
    return value.to(config.device())


@random
def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal draws; an int `seed` gives the same values on every call (Keras 3)."""
    init = initializers.RandomNormal(mean=mean, stddev=stddev, seed=seed)
    return _on_device(init(_shape_values(shape), dtype=dtype))


@random
def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Uniform draws in [minval, maxval)."""
    init = initializers.RandomUniform(minval=minval, maxval=maxval, seed=seed)
    return _on_device(init(_shape_values(shape), dtype=dtype))


@random
def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal draws, re-drawn when more than two `stddev` from `mean` (tf's definition)."""
    init = initializers.TruncatedNormal(mean=mean, stddev=stddev, seed=seed)
    return _on_device(init(_shape_values(shape), dtype=dtype))


@random
def random_binomial(shape, p=0.0, dtype=None, seed=None):
    """1 with probability `p`, else 0 (Keras 2: `uniform <= p`)."""
    draws = random_uniform(shape, dtype=dtype, seed=seed)
    return (draws <= p).to(draws.dtype)


random_bernoulli = random_binomial  # tf.keras's later name


def random_normal_variable(shape, mean, scale, dtype=None, name=None, seed=None):
    """A tensor of normal draws, settable with `K.set_value` (Keras 2 made a variable)."""
    return random_normal(shape, mean=mean, stddev=scale, dtype=dtype, seed=seed)


def random_uniform_variable(shape, low, high, dtype=None, name=None, seed=None):
    return random_uniform(shape, minval=low, maxval=high, dtype=dtype, seed=seed)


_SHAPES = weakref.WeakKeyDictionary()  # K.shape(x) of symbolic x -> x's shape (with None)
_STAND_INS = ((2, 16), (3, 24))  # (batch, other) sizes for unknown entries, two runs


def _static_dims(shape):
    """The sizes of a symbolic `shape` argument known before any data: each is computed
    from `K.shape(...)` values twice with different stand-ins for unknown sizes; those
    that agree are known. Sizes depending on anything else are None."""
    runs = [_shape_with_stand_in(shape, stand_in) for stand_in in _STAND_INS]
    if runs[0] is None or runs[1] is None:
        if isinstance(shape, (list, tuple)):
            return (None,) * len(shape)
        return (None,) * int(shape.shape[0])
    return tuple(a if a == b else None for a, b in zip(*runs))


def _shape_with_stand_in(shape, stand_in):
    batch, other = stand_in
    values = {id(out): torch.tensor([(batch if i == 0 else other) if d is None else d
                                     for i, d in enumerate(dims)], dtype=torch.int32)
              for out, dims in list(_SHAPES.items())}
    leaves = [leaf for leaf in _leaves(shape) if isinstance(leaf, KerasTensor)]
    try:
        evaluate.run(evaluate.plan(leaves, (), known=values.keys()), values)
    except (ValueError, TypeError, RuntimeError):
        return None  # depends on data, not only on shapes
    concrete = map_structure(lambda leaf: values[id(leaf)] if isinstance(leaf, KerasTensor)
                             else leaf, shape)
    return _shape_values(concrete)


# ---------------------------------------------------------------- learning phase
def in_train_phase(x, alt, training=None):
    """`x` in training, `alt` in inference; `training` defaults to the learning phase."""
    if training is None:
        training = in_training()
    if is_symbolic(training):
        raise TypeError("in_train_phase: pass training as a Python bool inside call()")
    chosen = x if bool(training) else alt
    return chosen() if callable(chosen) else chosen


def in_test_phase(x, alt, training=None):
    return in_train_phase(alt, x, training=training)

