"""Activation functions: plain functions on torch tensors with Keras 3 numerics.

Every function takes a tensor and returns a new tensor of the same shape. They call torch's
fused kernels, exactly as Keras 3's torch backend does (`keras/src/backend/torch/nn.py`), so
the numbers match Keras bit for bit or within float rounding.

Where Keras versions differ:
    * `hard_sigmoid` is Keras 3's `relu6(x + 3) / 6` = clip(x/6 + 0.5, 0, 1); Keras 2 / tf.keras
      2.x used clip(0.2x + 0.5, 0, 1). A model trained with the old definition gives different
      numbers here.
    * `relu` also accepts tf.keras 2.x's keyword `alpha=` for `negative_slope=`.
    * `gelu` defaults to the exact erf form (`approximate=False`), as in Keras 3 and tf.keras.
    * `leaky_relu` defaults to `negative_slope=0.2` (Keras 3 and `tf.nn.leaky_relu`); the
      `LeakyReLU` *layer* has its own default.

Example:
    >>> from layerkit import activations
    >>> activations.get("relu")(torch.tensor([-1.0, 2.0]))
    tensor([0., 2.])
"""

import types

import torch
import torch.nn.functional as F

from layerkit.utils import registry
from layerkit.utils.registry import resolve
from layerkit.utils.tensors import as_tensor as _as_tensor


def linear(x):
    """Linear (identity) activation: returns `x` unchanged.

    Args:
        x: input tensor.

    Returns:
        `x` itself.
    """
    return x


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0, *, alpha=None):
    """Rectified linear unit with Keras's optional slope, saturation and threshold.

    `f(x) = min(x, max_value)` for `x > threshold`, `negative_slope * (x - threshold)` otherwise
    (the negative part is not clipped), following Keras 3 `ReLU.static_call` step by step.

    Args:
        x: input tensor.
        negative_slope: slope below the threshold (tf.keras 2.x called it `alpha`).
        max_value: saturation value, or None for no upper bound.
        threshold: values at or below it are damped.
        alpha: tf.keras 2.x name for `negative_slope`; wins when given.

    Returns:
        A tensor of the same shape and dtype as `x`.
    """
    x = _as_tensor(x)
    if alpha is not None:
        negative_slope = alpha
    if negative_slope != 0.0:
        if max_value is None and threshold == 0:
            return F.leaky_relu(x, negative_slope=negative_slope)
        negative_part = torch.relu(-x + threshold) if threshold != 0 else torch.relu(-x)
    clip_max = max_value is not None
    if threshold != 0:
        x = torch.where(x > threshold, x, torch.zeros((), dtype=x.dtype, device=x.device))
    elif max_value == 6:
        x = F.relu6(x)
        clip_max = False
    else:
        x = torch.relu(x)
    if clip_max:
        x = torch.clamp(x, 0.0, max_value)
    if negative_slope != 0.0:
        x = x - negative_slope * negative_part
    return x


def leaky_relu(x, negative_slope=0.2):
    """Leaky ReLU: `x` for `x >= 0`, `negative_slope * x` otherwise.

    Args:
        x: input tensor.
        negative_slope: slope for negative inputs (Keras 3 default 0.2).

    Returns:
        A tensor of the same shape as `x`.
    """
    return F.leaky_relu(_as_tensor(x), negative_slope=negative_slope)


def relu6(x):
    """ReLU capped at 6: `min(max(x, 0), 6)`.

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape as `x`.
    """
    return F.relu6(_as_tensor(x))


def sigmoid(x):
    """Logistic sigmoid `1 / (1 + exp(-x))`.

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape as `x`, values in (0, 1).
    """
    return torch.sigmoid(_as_tensor(x))


def softmax(x, axis=-1):
    """Softmax `exp(x) / sum(exp(x))` along `axis`.

    Args:
        x: input tensor.
        axis: the axis the probabilities sum to 1 over; None means over all elements.

    Returns:
        A tensor of the same shape as `x`.
    """
    x = _as_tensor(x)
    if axis is None:
        return F.softmax(x.reshape(-1), dim=-1).reshape(x.shape)
    return F.softmax(x, dim=axis)


def log_softmax(x, axis=-1):
    """Logarithm of the softmax along `axis`, computed stably.

    Args:
        x: input tensor.
        axis: the axis to normalize over; None means over all elements.

    Returns:
        A tensor of the same shape as `x`.
    """
    x = _as_tensor(x)
    if axis is None:
        return F.log_softmax(x.reshape(-1), dim=-1).reshape(x.shape)
    return F.log_softmax(x, dim=axis)


def tanh(x):
    """Hyperbolic tangent.

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape as `x`, values in (-1, 1).
    """
    return torch.tanh(_as_tensor(x))


