"""Regression metrics: running means of the regression losses, and RMSE."""

import torch

from layerkit.losses import regression as losses
from layerkit.losses.base import squeeze_or_expand_to_same_rank
from layerkit.metrics.metric import FixedFunctionMean, Mean


class MeanSquaredError(FixedFunctionMean):
    """Running mean squared error. Args: name, dtype."""

    function = staticmethod(losses.mean_squared_error)

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(name, dtype)


class MeanAbsoluteError(FixedFunctionMean):
    """Running mean absolute error. Args: name, dtype."""

    function = staticmethod(losses.mean_absolute_error)

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(name, dtype)


class MeanAbsolutePercentageError(FixedFunctionMean):
    """Running mean absolute percentage error. Args: name, dtype."""

    function = staticmethod(losses.mean_absolute_percentage_error)

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(name, dtype)


class MeanSquaredLogarithmicError(FixedFunctionMean):
    """Running mean squared logarithmic error. Args: name, dtype."""

    function = staticmethod(losses.mean_squared_logarithmic_error)

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(name, dtype)


class LogCoshError(FixedFunctionMean):
    """Running mean of log(cosh(error)). Args: name, dtype."""

    function = staticmethod(losses.log_cosh)

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(name, dtype)


def cosine_similarity(y_true, y_pred, axis=-1):
    """Cosine similarity of `y_true` and `y_pred` along `axis` (1 = same direction)."""
    return -losses.cosine_similarity(y_true, y_pred, axis=axis)


class CosineSimilarity(FixedFunctionMean):
    """Running mean cosine similarity. Args: name, dtype, axis."""

    function = staticmethod(cosine_similarity)

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(name, dtype, axis=axis)


class RootMeanSquaredError(Mean):
    """`sqrt` of the running mean squared error over all samples. Args: name, dtype."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    @torch.no_grad()
    def update_state(self, y_true, y_pred, sample_weight=None):
        """Accumulates squared errors of one batch (shapes `(batch, ...)`)."""
        y_pred = self.convert(y_pred)
        y_true = self.convert(y_true, y_pred.device)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        super().update_state((y_pred - y_true).square(), sample_weight=sample_weight)

    def result(self):
        return torch.sqrt(super().result())
