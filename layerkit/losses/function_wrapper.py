"""The built-in per-sample loss functions by name, and `LossFunctionWrapper`.

Who owns what: this module sits above the family modules (crossentropy, hinges,
probabilistic, regression) and below `lookup`: it owns the names of the built-in
functions (`FUNCTIONS`, `ALIASES`, `get_function`) and the wrapper that turns any
`fn(y_true, y_pred)` into a `Loss` and back from a config naming its function.
"""

from layerkit.losses import crossentropy, hinges, probabilistic, regression
from layerkit.losses.base import FunctionLoss
from layerkit.utils.registry import resolve as _registry_resolve

FUNCTIONS = {
    fn.__name__: fn
    for fn in (
        crossentropy.binary_crossentropy,
        crossentropy.categorical_crossentropy,
        crossentropy.sparse_categorical_crossentropy,
        regression.mean_squared_error,
        regression.mean_absolute_error,
        regression.mean_absolute_percentage_error,
        regression.mean_squared_logarithmic_error,
        regression.huber,
        regression.log_cosh,
        regression.cosine_similarity,
        hinges.hinge,
        hinges.squared_hinge,
        hinges.categorical_hinge,
        probabilistic.kl_divergence,
        probabilistic.poisson,
    )
}

ALIASES = {
    "mse": regression.mean_squared_error,
    "MSE": regression.mean_squared_error,
    "mae": regression.mean_absolute_error,
    "MAE": regression.mean_absolute_error,
    "mape": regression.mean_absolute_percentage_error,
    "MAPE": regression.mean_absolute_percentage_error,
    "msle": regression.mean_squared_logarithmic_error,
    "MSLE": regression.mean_squared_logarithmic_error,
    "kld": probabilistic.kl_divergence,
    "KLD": probabilistic.kl_divergence,
    "kullback_leibler_divergence": probabilistic.kl_divergence,
    "logcosh": regression.log_cosh,
    "bce": crossentropy.binary_crossentropy,
    "BCE": crossentropy.binary_crossentropy,
    "cosine_proximity": regression.cosine_similarity,  # Keras 2.2's name, same sign
    "cosine": regression.cosine_similarity,
}


def get_function(name, custom_objects=None):
    """Returns the per-sample loss function called `name` (or an alias such as `'mse'`)."""
    return _registry_resolve(name, {**FUNCTIONS, **ALIASES}, "loss function", custom_objects,
                             instantiate=False)


class LossFunctionWrapper(FunctionLoss):
    """Turns `fn(y_true, y_pred, **kwargs)` (per-sample values) into a `Loss`.

    Args:
        fn: the per-sample loss function.
        reduction: see `Loss`.
        name: defaults to `fn.__name__`.
        **kwargs: extra keyword arguments passed to `fn` on every call.

    Example:
        >>> LossFunctionWrapper(huber, name="h", delta=0.5).get_config()["fn"]
        'huber'
    """

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds the wrapper; `fn` given by name is looked up among the built-in losses
        (and `custom_objects`)."""
        config = dict(config)
        if isinstance(config.get("fn"), str):
            config["fn"] = get_function(config["fn"], custom_objects)
        return cls(**config)