def elu(x, alpha=1.0):
    """Exponential linear unit: `x` for `x > 0`, `alpha * (exp(x) - 1)` otherwise.

    Args:
        x: input tensor.
        alpha: scale of the negative part.

    Returns:
        A tensor of the same shape as `x`.
    """
    return F.elu(_as_tensor(x), alpha)


def selu(x):
    """Scaled ELU with alpha = 1.67326324, scale = 1.05070098 (Klambauer et al., 2017).

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape as `x`.
    """
    return F.selu(_as_tensor(x))


def celu(x, alpha=1.0):
    """Continuously differentiable ELU: `x` for `x >= 0`, `alpha * (exp(x/alpha) - 1)` otherwise.

    Args:
        x: input tensor.
        alpha: scale of the negative part.

    Returns:
        A tensor of the same shape as `x`.
    """
    return F.celu(_as_tensor(x), alpha=alpha)


def softplus(x):
    """Softplus `log(exp(x) + 1)` (torch's kernel: returns `x` itself for `x > 20`, as Keras 3).

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape as `x`.
    """
    return F.softplus(_as_tensor(x))


def softsign(x):
    """Softsign `x / (|x| + 1)`.

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape as `x`.
    """
    return F.softsign(_as_tensor(x))


def silu(x):
    """SiLU / swish `x * sigmoid(x)`.

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape as `x`.
    """
    return F.silu(_as_tensor(x))


swish = silu


def gelu(x, approximate=False):
    """Gaussian error linear unit `x * P(X <= x)`, X ~ N(0, 1).

    Args:
        x: input tensor.
        approximate: False for the exact erf form (Keras default), True for the tanh form.

    Returns:
        A tensor of the same shape as `x`.
    """
    return F.gelu(_as_tensor(x), approximate="tanh" if approximate else "none")


def hard_sigmoid(x):
    """Keras 3 hard sigmoid: `clip(x / 6 + 0.5, 0, 1)` (tf.keras 2.x used `0.2 * x + 0.5`).

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape as `x`, values in [0, 1].
    """
    return F.hardsigmoid(_as_tensor(x))


def hard_silu(x):
    """Hard SiLU / hard swish `x * hard_sigmoid(x)` = `x * relu6(x + 3) / 6`.

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape as `x`.
    """
    return F.hardswish(_as_tensor(x))


hard_swish = hard_silu


def hard_tanh(x):
    """Hard tanh: `x` clipped to [-1, 1].

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape as `x`.
    """
    return F.hardtanh(_as_tensor(x), min_val=-1.0, max_val=1.0)


def exponential(x):
    """Exponential `exp(x)`.

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape as `x`.
    """
    return torch.exp(_as_tensor(x))


def mish(x):
    """Mish `x * tanh(softplus(x))` (Misra, 2019), via torch's fused kernel.

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape as `x`.
    """
    return F.mish(_as_tensor(x))


def log_sigmoid(x):
    """Logarithm of the sigmoid, `-softplus(-x)`, computed stably.

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape as `x`.
    """
    return F.logsigmoid(_as_tensor(x))


def glu(x, axis=-1):
    """Gated linear unit: splits `x` in halves `a, b` along `axis` and returns `a * sigmoid(b)`.

    Args:
        x: input tensor; its size along `axis` must be even.
        axis: the axis to split.

    Returns:
        A tensor with `axis` halved.
    """
    return F.glu(_as_tensor(x), dim=axis)


def tanh_shrink(x):
    """Tanh shrink `x - tanh(x)`.

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape as `x`.
    """
    return F.tanhshrink(_as_tensor(x))


def soft_shrink(x, threshold=0.5):
    """Soft shrink: `x - threshold` above it, `x + threshold` below `-threshold`, else 0.

    Args:
        x: input tensor.
        threshold: half-width of the zero band.

    Returns:
        A tensor of the same shape as `x`.
    """
    return F.softshrink(_as_tensor(x), lambd=threshold)


def hard_shrink(x, threshold=0.5):
    """Hard shrink: `x` where `|x| > threshold`, else 0.

    Args:
        x: input tensor.
        threshold: half-width of the zero band.

    Returns:
        A tensor of the same shape as `x`.
    """
    return F.hardshrink(_as_tensor(x), lambd=threshold)


def threshold(x, threshold, default_value):
    """Keeps `x` where `x > threshold` and writes `default_value` elsewhere.

    Args:
        x: input tensor.
        threshold: the cut-off.
        default_value: the value for `x <= threshold`.

    Returns:
        A tensor of the same shape as `x`.
    """
    return F.threshold(_as_tensor(x), threshold, default_value)


def sparse_plus(x):
    """SparsePlus: 0 for `x <= -1`, `(x + 1)^2 / 4` for `-1 < x < 1`, `x` for `x >= 1`.

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape as `x`.
    """
    x = _as_tensor(x)
    return torch.where(x <= -1, torch.zeros_like(x), torch.where(x < 1, 0.25 * (x + 1) ** 2, x))


