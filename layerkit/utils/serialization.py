"""Objects as Keras 3 JSON records (the writing half of the serialization registry).

Who owns what: `layer_record(layer)` writes the `{'module', 'class_name', 'config',
'registered_name', 'build_config'}` record Keras 3 writes for a layer or model (a model's
`get_config` calls it for each of its layers); `encode(value)` turns a config into
JSON: callables become Keras's function records, nested `{'class_name', 'config'}` dicts
get Keras 3's `module`. Reading records back is `registry.deserialize`; file formats
(tf.keras 2.x's spellings, checksums) are saving's.
"""

import base64
import marshal
import types

import numpy as np

from . import registry

_MODULES = (  # Keras 3's `module` for a nested config, by the key holding it
    ("_initializer", "keras.initializers"), ("_regularizer", "keras.regularizers"),
    ("_constraint", "keras.constraints"), ("layer", "keras.layers"),
    ("cell", "keras.layers"), ("learning_rate", "keras.optimizers.schedules"),
    ("loss", "keras.losses"), ("metric", "keras.metrics"),
)
# what Keras 3 writes as (module, registered_name) for its own model classes
_MODEL_MODULES = {"Sequential": ("keras", None),
                  "Functional": ("keras.src.models.functional", "Functional")}


def is_builtin(cls):
    """Whether `cls` is one of layerkit's own layer classes (saved under Keras's names)."""
    return registry.lookup("layers", cls.__name__) is cls


def is_graph_model(layer):
    """Whether `layer` is a Sequential or Functional model (its config lists its layers)."""
    return any(isinstance(layer, cls) for cls in registry.names("models").values())


def layer_record(layer):
    """Keras 3's record of one layer or model (a model's config holds its layers' records).

    Returns:
        A JSON-compatible dict.
    """
    cls = type(layer)
    builtin = is_builtin(cls)
    config = layer.get_config() if is_graph_model(layer) else _plain_config(layer)
    module, registered = ("keras.layers", None) if builtin else (cls.__module__, cls.__name__)
    if builtin and cls.__name__ in _MODEL_MODULES:
        module, registered = _MODEL_MODULES[cls.__name__]
    record = {"module": module, "class_name": cls.__name__, "config": config,
              "registered_name": registered}
    build = layer.get_build_config() if cls.__name__ != "InputLayer" else None
    if build is not None:
        record["build_config"] = encode(build)
    return record


def _plain_config(layer):
    config = dict(layer.get_config())
    if type(layer).__name__ == "InputLayer":
        config = {("batch_shape" if k == "batch_input_shape" else k): v
                  for k, v in config.items()}
    else:
        config.pop("batch_input_shape", None)  # the model's InputLayer carries it
    return encode(config)


def encode(value, key=""):
    """Returns `value` (a layerkit config or part of one) in Keras's JSON form.

    Args:
        value: a config value: dicts, lists, tuples, numbers, strings, callables.
        key: the config key holding it (chooses Keras 3's `module` for nested configs).

    Returns:
        A JSON-compatible value.

    Raises:
        ValueError: for values JSON cannot hold.
    """
    if isinstance(value, dict):
        out = {k: encode(v, k) for k, v in value.items()}
        if "class_name" in out and "config" in out and "module" not in out:
            module = next((m for suffix, m in _MODULES if key.endswith(suffix)), None)
            if module is not None:
                out = {"module": module, **out, "registered_name": None}
        return out
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if callable(value):
        return encode_function(value)
    raise ValueError(f"Cannot save config value {value!r} (key {key!r}): expected JSON data, "
                     "a named function or a lambda")


def encode_function(fn):
    """Keras 3's record of a function: its name, or marshalled bytecode for a lambda.

    Args:
        fn: a function (a `lambda` is stored as bytecode, as Keras does).

    Returns:
        A dict Keras 3's `Lambda.from_config` reads.
    """
    if isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>":
        closure = None
        if fn.__closure__:
            closure = [encode(c.cell_contents) for c in fn.__closure__]
        code = base64.b64encode(marshal.dumps(fn.__code__)).decode("ascii")
        return {"class_name": "__lambda__", "config": {
            "code": code, "defaults": encode(fn.__defaults__), "closure": closure}}
    return {"module": getattr(fn, "__module__", None), "class_name": "function",
            "config": getattr(fn, "__name__", type(fn).__name__),
            "registered_name": "function"}
