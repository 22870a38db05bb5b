"""Weight initializers: Keras classes that fill a new tensor of a given shape.

An initializer is called as `init(shape, dtype=None)` and returns a new CPU tensor (floatx by
default); layers create their weights empty and fill them through it.

Randomness:
    * `seed=None` draws from torch's global generator, so `torch.manual_seed` /
      `layerkit.config.set_random_seed` reproduce a run, and each call gives new values
      (tf.keras 2.x behaviour; a Keras 3 unseeded instance repeats its values).
    * `seed=<int>` uses a fresh `torch.Generator` seeded with `seed` on every call: repeated
      calls return the same tensor, as in Keras 3 and tf.keras 2.x. The draws replicate Keras 3's
      torch backend (`keras/src/backend/torch/random.py`), so on CPU a seeded layerkit
      initializer returns the very tensor the seeded Keras 3 initializer returns.

Formulas: KERAS_REFERENCE §2 (Keras 3 `keras/src/initializers/*.py`).

Example:
    >>> from layerkit import initializers
    >>> initializers.get("glorot_uniform")((784, 10)).shape
    torch.Size([784, 10])
"""

import math

import numpy as np
import torch

from layerkit import config
from layerkit.utils import registry
from layerkit.utils.registry import resolve
from layerkit.utils.registry import serialize as registry_serialize

# Std of a unit normal truncated to (-2, 2); dividing by it makes the post-truncation std right.
_TRUNCATION_STD = 0.87962566103423978


def _standardize_shape(shape, who):
    """Returns `shape` as a tuple of ints (an int n means `(n,)`)."""
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        dims = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise ValueError(
            f"{who}: shape must be a tuple of non-negative ints, received {shape!r}"
        ) from None
    if any(d < 0 for d in dims):
        raise ValueError(f"{who}: shape must be a tuple of non-negative ints, received {shape!r}")
    return dims


def _float_dtype(dtype, who):
    """Returns the torch dtype for `dtype` (None → floatx), which must be floating point."""
    dtype = config.standardize_dtype(dtype)
    if not dtype.is_floating_point:
        raise ValueError(
            f"{who}: random initializers need a floating dtype, received {dtype}; "
            "pass dtype='float32' (or leave it None for floatx)"
        )
    return dtype


class Initializer:
    """Base class: subclasses implement `__call__(shape, dtype=None)` and `get_config()`.

    Example:
        >>> class Halves(Initializer):
        ...     def __call__(self, shape, dtype=None):
        ...         return torch.full(shape, 0.5, dtype=config.standardize_dtype(dtype))
    """

    def __call__(self, shape, dtype=None):
        """Returns a new tensor of `shape` and `dtype` (None → floatx).

        Args:
            shape: tuple of ints.
            dtype: torch/numpy dtype or name; None means `config.floatx()`.

        Returns:
            A new `torch.Tensor` on the CPU.
        """
        raise NotImplementedError(
            f"{type(self).__name__} must implement __call__(shape, dtype=None)"
        )

    def get_config(self):
        """Returns the constructor arguments as a JSON-serializable dict."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Builds an initializer from the dict `get_config()` returned.

        Args:
            config: dict of constructor arguments.

        Returns:
            A new initializer.
        """
        return cls(**config)

    def clone(self):
        """Returns a new initializer with the same configuration."""
        return type(self).from_config(self.get_config())

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    """Fills with 0."""

    def __call__(self, shape, dtype=None):
        shape = _standardize_shape(shape, "Zeros")
        return torch.zeros(shape, dtype=config.standardize_dtype(dtype))


class Ones(Initializer):
    """Fills with 1."""

    def __call__(self, shape, dtype=None):
        shape = _standardize_shape(shape, "Ones")
        return torch.ones(shape, dtype=config.standardize_dtype(dtype))


class Constant(Initializer):
    """Fills with `value` (a scalar, or an array broadcastable to the shape).

    Args:
        value: the fill value.
    """

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        shape = _standardize_shape(shape, "Constant")
        value = torch.as_tensor(self.value, dtype=config.standardize_dtype(dtype))
        try:
            return value.expand(shape).clone()
        except RuntimeError:
            raise ValueError(
                f"Constant: value of shape {tuple(value.shape)} cannot be broadcast to the "
                f"requested shape {shape}; pass a scalar or a broadcastable array"
            ) from None

    def get_config(self):
        value = self.value
        if isinstance(value, (np.ndarray, torch.Tensor)):
            value = value.tolist()
        return {"value": value}


