"""Distribution losses: Kullback-Leibler divergence and Poisson."""

import torch

from layerkit import config
from layerkit.losses.base import FixedFunctionLoss, as_pair


def kl_divergence(y_true, y_pred):
    """`Σ y_true·log(y_true / y_pred)` over the last axis, both clipped to [eps, 1].

    Args:
        y_true, y_pred: probability distributions, shape `(batch, ..., classes)`.

    Returns:
        Per-sample values, shape `(batch, ...)`.
    """
    y_true, y_pred = as_pair(y_true, y_pred)
    eps = config.epsilon()
    y_true = y_true.clamp(eps, 1.0)
    y_pred = y_pred.clamp(eps, 1.0)
    return (y_true * torch.log(y_true / y_pred)).sum(dim=-1)


def poisson(y_true, y_pred):
    """`mean(y_pred - y_true·log(y_pred + eps), axis=-1)`.

    Args:
        y_true: counts, shape `(batch, ..., d)`.
        y_pred: predicted rates, same shape.

    Returns:
        Per-sample values, shape `(batch, ...)`.
    """
    y_true, y_pred = as_pair(y_true, y_pred)
    return (y_pred - y_true * torch.log(y_pred + config.epsilon())).mean(dim=-1)


class KLDivergence(FixedFunctionLoss):
    """Kullback-Leibler divergence loss. Args: reduction, name (see `Loss`)."""

    function = staticmethod(kl_divergence)

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence"):
        super().__init__(reduction, name)


class Poisson(FixedFunctionLoss):
    """Poisson loss. Args: reduction, name (see `Loss`)."""

    function = staticmethod(poisson)

    def __init__(self, reduction="sum_over_batch_size", name="poisson"):
        super().__init__(reduction, name)
