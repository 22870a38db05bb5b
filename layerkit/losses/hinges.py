"""Hinge losses (targets in {-1, 1}; {0, 1} targets are mapped to {-1, 1} first)."""

import torch

from layerkit.losses.base import FixedFunctionLoss, align, as_pair


def _to_signed(y_true):
    # Keras converts {0, 1} labels to {-1, 1} only when every label is 0 or 1; a 0-dim
    # condition inside torch.where keeps that decision on the device (no sync).
    is_binary = ((y_true == 0) | (y_true == 1)).all()
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true, y_pred):
    """`mean(max(1 - y_true·y_pred, 0), axis=-1)`.

    Args:
        y_true: labels in {-1, 1} or {0, 1}, shape `(batch, ..., d)`.
        y_pred: scores, same shape.

    Returns:
        Per-sample values, shape `(batch, ...)`.
    """
    y_true, y_pred = align(*as_pair(y_true, y_pred))
    return (1.0 - _to_signed(y_true) * y_pred).clamp_min(0.0).mean(dim=-1)


def squared_hinge(y_true, y_pred):
    """`mean(max(1 - y_true·y_pred, 0)², axis=-1)` (shapes as in `hinge`)."""
    y_true, y_pred = align(*as_pair(y_true, y_pred))
    return (1.0 - _to_signed(y_true) * y_pred).clamp_min(0.0).square().mean(dim=-1)


def categorical_hinge(y_true, y_pred):
    """`max(max((1 - y)·p) - Σ y·p + 1, 0)` for one-hot `y_true`.

    Args:
        y_true: one-hot targets, shape `(batch, ..., classes)`.
        y_pred: scores, same shape.

    Returns:
        Per-sample values, shape `(batch, ...)`.
    """
    y_true, y_pred = align(*as_pair(y_true, y_pred))
    pos = (y_true * y_pred).sum(dim=-1)
    neg = ((1.0 - y_true) * y_pred).amax(dim=-1)
    return (neg - pos + 1.0).clamp_min(0.0)


class Hinge(FixedFunctionLoss):
    """Hinge loss. Args: reduction, name (see `Loss`)."""

    function = staticmethod(hinge)

    def __init__(self, reduction="sum_over_batch_size", name="hinge"):
        super().__init__(reduction, name)


class SquaredHinge(FixedFunctionLoss):
    """Squared hinge loss. Args: reduction, name (see `Loss`)."""

    function = staticmethod(squared_hinge)

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge"):
        super().__init__(reduction, name)


class CategoricalHinge(FixedFunctionLoss):
    """Categorical hinge loss. Args: reduction, name (see `Loss`)."""

    function = staticmethod(categorical_hinge)

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge"):
        super().__init__(reduction, name)