class Identity(Initializer):
    """`gain` times the identity matrix (2-D shapes only; non-square gives a rectangular eye).

    Args:
        gain: multiplier.
    """

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = _standardize_shape(shape, "Identity")
        if len(shape) != 2:
            raise ValueError(
                f"Identity: can only fill 2-D matrices, received shape {shape}; "
                "use Orthogonal for other ranks"
            )
        return self.gain * torch.eye(*shape, dtype=config.standardize_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain}


class RandomInitializer(Initializer):
    """Base of the random initializers: holds `seed` and makes the generator for one call.

    Args:
        seed: None (global torch generator) or an int (same values on every call).
    """

    def __init__(self, seed=None):
        is_int = isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)
        if seed is not None and not is_int:
            raise ValueError(
                f"{type(self).__name__}(seed={seed!r}): seed must be an int or None; "
                "seed generator objects are not supported"
            )
        self.seed = None if seed is None else int(seed)

    def _generator(self):
        """Returns None (global RNG) or a fresh generator seeded like Keras 3's torch backend."""
        if self.seed is None:
            return None
        return torch.Generator().manual_seed(self.seed & 0xFFFFFFFF)

    def get_config(self):
        return {"seed": self.seed}


def _normal(shape, mean, stddev, dtype, generator):
    """Normal draws (same call as Keras 3's torch backend `random.normal`)."""
    return torch.normal(mean, stddev, size=shape, generator=generator, dtype=dtype)


def _uniform(shape, minval, maxval, dtype, generator):
    """Uniform draws in [minval, maxval) (same arithmetic as Keras 3's torch backend)."""
    draw = torch.rand(shape or (1,), generator=generator, dtype=dtype)
    out = (maxval - minval) * draw + minval
    return out if shape else out[0]


def _truncated_normal(shape, mean, stddev, dtype, generator):
    """Normal draws re-drawn until inside mean ± 2·stddev.

    Keras 3's torch backend draws 4 candidates per element and keeps the first inside (-2, 2);
    we do the same (so seeded values match Keras) and then re-draw the rare elements
    (probability 0.0455**4 ≈ 4e-6) whose four candidates all fell outside, which Keras leaves
    untruncated.
    """
    draws = _normal(tuple(shape) + (4,), 0.0, 1.0, dtype, generator)
    valid = (draws > -2) & (draws < 2)
    first_valid = valid.max(-1, keepdim=True)[1]
    z = draws.gather(-1, first_valid).squeeze(-1)
    outside = (z <= -2) | (z >= 2)
    while outside.any():
        z[outside] = _normal((int(outside.sum()),), 0.0, 1.0, dtype, generator)
        outside = (z <= -2) | (z >= 2)
    return z * stddev + mean


