"""Weight regularizers: penalties `weights -> scalar tensor` added to the training loss.

A layer calls its regularizer on a weight after each forward pass; the trainer adds the result
to the batch loss once (not divided by the batch size), so it shows in `loss` and `val_loss`.

Formulas (Keras 3 `keras/src/regularizers/regularizers.py`, the same in Keras 2):
`L1: l1 * sum(|w|)`, `L2: l2 * sum(w**2)` (no 1/2), `L1L2: both`.

Where Keras versions differ (tf.keras 2.x surface chosen):
    * `l1(l=0.01)` / `l2(l=0.01)`: the tf.keras 2.x keyword `l=` is accepted (Keras 3 raises).
    * `l1_l2()` defaults to `l1=0.01, l2=0.01` as in Keras 2 / tf.keras 2.x; in Keras 3
      `l1_l2` is the class `L1L2`, whose defaults are 0.0. `L1L2()` keeps 0.0 in both.

Example:
    >>> from layerkit import regularizers
    >>> regularizers.l2(0.001)(torch.ones(2, 3))
    tensor(0.0060)
"""

import math
import numbers

import torch

from layerkit import config
from layerkit.utils import registry
from layerkit.utils.registry import resolve
from layerkit.utils.registry import serialize as registry_serialize
from layerkit.utils.tensors import as_tensor