def sparse_sigmoid(x):
    """Sparse sigmoid: `clip((x + 1) / 2, 0, 1)`.

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape as `x`.
    """
    x = _as_tensor(x)
    return torch.where(
        x <= -1, torch.zeros_like(x), torch.where(x >= 1, torch.ones_like(x), 0.5 * (x + 1))
    )


def squareplus(x, b=4):
    """Squareplus `(x + sqrt(x^2 + b)) / 2` (Ramachandran et al., 2021).

    Args:
        x: input tensor.
        b: smoothness, non-negative.

    Returns:
        A tensor of the same shape as `x`.
    """
    x = _as_tensor(x)
    return (x + torch.sqrt(x**2 + b)) / 2


def sparsemax(x, axis=-1):
    """Sparsemax: the Euclidean projection of `x` onto the simplex along `axis`.

    Keras 3 torch backend algorithm: sort descending, find the support size k and the
    threshold tau, return `max(x - tau, 0)` (Martins & Astudillo, 2016).

    Args:
        x: input tensor.
        axis: the axis that sums to 1.

    Returns:
        A tensor of the same shape as `x`, sparse and summing to 1 along `axis`.
    """
    x = _as_tensor(x)
    x_sorted, _ = torch.sort(x, dim=axis, descending=True)
    cumsum = torch.cumsum(x_sorted, dim=axis)
    r_shape = [1] * x.ndim
    r_shape[axis] = -1
    r = torch.arange(1, x.shape[axis] + 1, device=x.device, dtype=x.dtype).view(r_shape)
    support = x_sorted - (cumsum - 1) / r > 0
    k = torch.sum(support, dim=axis, keepdim=True)
    cumsum_support = torch.where(support, cumsum, torch.zeros_like(cumsum))
    tau = (torch.sum(cumsum_support, dim=axis, keepdim=True) - 1) / k
    return torch.clamp(x - tau, min=0.0)


# Keras 3 `keras.activations.ALL_OBJECTS_DICT`: each function under its own name plus the
# aliases `swish` and `hard_swish`. `serialize` returns the canonical (function) name.
_ALL = (
    linear, relu, leaky_relu, relu6, sigmoid, softmax, log_softmax, tanh, elu, selu, celu,
    softplus, softsign, silu, gelu, hard_sigmoid, hard_silu, hard_tanh, exponential, mish,
    log_sigmoid, glu, tanh_shrink, soft_shrink, hard_shrink, threshold, sparse_plus,
    sparse_sigmoid, squareplus, sparsemax,
)
ACTIVATIONS = {fn.__name__: fn for fn in _ALL}
ACTIVATIONS.update({"swish": silu, "hard_swish": hard_silu})
registry.register_table("activations", ACTIVATIONS)


def get(identifier, custom_objects=None):
    """Returns the activation function named or given by `identifier`.

    Args:
        identifier: None (→ `linear`), a name such as `'relu'`, a `{'class_name': ...}` dict,
            or a callable (returned unchanged).
        custom_objects: optional `{name: function}` looked up before the built-ins.

    Returns:
        A callable taking and returning a tensor.

    Raises:
        ValueError: for an unknown name (the message lists the valid ones) or a non-callable.

    Example:
        >>> get("relu") is relu
        True
    """
    if identifier is None:
        return linear
    fn = resolve(identifier, ACTIVATIONS, "activation", custom_objects, instantiate=False)
    if not callable(fn):
        raise ValueError(
            f"Could not interpret activation identifier {identifier!r}: expected None, a name "
            f"such as 'relu' or a callable. Valid names are: {', '.join(sorted(ACTIVATIONS))}"
        )
    return fn


def serialize(activation):
    """Returns the Keras name of an activation, for layer configs.

    Args:
        activation: a function from this module, a named custom function, or a callable object
            with `get_config()`.

    Returns:
        The name string (`'relu'`; aliases give the canonical name, `swish` → `'silu'`), the
        `__name__` of a custom function (reload it via `custom_objects`), or a
        `{'class_name', 'config'}` dict for objects with `get_config()`.

    Raises:
        ValueError: for lambdas and other callables that have no name to save.
    """
    name = getattr(activation, "__name__", None)
    if ACTIVATIONS.get(name) is activation:
        return name  # an alias is the same function object, so `swish` gives 'silu'
    if hasattr(activation, "get_config"):
        return {"class_name": type(activation).__name__, "config": activation.get_config()}
    if isinstance(activation, types.FunctionType) and name and name != "<lambda>":
        return name
    raise ValueError(
        f"Cannot serialize activation {activation!r}: expected a layerkit activation, a named "
        "function or an object with get_config(). Replace lambdas with a named function and "
        "pass it in custom_objects when loading."
    )
