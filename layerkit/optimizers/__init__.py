"""Keras-exact optimizers on PyTorch: `get`, `serialize`, `deserialize` and the classes."""

from . import schedules as schedules
from .adadelta import Adadelta as Adadelta
from .adagrad import Adagrad as Adagrad
from .adam import Adam as Adam
from .adamax import Adamax as Adamax
from .adamw import AdamW as AdamW
from .nadam import Nadam as Nadam
from .optimizer import Optimizer as Optimizer
from .rmsprop import RMSprop as RMSprop
from .sgd import SGD as SGD
from ..utils import registry, serialization
from ..utils.registry import resolve

# Keras 2.x `keras.optimizers.sgd = SGD`, ...: these names shadow the submodules as package
# attributes (`from layerkit.optimizers.sgd import SGD` still imports the module).
sgd, rmsprop, adam, adamw, adagrad, adadelta, adamax, nadam = \
    SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam

_OPTIMIZERS = {
    cls.__name__: cls for cls in (SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam)
}
registry.register_table("optimizers", _OPTIMIZERS)


def serialize(optimizer):
    """Returns `{'class_name': ..., 'config': ...}` for an optimizer."""
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config, custom_objects=None):
    """Creates an optimizer from `serialize()` output (Keras 3 / tf.keras dicts accepted).

    Args:
        config: dict with `class_name` (case-insensitive for built-ins) and `config`.
        custom_objects: optional `{name: Optimizer subclass}`.

    Returns:
        An `Optimizer`.
    """
    return serialization.deserialize(config, "optimizers", custom_objects)


def get(identifier, custom_objects=None):
    """Returns an optimizer from a name ('rmsprop', 'Adam', ...), a config dict or an instance.

    Args:
        identifier: case-insensitive name (default-constructed optimizer), config dict,
            `Optimizer` subclass or instance.
        custom_objects: optional `{name: Optimizer subclass}`.

    Returns:
        An `Optimizer` instance.

    Raises:
        ValueError: for unknown names or objects that are not layerkit optimizers.

    Example:
        >>> opt = get("rmsprop")
    """
    if isinstance(identifier, dict):
        optimizer = deserialize(identifier, custom_objects)
    else:
        optimizer = resolve(identifier, _OPTIMIZERS, "optimizer", custom_objects)
    if not isinstance(optimizer, Optimizer):
        raise ValueError(
            "optimizers.get: expected an optimizer name (e.g. 'rmsprop'), a config dict or a "
            f"layerkit Optimizer, received {identifier!r}. torch.optim optimizers are not "
            "supported: use the layerkit class of the same name."
        )
    return optimizer


def __getattr__(name):
    """Keras optimizers layerkit lacks say what to use instead (see utils.missing)."""
    from ..utils.missing import attribute_error

    raise attribute_error(__name__, name)