class _MeanStddevInitializer(RandomInitializer):
    """Holds the `mean`, `stddev` and `seed` shared by RandomNormal and TruncatedNormal."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def get_config(self):
        return {"seed": self.seed, "mean": self.mean, "stddev": self.stddev}


class RandomNormal(_MeanStddevInitializer):
    """Normal draws N(mean, stddev²).

    Args:
        mean: mean.
        stddev: standard deviation (Keras default 0.05).
        seed: None or int.
    """

    def __call__(self, shape, dtype=None):
        shape = _standardize_shape(shape, "RandomNormal")
        dtype = _float_dtype(dtype, "RandomNormal")
        return _normal(shape, self.mean, self.stddev, dtype, self._generator())


class TruncatedNormal(_MeanStddevInitializer):
    """Normal draws N(mean, stddev²) re-drawn until within mean ± 2·stddev.

    `stddev` is that of the normal before truncation (the result's std is ≈0.88·stddev).

    Args:
        mean: mean.
        stddev: standard deviation before truncation (Keras default 0.05).
        seed: None or int.
    """

    def __call__(self, shape, dtype=None):
        shape = _standardize_shape(shape, "TruncatedNormal")
        dtype = _float_dtype(dtype, "TruncatedNormal")
        return _truncated_normal(shape, self.mean, self.stddev, dtype, self._generator())


class RandomUniform(RandomInitializer):
    """Uniform draws in [minval, maxval).

    Args:
        minval: lower bound (Keras default -0.05).
        maxval: upper bound (Keras default 0.05).
        seed: None or int.
    """

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval = minval
        self.maxval = maxval
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape = _standardize_shape(shape, "RandomUniform")
        dtype = _float_dtype(dtype, "RandomUniform")
        return _uniform(shape, self.minval, self.maxval, dtype, self._generator())

    def get_config(self):
        return {"seed": self.seed, "minval": self.minval, "maxval": self.maxval}


def compute_fans(shape, input_axes=None, output_axes=None):
    """Returns Keras's `(fan_in, fan_out)` for a weight of `shape` (Keras layouts).

    Rank 0: (1, 1); rank 1: (n, n); rank 2 (Dense kernel (in, out)): (in, out); rank ≥ 3
    (conv kernel `(*spatial, in, out)`): receptive field = prod(spatial), times in / out.

    Args:
        shape: tuple of ints.
        input_axes: optional axes whose product is fan_in (with `output_axes`).
        output_axes: optional axes whose product is fan_out.

    Returns:
        A tuple of two ints.
    """
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        return math.prod(shape[a] for a in input_axes), math.prod(shape[a] for a in output_axes)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


class VarianceScaling(RandomInitializer):
    """Draws with variance `scale / n`, n = fan_in, fan_out or their mean (at least 1).

    `'uniform'`: U(-limit, limit), limit = sqrt(3·scale/n). `'truncated_normal'` (alias
    `'normal'`): truncated at ±2σ with σ = sqrt(scale/n) / 0.8796…, so the std after truncation
    is sqrt(scale/n). `'untruncated_normal'`: N(0, scale/n).

    Args:
        scale: positive scaling factor.
        mode: `'fan_in'`, `'fan_out'` or `'fan_avg'`.
        distribution: `'truncated_normal'`, `'untruncated_normal'` or `'uniform'`.
        seed: None or int.
        input_axes, output_axes: optional axes that define the fans (Keras 3).
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 input_axes=None, output_axes=None):
        who = type(self).__name__
        if scale <= 0.0:
            raise ValueError(f"{who}(scale={scale!r}): scale must be a positive float")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(
                f"{who}(mode={mode!r}): mode must be 'fan_in', 'fan_out' or 'fan_avg'"
            )
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError(
                f"{who}(distribution={distribution!r}): distribution must be "
                "'truncated_normal' (or 'normal'), 'untruncated_normal' or 'uniform'"
            )
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.input_axes = input_axes
        self.output_axes = output_axes
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        who = type(self).__name__
        shape = _standardize_shape(shape, who)
        dtype = _float_dtype(dtype, who)
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(variance) / _TRUNCATION_STD
            return _truncated_normal(shape, 0.0, stddev, dtype, self._generator())
        if self.distribution == "untruncated_normal":
            return _normal(shape, 0.0, math.sqrt(variance), dtype, self._generator())
        limit = math.sqrt(3.0 * variance)
        return _uniform(shape, -limit, limit, dtype, self._generator())

    def get_config(self):
        return {
            "seed": self.seed, "scale": self.scale, "mode": self.mode,
            "distribution": self.distribution, "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class _PresetVarianceScaling(VarianceScaling):
    """A VarianceScaling whose (scale, mode, distribution) is fixed by the subclass."""

    _preset = None  # (scale, mode, distribution)

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        scale, mode, distribution = self._preset
        super().__init__(scale, mode, distribution, seed, input_axes, output_axes)

    def get_config(self):
        return {"seed": self.seed, "input_axes": self.input_axes, "output_axes": self.output_axes}


class GlorotUniform(_PresetVarianceScaling):
    """U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)). Args: seed, input/output_axes."""

    _preset = (1.0, "fan_avg", "uniform")


class GlorotNormal(_PresetVarianceScaling):
    """Truncated normal with std sqrt(2 / (fan_in + fan_out)). Args: seed, input/output_axes."""

    _preset = (1.0, "fan_avg", "truncated_normal")


class HeNormal(_PresetVarianceScaling):
    """Truncated normal with std sqrt(2 / fan_in). Args: seed, input/output_axes."""

    _preset = (2.0, "fan_in", "truncated_normal")


class HeUniform(_PresetVarianceScaling):
    """U(-limit, limit), limit = sqrt(6 / fan_in). Args: seed, input/output_axes."""

    _preset = (2.0, "fan_in", "uniform")


class LecunNormal(_PresetVarianceScaling):
    """Truncated normal with std sqrt(1 / fan_in). Args: seed, input/output_axes."""

    _preset = (1.0, "fan_in", "truncated_normal")


class LecunUniform(_PresetVarianceScaling):
    """U(-limit, limit), limit = sqrt(3 / fan_in). Args: seed, input/output_axes."""

    _preset = (1.0, "fan_in", "uniform")


class Orthogonal(RandomInitializer):
    """A random orthogonal matrix times `gain` (Keras 3 QR algorithm).

    The shape is flattened to `(prod(shape[:-1]), shape[-1])`; the rows (if fewer) or the
    columns are orthonormal.

    Args:
        gain: multiplier.
        seed: None or int.
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape = _standardize_shape(shape, "Orthogonal")
        dtype = _float_dtype(dtype, "Orthogonal")
        if len(shape) < 2:
            raise ValueError(
                f"Orthogonal: the shape must be at least 2-D, received {shape} of rank "
                f"{len(shape)}"
            )
        rows, cols = math.prod(shape[:-1]), shape[-1]
        # QR has no half-precision kernels: draw and factor in at least float32.
        work_dtype = dtype if dtype in (torch.float32, torch.float64) else torch.float32
        a = _normal((max(rows, cols), min(rows, cols)), 0.0, 1.0, work_dtype, self._generator())
        q, r = torch.linalg.qr(a)
        q = q * torch.sign(torch.diagonal(r))  # makes the distribution uniform (Haar)
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(shape)).to(dtype)

    def get_config(self):
        return {"seed": self.seed, "gain": self.gain}


# Keras 3 `keras.initializers.ALL_OBJECTS_DICT`: class names, snake_case names and aliases.
_CLASSES = (
    Constant, Identity, Ones, Zeros, GlorotNormal, GlorotUniform, HeNormal, HeUniform,
    LecunNormal, LecunUniform, Orthogonal, RandomNormal, RandomUniform, TruncatedNormal,
    VarianceScaling,
)
_SNAKE = {
    "GlorotNormal": "glorot_normal", "GlorotUniform": "glorot_uniform",
    "HeNormal": "he_normal", "HeUniform": "he_uniform", "LecunNormal": "lecun_normal",
    "LecunUniform": "lecun_uniform", "RandomNormal": "random_normal",
    "RandomUniform": "random_uniform", "TruncatedNormal": "truncated_normal",
    "VarianceScaling": "variance_scaling",
}
INITIALIZERS = {cls.__name__: cls for cls in _CLASSES}
INITIALIZERS.update({_SNAKE.get(c.__name__, c.__name__.lower()): c for c in _CLASSES})
registry.register_table("initializers", INITIALIZERS)
INITIALIZERS.update({
    "normal": RandomNormal, "uniform": RandomUniform, "zero": Zeros, "one": Ones,
    "IdentityInitializer": Identity, "OrthogonalInitializer": Orthogonal,
})

# Keras 2 / tf.keras 2.x module attributes: `initializers.glorot_uniform(seed=0)`, ...
zeros, zero, ones, one, constant = Zeros, Zeros, Ones, Ones, Constant
random_normal, normal, random_uniform, uniform = RandomNormal, RandomNormal, RandomUniform, \
    RandomUniform
truncated_normal, identity, orthogonal = TruncatedNormal, Identity, Orthogonal
glorot_normal, glorot_uniform, he_normal, he_uniform = GlorotNormal, GlorotUniform, HeNormal, \
    HeUniform
lecun_normal, lecun_uniform, variance_scaling = LecunNormal, LecunUniform, VarianceScaling


def _from_tensor(value):
    """Returns an initializer function that returns a copy of `value` (tensor or array)."""
    value = torch.as_tensor(value)

    def initialize(shape, dtype=None):
        if tuple(shape) != tuple(value.shape):
            raise ValueError(
                f"Tensor initializer: expected shape {tuple(value.shape)} (the given "
                f"tensor's), received shape={tuple(shape)}"
            )
        return value.to(dtype=config.standardize_dtype(dtype), device="cpu", copy=True)

    return initialize


def get(identifier, custom_objects=None):
    """Returns the initializer named or given by `identifier`.

    Args:
        identifier: None, a name (`'glorot_uniform'`, `'zeros'`, `'he_normal'`, ...), a
            `{'class_name': ..., 'config': {...}}` dict, a class (instantiated), an initializer
            or callable `(shape, dtype=None)` (returned unchanged), or a tensor / NumPy array
            (its values, for that exact shape).
        custom_objects: optional `{name: class}` looked up before the built-ins.

    Returns:
        A callable `(shape, dtype=None) -> torch.Tensor`, or None for None.

    Raises:
        ValueError: for an unknown name (the message lists the valid ones) or a non-callable.

    Example:
        >>> get("he_normal")
        HeNormal(seed=None, input_axes=None, output_axes=None)
    """
    if identifier is None:
        return None
    if isinstance(identifier, (torch.Tensor, np.ndarray, np.generic)):
        return _from_tensor(identifier)
    initializer = resolve(identifier, INITIALIZERS, "initializer", custom_objects)
    if not callable(initializer):
        raise ValueError(
            f"Could not interpret initializer identifier {identifier!r}: expected a name such "
            "as 'glorot_uniform', a config dict, an Initializer or a callable (shape, dtype)"
        )
    return initializer


def serialize(initializer):
    """`{'class_name', 'config'}` for a initializer (a name for a function, None for None)."""
    return registry_serialize(initializer, "initializer")