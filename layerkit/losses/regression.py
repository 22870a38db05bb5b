"""Regression losses: mean squared/absolute (percentage/logarithmic) error, Huber, log-cosh,
cosine similarity. Each function returns per-sample values (mean over the last axis)."""

import math

import torch
import torch.nn.functional as F

from layerkit import config
from layerkit.losses.base import FixedFunctionLoss, align, as_pair


def _aligned(y_true, y_pred):
    return align(*as_pair(y_true, y_pred))


def mean_squared_error(y_true, y_pred):
    """`mean((y_true - y_pred)², axis=-1)`.

    Args:
        y_true, y_pred: tensors of shape `(batch, ..., d)`.

    Returns:
        Per-sample values, shape `(batch, ...)`.
    """
    y_true, y_pred = _aligned(y_true, y_pred)
    return F.mse_loss(y_pred, y_true, reduction="none").mean(dim=-1)


def mean_absolute_error(y_true, y_pred):
    """`mean(|y_true - y_pred|, axis=-1)` (shapes as in `mean_squared_error`)."""
    y_true, y_pred = _aligned(y_true, y_pred)
    # what F.l1_loss(reduction="none") computes (ATen: `(input - target).abs()`), without
    # its Python broadcast checks: ~6 µs a step for the `mae` metric
    return (y_pred - y_true).abs().mean(dim=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """`100 · mean(|y_true - y_pred| / max(|y_true|, eps), axis=-1)`."""
    y_true, y_pred = _aligned(y_true, y_pred)
    diff = (y_true - y_pred).abs() / y_true.abs().clamp_min(config.epsilon())
    return 100.0 * diff.mean(dim=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """`mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))², axis=-1)`."""
    y_true, y_pred = _aligned(y_true, y_pred)
    eps = config.epsilon()
    first = torch.log1p(y_pred.clamp_min(eps))
    second = torch.log1p(y_true.clamp_min(eps))
    return (first - second).square().mean(dim=-1)


def huber(y_true, y_pred, delta=1.0):
    """Huber loss: `0.5·e²` for `|e| ≤ delta`, else `delta·|e| - 0.5·delta²`; mean over -1.

    Args:
        y_true, y_pred: tensors of shape `(batch, ..., d)`.
        delta: where the loss turns from quadratic to linear.

    Returns:
        Per-sample values, shape `(batch, ...)`.
    """
    y_true, y_pred = _aligned(y_true, y_pred)
    # F.huber_loss implements exactly this piecewise formula (Keras parity checked in tests).
    return F.huber_loss(y_pred, y_true, reduction="none", delta=float(delta)).mean(dim=-1)


def log_cosh(y_true, y_pred):
    """`mean(log(cosh(y_pred - y_true)), axis=-1)`, computed stably as x + softplus(-2x) - log 2."""
    y_true, y_pred = _aligned(y_true, y_pred)
    x = y_pred - y_true
    return (x + F.softplus(-2.0 * x) - math.log(2.0)).mean(dim=-1)


def cosine_similarity(y_true, y_pred, axis=-1):
    """Negative cosine similarity `-Σ l2_normalize(y_true)·l2_normalize(y_pred)` over `axis`.

    Args:
        y_true, y_pred: tensors of shape `(batch, ..., d)`.
        axis: the axis along which vectors are compared.

    Returns:
        Values in [-1, 1] (−1 means identical direction), shape `(batch, ...)`.
    """
    y_true, y_pred = _aligned(y_true, y_pred)
    return -(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis)).sum(dim=axis)


def _l2_normalize(x, axis):
    # Keras 3: x · min(rsqrt(Σx²), 1/eps), so zero vectors stay zero.
    square_sum = x.square().sum(dim=axis, keepdim=True)
    return x * torch.rsqrt(square_sum).clamp_max(1.0 / config.epsilon())


class MeanSquaredError(FixedFunctionLoss):
    """Mean squared error loss. Args: reduction, name (see `Loss`)."""

    function = staticmethod(mean_squared_error)

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error"):
        super().__init__(reduction, name)


class MeanAbsoluteError(FixedFunctionLoss):
    """Mean absolute error loss. Args: reduction, name (see `Loss`)."""

    function = staticmethod(mean_absolute_error)

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error"):
        super().__init__(reduction, name)


class MeanAbsolutePercentageError(FixedFunctionLoss):
    """Mean absolute percentage error loss. Args: reduction, name (see `Loss`)."""

    function = staticmethod(mean_absolute_percentage_error)

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error"):
        super().__init__(reduction, name)


class MeanSquaredLogarithmicError(FixedFunctionLoss):
    """Mean squared logarithmic error loss. Args: reduction, name (see `Loss`)."""

    function = staticmethod(mean_squared_logarithmic_error)

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error"):
        super().__init__(reduction, name)


class Huber(FixedFunctionLoss):
    """Huber loss. Args: delta (see `huber`), reduction, name (see `Loss`)."""

    function = staticmethod(huber)

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss"):
        super().__init__(reduction, name, delta=delta)


class LogCosh(FixedFunctionLoss):
    """Log-cosh loss. Args: reduction, name (see `Loss`)."""

    function = staticmethod(log_cosh)

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh"):
        super().__init__(reduction, name)


class CosineSimilarity(FixedFunctionLoss):
    """Negative cosine similarity loss. Args: axis, reduction, name."""

    function = staticmethod(cosine_similarity)

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity"):
        super().__init__(reduction, name, axis=axis)
