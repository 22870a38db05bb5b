"""Class lookup for loading: layerkit's public layers and models, plus `custom_objects`.

Who owns what: this module is the only place that turns a `class_name` read from a file
into a class. It looks in a fixed list of layerkit packages and in `custom_objects`,
nothing else: module paths written in configs are never imported.
"""

import importlib
import inspect

from ..utils.registry import resolve

# layerkit's own layer packages, scanned for their exported Layer classes. A family that
# fails to import (being written) is skipped, so saving still works for the others.
_LAYER_PACKAGES = (
    "layerkit.layers", "layerkit.layers.core", "layerkit.layers.convolutional",
    "layerkit.layers.pooling", "layerkit.layers.normalization",
    "layerkit.layers.regularization", "layerkit.layers.reshaping",
    "layerkit.layers.merging", "layerkit.layers.rnn", "layerkit.layers.activations",
)

_CACHE = {}


def layer_classes():
    """Returns `{class name: class}` for every public layerkit Layer and model class."""
    if "layers" not in _CACHE:
        from ..layers.layer import Layer
        from ..models.functional import Functional
        from ..models.sequential import Sequential

        table = {}
        for package in _LAYER_PACKAGES:
            try:
                module = importlib.import_module(package)
            except Exception:  # a family being written must not break saving
                continue
            for name, obj in vars(module).items():
                if isinstance(obj, type) and issubclass(obj, Layer) and not name.startswith("_"):
                    table.setdefault(name, obj)
        # tf.keras 2.x names a functional model "Model" (or "Functional" since TF 2.4).
        table.update(Sequential=Sequential, Functional=Functional, Model=Functional)
        _CACHE["layers"] = table
    return _CACHE["layers"]


def get_layer_class(class_name, custom_objects=None):
    """Returns the layer (or model) class named `class_name`.

    Args:
        class_name: a name read from a file.
        custom_objects: optional `{name: class}` looked up first.

    Returns:
        A class.

    Raises:
        ValueError: for names that are neither layerkit layers nor in `custom_objects`.
    """
    if not isinstance(class_name, str):
        raise ValueError(f"Expected a layer class name (a string), received {class_name!r}")
    try:
        cls = resolve(class_name, layer_classes(), "layer", custom_objects, instantiate=False)
    except ValueError:
        raise ValueError(
            f"Unknown layer class {class_name!r}. layerkit only creates its own layers and the "
            "classes passed in custom_objects (it never imports modules named in a file); "
            f"pass custom_objects={{{class_name!r}: YourLayerClass}} to load it"
        ) from None
    if not isinstance(cls, type):
        raise ValueError(
            f"custom_objects[{class_name!r}] must be a Layer class, received {cls!r}"
        )
    return cls


def is_builtin(cls):
    """Whether `cls` is one of layerkit's own classes (saved under Keras's module names)."""
    return layer_classes().get(cls.__name__) is cls


def accepted_arguments(cls):
    """Names of the keyword arguments `cls(...)` accepts, following `**kwargs` up the MRO.

    Returns:
        A frozenset of names, or None when some constructor takes arbitrary keywords.
    """
    table = _CACHE.setdefault("arguments", {})
    if cls not in table:  # inspect.signature costs 0.2 ms: once per class, not per layer
        table[cls] = _accepted_arguments(cls)
    return table[cls]


def _accepted_arguments(cls):
    from ..layers.layer import _KERAS_KWARGS, Layer

    names = set()
    for klass in cls.__mro__:
        init = vars(klass).get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        names.update(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD,
                                                          p.KEYWORD_ONLY))
        if klass is Layer:
            return frozenset(names | set(_KERAS_KWARGS))
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            return frozenset(names)
    return None
