"""Names → losses: `get`, `serialize`, `deserialize`, and the shape rule for 'crossentropy'."""

from layerkit.losses import crossentropy, hinges, probabilistic, regression
from layerkit.losses.base import Loss
from layerkit.losses.function_wrapper import ALIASES as ALIASES
from layerkit.losses.function_wrapper import FUNCTIONS as FUNCTIONS
from layerkit.losses.function_wrapper import LossFunctionWrapper
from layerkit.losses.function_wrapper import get_function as get_function
from layerkit.utils.naming import to_snake_case
from layerkit.utils import registry as _registry
from layerkit.utils.registry import resolve as _registry_resolve

CLASSES = {
    cls.__name__: cls
    for cls in (
        Loss,
        LossFunctionWrapper,
        crossentropy.BinaryCrossentropy,
        crossentropy.CategoricalCrossentropy,
        crossentropy.SparseCategoricalCrossentropy,
        regression.MeanSquaredError,
        regression.MeanAbsoluteError,
        regression.MeanAbsolutePercentageError,
        regression.MeanSquaredLogarithmicError,
        regression.Huber,
        regression.LogCosh,
        regression.CosineSimilarity,
        hinges.Hinge,
        hinges.SquaredHinge,
        hinges.CategoricalHinge,
        probabilistic.KLDivergence,
        probabilistic.Poisson,
    )
}

TABLE = {**FUNCTIONS, **ALIASES, **CLASSES}
_registry.register_table("losses", TABLE)  # the one serialization registry

_CROSSENTROPY_STRINGS = ("crossentropy", "ce")


def get(identifier, custom_objects=None):
    """Resolves a loss identifier to a `Loss` object (or None).

    Args:
        identifier: None, a name (`'mse'`, `'binary_crossentropy'`, `'Huber'`), a
            `{'class_name': ..., 'config': ...}` dict, a `Loss` class or instance, or a
            function `fn(y_true, y_pred)` returning per-sample values.
        custom_objects: optional `{name: class_or_function}` for user-defined losses.

    Returns:
        A `Loss`; functions are wrapped in `LossFunctionWrapper` named after the function.

    Example:
        >>> get('mse').name
        'mean_squared_error'
    """
    return get_object(identifier, TABLE, "loss", Loss, LossFunctionWrapper, custom_objects)


def get_object(identifier, table, kind, base, wrapper, custom_objects=None):
    """The lookup behind `losses.get` and `metrics.get`.

    Args:
        identifier: None, a name, a `{'class_name', 'config'}` dict, a class, an instance
            or a callable.
        table: accepted names → classes or functions.
        kind: `'loss'` or `'metric'`, for messages.
        base: the class every result is an instance of (`Loss`, `Metric`).
        wrapper: wraps a plain function: `wrapper(fn, name=...)`.
        custom_objects: optional extra `{name: object}`.

    Returns:
        An instance of `base`, or None for None.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        if "class_name" not in identifier:
            raise ValueError(
                f"Could not interpret {kind} config {identifier!r}: expected a dict with "
                f"'class_name' and 'config' keys, as produced by {kind}s.serialize."
            )
        cls = _registry_resolve(identifier["class_name"], table, kind, custom_objects,
                                instantiate=False)
        if isinstance(cls, type) and issubclass(cls, base):
            return cls.from_config(dict(identifier.get("config") or {}))
        identifier = cls
    obj = _registry_resolve(identifier, table, kind, custom_objects)
    if isinstance(obj, base):
        return obj
    if callable(obj):
        name = getattr(obj, "__name__", None) or to_snake_case(type(obj).__name__)
        return wrapper(obj, name=name)
    raise ValueError(
        f"Could not interpret {kind} identifier {identifier!r}: expected a {kind} name, a "
        f"{base.__name__} instance or class, a config dict, or a function fn(y_true, y_pred)."
    )


def serialize_object(obj, base, kind):
    """`{'class_name', 'config'}` for an instance of `base`, the name for a function."""
    if isinstance(obj, base):
        return {"class_name": type(obj).__name__, "config": obj.get_config()}
    if callable(obj) and hasattr(obj, "__name__"):
        return obj.__name__
    raise ValueError(f"{kind}s.serialize: expected a {base.__name__} or a function, "
                     f"received {obj!r}")


def serialize(loss):
    """Returns a Keras-style config: `{'class_name', 'config'}` for `Loss`, a name for functions.

    Args:
        loss: a `Loss` instance or a loss function.

    Returns:
        A dict or a string accepted by `deserialize`.
    """
    return serialize_object(loss, Loss, "loss")


def deserialize(config, custom_objects=None):
    """Inverse of `serialize`: returns a `Loss` (functions come back wrapped)."""
    return get(config, custom_objects)


def classify_targets(y_true_shape, y_pred_shape):
    """The tf.keras/Keras 3 shape rule behind 'accuracy' and 'crossentropy'.

    Args:
        y_true_shape, y_pred_shape: full shapes, batch dimension included.

    Returns:
        `(is_binary, is_sparse)`: binary when `y_pred`'s last dim is 1; sparse when `y_true`
        has lower rank, or its last dim is 1 while `y_pred`'s is larger.
    """
    true_rank, pred_rank = len(y_true_shape), len(y_pred_shape)
    true_last = y_true_shape[-1] if true_rank else None
    pred_last = y_pred_shape[-1] if pred_rank else None
    is_binary = pred_last == 1
    is_sparse = true_rank < pred_rank or (
        true_last == 1 and pred_last is not None and pred_last > 1
    )
    return is_binary, is_sparse


def resolve(identifier, y_true_shape, y_pred_shape, custom_objects=None):
    """Like `get`, plus Keras 3's shape-dependent `'crossentropy'`/`'ce'` loss strings.

    Args:
        identifier: any `get` identifier, or `'crossentropy'`/`'ce'`.
        y_true_shape, y_pred_shape: full shapes, batch dimension included.
        custom_objects: as in `get`.

    Returns:
        A `Loss`; for `'crossentropy'` the binary, sparse or categorical one, named after
        the string passed.
    """
    if isinstance(identifier, str) and identifier.lower() in _CROSSENTROPY_STRINGS:
        is_binary, is_sparse = classify_targets(y_true_shape, y_pred_shape)
        if is_binary:
            return crossentropy.BinaryCrossentropy(name=identifier)
        if is_sparse:
            return crossentropy.SparseCategoricalCrossentropy(name=identifier)
        return crossentropy.CategoricalCrossentropy(name=identifier)
    return get(identifier, custom_objects)
