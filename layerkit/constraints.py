"""Weight constraints: functions `w -> constrained w` applied after each optimizer step.

A constraint returns a new tensor and never changes its input; the optimizer copies the result
back into the weight (under `torch.no_grad()`). Weights use Keras layouts (Dense kernel
`(in, out)`, conv kernel `(*spatial, in, out)`), so `axis=0` means what it means in Keras:
for a Dense kernel, the norm of each unit's incoming weight vector.

Formulas: Keras 3 `keras/src/constraints/constraints.py` (the same in tf.keras 2.x), with
`epsilon = layerkit.config.epsilon()` (1e-7) added to the norm in the denominator.

Example:
    >>> from layerkit import constraints
    >>> constraints.MaxNorm(2.0)(torch.tensor([[3.0], [4.0]]))   # norm 5 -> 2
    tensor([[1.2000],
            [1.6000]])
"""


import torch

from layerkit import config
from layerkit.utils import registry
from layerkit.utils.registry import resolve
from layerkit.utils.registry import serialize as registry_serialize
from layerkit.utils.tensors import as_tensor


def _dims(axis):
    """Turns a Keras `axis` (int, list or tuple) into what `torch.sum(dim=...)` takes."""
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


def _norms(w, axis):
    """L2 norms of `w` along `axis`, keeping the reduced dims for broadcasting."""
    return torch.sqrt(torch.sum(torch.square(w), dim=_dims(axis), keepdim=True))


class Constraint:
    """Base class: subclasses implement `__call__(w)` → new tensor, and `get_config()`."""

    def __call__(self, w):
        """Returns the constrained weight (the base class returns `w` unchanged).

        Args:
            w: weight tensor.

        Returns:
            A tensor of `w`'s shape.
        """
        w = as_tensor(w)
        return w

    def get_config(self):
        """Returns the constructor arguments as a JSON-serializable dict."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Builds a constraint from the dict `get_config()` returned.

        Args:
            config: dict of constructor arguments.

        Returns:
            A new constraint.
        """
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MaxNorm(Constraint):
    """Rescales slices whose L2 norm along `axis` exceeds `max_value` down to `max_value`.

    `w * clip(norm, 0, max_value) / (epsilon + norm)`.

    Args:
        max_value: the largest allowed norm.
        axis: axis (or axes) the norm runs over; 0 for a Dense kernel `(in, out)`, `[0, 1, 2]`
            for a Conv2D kernel `(h, w, in, out)`.
    """

    def __init__(self, max_value=2, axis=0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w):
        w = as_tensor(w)
        norms = _norms(w, self.axis)
        desired = torch.clamp(norms, 0, self.max_value)
        return w * (desired / (config.epsilon() + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Replaces negative weights with 0."""

    def __call__(self, w):
        w = as_tensor(w)
        return torch.clamp(w, min=0)


class UnitNorm(Constraint):
    """Scales slices to unit L2 norm along `axis`: `w / (epsilon + norm)`.

    Args:
        axis: axis (or axes) the norm runs over.
    """

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = as_tensor(w)
        return w / (config.epsilon() + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves slice norms along `axis` into `[min_value, max_value]`, at speed `rate`.

    `desired = rate * clip(norm, min_value, max_value) + (1 - rate) * norm`;
    returns `w * desired / (epsilon + norm)`.

    Args:
        min_value: the smallest allowed norm.
        max_value: the largest allowed norm.
        rate: 1.0 enforces the bounds at once; smaller values move part of the way.
        axis: axis (or axes) the norm runs over.
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w):
        w = as_tensor(w)
        norms = _norms(w, self.axis)
        clipped = torch.clamp(norms, self.min_value, self.max_value)
        desired = self.rate * clipped + (1 - self.rate) * norms
        return w * (desired / (config.epsilon() + norms))

    def get_config(self):
        return {
            "min_value": self.min_value, "max_value": self.max_value,
            "rate": self.rate, "axis": self.axis,
        }


max_norm = MaxNorm
non_neg = NonNeg
unit_norm = UnitNorm
min_max_norm = MinMaxNorm
maxnorm, nonneg, unitnorm = MaxNorm, NonNeg, UnitNorm  # Keras 2.0 spellings

# Keras 3 `keras.constraints.ALL_OBJECTS_DICT` plus tf.keras 2.x's legacy aliases.
CONSTRAINTS = {
    "MaxNorm": MaxNorm, "NonNeg": NonNeg, "UnitNorm": UnitNorm, "MinMaxNorm": MinMaxNorm,
    "max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm, "min_max_norm": MinMaxNorm,
    "maxnorm": MaxNorm, "nonneg": NonNeg, "unitnorm": UnitNorm,
}
registry.register_table("constraints", CONSTRAINTS)


def get(identifier, custom_objects=None):
    """Returns the constraint named or given by `identifier`.

    Args:
        identifier: None, a name (`'max_norm'`, `'non_neg'`, ...), a
            `{'class_name': ..., 'config': {...}}` dict, a class (instantiated), or a
            constraint / callable `w -> w` (returned unchanged).
        custom_objects: optional `{name: class}` looked up before the built-ins.

    Returns:
        A callable constraint, or None for None.

    Raises:
        ValueError: for an unknown name (the message lists the valid ones) or a non-callable.

    Example:
        >>> get("non_neg")
        NonNeg()
    """
    if identifier is None:
        return None
    constraint = resolve(identifier, CONSTRAINTS, "constraint", custom_objects)
    if not callable(constraint):
        raise ValueError(
            f"Could not interpret constraint identifier {identifier!r}: expected a name such "
            "as 'max_norm', a config dict, a Constraint or a callable"
        )
    return constraint


def serialize(constraint):
    """`{'class_name', 'config'}` for a constraint (a name for a function, None for None)."""
    return registry_serialize(constraint, "constraint")