def _validate_factor(value, name, who):
    """Returns `value` as a float, checking it is a finite non-negative number."""
    if (
        not isinstance(value, numbers.Real)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(
            f"{who}({name}={value!r}): {name} must be a finite non-negative float"
        )
    return float(value)


class Regularizer:
    """Base class: subclasses implement `__call__(w)` → scalar tensor and `get_config()`."""

    def __call__(self, x):
        """Returns the penalty for weight `x`: a scalar tensor (0 for the base class).

        Args:
            x: weight tensor.

        Returns:
            A 0-d tensor of `x`'s dtype.
        """
        x = as_tensor(x)  # numpy arrays and numbers too, as in Keras
        return torch.zeros((), dtype=x.dtype, device=x.device)

    def get_config(self):
        """Returns the constructor arguments as a JSON-serializable dict."""
        raise NotImplementedError(
            f"{type(self).__name__} does not implement get_config(); add it to save the model"
        )

    @classmethod
    def from_config(cls, config):
        """Builds a regularizer from the dict `get_config()` returned.

        Args:
            config: dict of constructor arguments.

        Returns:
            A new regularizer.
        """
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """Penalty `l1 * sum(|w|) + l2 * sum(w**2)`.

    Args:
        l1: L1 factor (None means 0.0).
        l2: L2 factor (None means 0.0).
    """

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _validate_factor(0.0 if l1 is None else l1, "l1", "L1L2")
        self.l2 = _validate_factor(0.0 if l2 is None else l2, "l2", "L1L2")

    def __call__(self, x):
        x = as_tensor(x)  # numpy arrays and numbers too, as in Keras
        penalty = torch.zeros((), dtype=x.dtype, device=x.device)
        if self.l1 != 0.0:
            penalty = penalty + self.l1 * torch.sum(torch.abs(x))
        if self.l2 != 0.0:
            penalty = penalty + self.l2 * torch.sum(torch.square(x))
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """Penalty `l1 * sum(|w|)`.

    Args:
        l1: factor (default 0.01; None means 0.01).
        l: tf.keras 2.x keyword for `l1`; wins when given.
    """

    def __init__(self, l1=0.01, *, l=None):  # noqa: E741 - tf.keras 2.x keyword
        l1 = l if l is not None else l1
        self.l1 = _validate_factor(0.01 if l1 is None else l1, "l1", "L1")

    def __call__(self, x):
        x = as_tensor(x)  # numpy arrays and numbers too, as in Keras
        return self.l1 * torch.sum(torch.abs(x))

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """Penalty `l2 * sum(w**2)` (no 1/2: torch SGD `weight_decay=wd` equals `L2(wd / 2)`).

    Args:
        l2: factor (default 0.01; None means 0.01).
        l: tf.keras 2.x keyword for `l2`; wins when given.
    """

    def __init__(self, l2=0.01, *, l=None):  # noqa: E741 - tf.keras 2.x keyword
        l2 = l if l is not None else l2
        self.l2 = _validate_factor(0.01 if l2 is None else l2, "l2", "L2")

    def __call__(self, x):
        x = as_tensor(x)  # numpy arrays and numbers too, as in Keras
        return self.l2 * torch.sum(torch.square(x))

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Penalizes non-orthogonal rows (or columns) of a 2-D weight (Keras 3, tf.keras ≥ 2.7).

    Penalty: `factor * 0.5 * sum(|off-diagonal of N·Nᵀ|) / (n (n - 1) / 2)`, N the weight with
    its rows (mode 'rows') or columns (mode 'columns') L2-normalized.

    Args:
        factor: multiplier (default 0.01).
        mode: `'rows'` or `'columns'`.
    """

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _validate_factor(factor, "factor", "OrthogonalRegularizer")
        if mode not in ("rows", "columns"):
            raise ValueError(
                f"OrthogonalRegularizer(mode={mode!r}): mode must be 'rows' or 'columns'"
            )
        self.mode = mode

    def __call__(self, x):
        x = as_tensor(x)  # numpy arrays and numbers too, as in Keras
        if x.ndim != 2:
            raise ValueError(
                f"OrthogonalRegularizer: expected a 2-D weight, received shape {tuple(x.shape)}"
            )
        axis = 1 if self.mode == "rows" else 0
        # Keras `ops.normalize`: x * min(rsqrt(sum(x**2)), 1/epsilon).
        inv_norm = torch.rsqrt(torch.sum(torch.square(x), dim=axis, keepdim=True))
        normalized = x * torch.clamp(inv_norm, max=1.0 / config.epsilon())
        if self.mode == "columns":
            normalized = normalized.T
        product = normalized @ normalized.T
        size = product.shape[0]
        off_diagonal = product * (1.0 - torch.eye(size, dtype=x.dtype, device=x.device))
        num_pairs = size * (size - 1.0) / 2.0
        return self.factor * 0.5 * torch.sum(torch.abs(off_diagonal)) / num_pairs

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


l1 = L1
l2 = L2
orthogonal_regularizer = OrthogonalRegularizer


def l1_l2(l1=0.01, l2=0.01):
    """Returns `L1L2(l1, l2)` with tf.keras 2.x defaults (0.01 each, unlike `L1L2()`).

    Args:
        l1: L1 factor.
        l2: L2 factor.

    Returns:
        An `L1L2` regularizer.
    """
    return L1L2(l1=l1, l2=l2)


# Keras 3 `keras.regularizers.ALL_OBJECTS_DICT` plus tf.keras 2.x's `l1_l2`.
REGULARIZERS = {
    "L1": L1, "L2": L2, "L1L2": L1L2, "OrthogonalRegularizer": OrthogonalRegularizer,
    "l1": L1, "l2": L2, "l1l2": L1L2, "orthogonal_regularizer": OrthogonalRegularizer,
    "l1_l2": l1_l2,
}
registry.register_table("regularizers", REGULARIZERS)


def get(identifier, custom_objects=None):
    """Returns the regularizer named or given by `identifier`.

    Args:
        identifier: None, a name (`'l2'` gives `L2(0.01)`, `'l1_l2'` gives `l1_l2()`), a
            `{'class_name': ..., 'config': {...}}` dict, a class (instantiated), or a
            regularizer / callable `w -> scalar` (returned unchanged).
        custom_objects: optional `{name: class}` looked up before the built-ins.

    Returns:
        A callable regularizer, or None for None.

    Raises:
        ValueError: for an unknown name (the message lists the valid ones) or a non-callable.

    Example:
        >>> get("l2")
        L2(l2=0.01)
    """
    if identifier is None:
        return None
    regularizer = resolve(identifier, REGULARIZERS, "regularizer", custom_objects)
    if regularizer is l1_l2:
        regularizer = l1_l2()
    if not callable(regularizer):
        raise ValueError(
            f"Could not interpret regularizer identifier {identifier!r}: expected a name such "
            "as 'l2', a config dict, a Regularizer or a callable"
        )
    return regularizer


def serialize(regularizer):
    """`{'class_name', 'config'}` for a regularizer (a name for a function, None for None)."""
    return registry_serialize(regularizer, "regularizer")