"""Names → metrics: `get`, `serialize`, `deserialize`, and `resolve` (the compile-time rule
that turns 'accuracy'/'acc'/'crossentropy'/'ce' into a concrete metric from the shapes)."""

from layerkit.losses.lookup import classify_targets, get_object, serialize_object
from layerkit.metrics import accuracy_metrics as accuracy
from layerkit.metrics import auc, confusion, probabilistic, regression
from layerkit.metrics.function_wrapper import FUNCTIONS as FUNCTIONS
from layerkit.metrics.function_wrapper import MeanMetricWrapper
from layerkit.metrics.function_wrapper import get_function as get_function
from layerkit.metrics.metric import Mean, Metric, Sum
from layerkit.utils import registry as _registry
from layerkit.utils.naming import to_snake_case

_CLASS_LIST = (
    Metric, Mean, Sum, MeanMetricWrapper,
    accuracy.Accuracy, accuracy.BinaryAccuracy, accuracy.CategoricalAccuracy,
    accuracy.SparseCategoricalAccuracy, accuracy.TopKCategoricalAccuracy,
    accuracy.SparseTopKCategoricalAccuracy,
    regression.MeanSquaredError, regression.MeanAbsoluteError,
    regression.MeanAbsolutePercentageError, regression.MeanSquaredLogarithmicError,
    regression.RootMeanSquaredError, regression.CosineSimilarity, regression.LogCoshError,
    probabilistic.BinaryCrossentropy, probabilistic.CategoricalCrossentropy,
    probabilistic.SparseCategoricalCrossentropy, probabilistic.KLDivergence,
    probabilistic.Poisson, probabilistic.Hinge, probabilistic.SquaredHinge,
    probabilistic.CategoricalHinge,
    confusion.Precision, confusion.Recall, auc.AUC,
)

CLASSES = {cls.__name__: cls for cls in _CLASS_LIST}
CLASSES.update({to_snake_case(cls.__name__): cls for cls in _CLASS_LIST})
CLASSES.update({
    "auc": auc.AUC,
    "kl_divergence": probabilistic.KLDivergence,
    "mse": regression.MeanSquaredError, "MSE": regression.MeanSquaredError,
    "mae": regression.MeanAbsoluteError, "MAE": regression.MeanAbsoluteError,
    "mape": regression.MeanAbsolutePercentageError,
    "MAPE": regression.MeanAbsolutePercentageError,
    "msle": regression.MeanSquaredLogarithmicError,
    "MSLE": regression.MeanSquaredLogarithmicError,
    "bce": probabilistic.BinaryCrossentropy, "BCE": probabilistic.BinaryCrossentropy,
    "kld": probabilistic.KLDivergence, "KLD": probabilistic.KLDivergence,
    "kullback_leibler_divergence": probabilistic.KLDivergence,
    "logcosh": regression.LogCoshError, "log_cosh": regression.LogCoshError,
})

TABLE = {**FUNCTIONS, **CLASSES}
_registry.register_table("metrics", TABLE)  # the one serialization registry

_ACCURACY_STRINGS = ("accuracy", "acc")
_CROSSENTROPY_STRINGS = ("crossentropy", "ce")


def get(identifier, custom_objects=None):
    """Resolves a metric identifier to a fresh `Metric` (or None).

    Args:
        identifier: None, a name (`'mae'`, `'binary_accuracy'`, `'AUC'`), a
            `{'class_name': ..., 'config': ...}` dict, a `Metric` class or instance, or a
            function `fn(y_true, y_pred)` returning per-sample values.
        custom_objects: optional `{name: class_or_function}`.

    Returns:
        A `Metric`; names give the class's default name (`'mae'` → 'mean_absolute_error';
        `resolve` renames to the string passed), functions are wrapped in
        `MeanMetricWrapper` named after the function.
    """
    return get_object(identifier, TABLE, "metric", Metric, MeanMetricWrapper, custom_objects)


def resolve(identifier, y_true_shape, y_pred_shape, custom_objects=None):
    """Builds the metric `compile(metrics=[...])` asks for, as tf.keras and Keras 3 do.

    'accuracy'/'acc' (and 'crossentropy'/'ce') pick the binary version when `y_pred`'s last
    dim is 1, the sparse one when `y_true` has lower rank or a last dim of 1 against a wider
    `y_pred`, else the categorical one. A string names the metric ('acc' stays 'acc',
    'mae' stays 'mae'); a function is named by its `__name__`; an instance keeps its name.

    Args:
        identifier: a string, function, Metric class/instance or config dict.
        y_true_shape, y_pred_shape: full shapes, batch dimension included.
        custom_objects: as in `get`.

    Returns:
        A `Metric`.
    """
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in _ACCURACY_STRINGS or key in _CROSSENTROPY_STRINGS:
            is_binary, is_sparse = classify_targets(y_true_shape, y_pred_shape)
            family = _ACCURACY if key in _ACCURACY_STRINGS else _CROSSENTROPY
            cls = family[0] if is_binary else family[1] if is_sparse else family[2]
            return cls(name=identifier)
    metric = get(identifier, custom_objects)
    if isinstance(identifier, str):
        metric.name = identifier
    return metric


_ACCURACY = (accuracy.BinaryAccuracy, accuracy.SparseCategoricalAccuracy,
             accuracy.CategoricalAccuracy)
_CROSSENTROPY = (probabilistic.BinaryCrossentropy, probabilistic.SparseCategoricalCrossentropy,
                 probabilistic.CategoricalCrossentropy)


def serialize(metric):
    """Returns `{'class_name', 'config'}` for a `Metric`, or the name of a function."""
    return serialize_object(metric, Metric, "metric")


def deserialize(config, custom_objects=None):
    """Inverse of `serialize`: returns a `Metric`."""
    return get(config, custom_objects)
