"""The per-sample functions metrics accept by name, and `MeanMetricWrapper`.

Who owns what: this module sits above the metric families (accuracy_metrics and the loss
functions) and below `lookup`: it owns the names of the functions (`FUNCTIONS`,
`get_function`) and the wrapper that averages any `fn(y_true, y_pred)`, rebuilt from a
config naming its function.
"""

from layerkit.losses import crossentropy as ce_losses
from layerkit.losses import hinges as hinge_losses
from layerkit.losses import probabilistic as prob_losses
from layerkit.losses import regression as reg_losses
from layerkit.metrics import accuracy_metrics as accuracy
from layerkit.metrics.metric import FunctionMean
from layerkit.utils.registry import resolve as _registry_resolve

FUNCTIONS = {
    fn.__name__: fn
    for fn in (
        accuracy.accuracy, accuracy.binary_accuracy, accuracy.categorical_accuracy,
        accuracy.sparse_categorical_accuracy, accuracy.top_k_categorical_accuracy,
        accuracy.sparse_top_k_categorical_accuracy,
        ce_losses.binary_crossentropy, ce_losses.categorical_crossentropy,
        ce_losses.sparse_categorical_crossentropy,
        reg_losses.mean_squared_error, reg_losses.mean_absolute_error,
        reg_losses.mean_absolute_percentage_error, reg_losses.mean_squared_logarithmic_error,
        reg_losses.log_cosh, reg_losses.huber, hinge_losses.hinge, hinge_losses.squared_hinge,
        hinge_losses.categorical_hinge, prob_losses.kl_divergence, prob_losses.poisson,
    )
}


def get_function(name, custom_objects=None):
    """Returns the per-sample metric function called `name`."""
    return _registry_resolve(name, FUNCTIONS, "metric function", custom_objects,
                             instantiate=False)


class MeanMetricWrapper(FunctionMean):
    """Averages a per-sample function `fn(y_true, y_pred, **kwargs)` over all samples seen.

    Args:
        fn: the function; returns values of shape `(batch, ...)`.
        name: defaults to `fn.__name__`.
        dtype: see `Metric`.
        **kwargs: passed to `fn` on every update.

    Example:
        >>> m = MeanMetricWrapper(huber, name="hub", delta=0.5)
        >>> m.update_state([[0.0]], [[2.0]]); float(m.result())
        0.875
    """

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds the wrapper; `fn` given by name is looked up among the functions above
        (and `custom_objects`)."""
        config = dict(config)
        if isinstance(config.get("fn"), str):
            config["fn"] = get_function(config["fn"], custom_objects)
        return cls(**config)
