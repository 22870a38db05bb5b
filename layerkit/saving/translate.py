"""Config translation between layerkit and the Keras 3 / tf.keras 2.x file formats.

Who owns what:
- `encode(value)` turns a layerkit config into what Keras writes: callables become
  Keras's function records, `{'class_name', 'config'}` dicts get Keras 3's `module`.
- `decode(value, ...)` turns a config read from a file into constructor arguments:
  DTypePolicy records become dtype names, `module` / `registered_name` are dropped (never
  imported), Keras 3's `__tuple__` / `__numpy__` records become values, custom objects
  are substituted by name, and Python bytecode is refused under `safe_mode`.
- `drop_harmless(cls, config)` removes the keys Keras adds that layerkit has no argument
  for, but only at the values documented in `HARMLESS` below.
"""

import base64
import builtins
import marshal
import types

import numpy as np

# Keys Keras 3 / tf.keras write that layerkit layers and losses do not take, with the values
# at which dropping them changes nothing (ANY: every value is harmless). Anything else
# unknown is an error, so a file never silently means something else here.
ANY = object()
HARMLESS = {
    "quantization_config": (None,),     # Keras 3.x Dense/Embedding: no quantization
    "lora_rank": (None,), "lora_alpha": (None,),
    "ragged": (False,), "optional": (False,), "input_tensor": (None,),  # InputLayer
    "time_major": (False,),             # tf.keras 2.x RNNs: batch-major is layerkit's
    "synchronized": (False,),           # Keras 3 BatchNormalization across devices
    "renorm": (False,), "renorm_clipping": (None,), "renorm_momentum": ANY,
    "virtual_batch_size": (None,), "adjustment": (None,), "fused": ANY,  # tf.keras BN
    "input_length": ANY,                # Embedding: ignored by Keras 3 too
    "autocast": (True, False), "dynamic": (False,),
    "dtype": (None, "float32"),         # losses / metrics (layerkit computes in floatx)
}

_MODULES = (  # Keras 3's `module` for a nested config, by the key holding it
    ("_initializer", "keras.initializers"), ("_regularizer", "keras.regularizers"),
    ("_constraint", "keras.constraints"), ("layer", "keras.layers"),
    ("cell", "keras.layers"), ("learning_rate", "keras.optimizers.schedules"),
    ("loss", "keras.losses"), ("metric", "keras.metrics"),
)
_LAYER_KEYS = ("layer", "backward_layer", "cell")
_FUNCTION_KEYS = ("function", "output_shape", "mask")


# ----------------------------------------------------------------------------- writing
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


# ----------------------------------------------------------------------------- reading
def decode(value, custom_objects=None, safe_mode=True, where="config"):
    """Turns a config read from a file into layerkit constructor values.

    Args:
        value: parsed JSON.
        custom_objects: `{name: object}` substituted for matching names.
        safe_mode: refuse marshalled Python bytecode.
        where: a description for error messages (the layer being read).

    Returns:
        The translated value.

    Raises:
        ValueError: for bytecode under safe_mode, unknown functions, malformed records.
    """
    if isinstance(value, list):
        return [decode(v, custom_objects, safe_mode, where) for v in value]
    if not isinstance(value, dict):
        return value
    class_name = value.get("class_name")
    if class_name is not None and not isinstance(class_name, str):
        raise ValueError(f"{where}: class_name must be a string, received {class_name!r}")
    if class_name in ("DTypePolicy", "Policy", "FloatDTypePolicy"):
        inner = value.get("config")
        return inner.get("name") if isinstance(inner, dict) else inner
    if class_name == "__tuple__":
        return list(decode(_field(value, "value", list, where), custom_objects, safe_mode, where))
    if class_name == "__numpy__":
        return np.asarray(_field(value, "value", (list, int, float), where))
    if class_name in ("__lambda__", "function"):
        return decode_function(value, custom_objects, safe_mode, where)
    out = {k: decode(v, custom_objects, safe_mode, where) for k, v in value.items()
           if k not in ("module", "registered_name", "shared_object_id", "build_config",
                        "compile_config")}
    if class_name is not None and custom_objects and class_name in custom_objects:
        return _custom_object(custom_objects[class_name], out, where)
    return out


def _custom_object(obj, record, where):
    """A custom (non-layer) object named in a record: the object, or its class created."""
    from ..layers.layer import Layer

    if not isinstance(obj, type):
        return obj
    if issubclass(obj, Layer):
        return record  # layers are created by model_config
    config = record.get("config") or {}
    if not isinstance(config, dict):
        raise ValueError(f"{where}: the config of {obj.__name__} must be a dict")
    if hasattr(obj, "from_config"):
        return obj.from_config(config)
    return obj(**config)


def _field(record, name, kind, where):
    config = record.get("config")
    if not isinstance(config, dict) or not isinstance(config.get(name), kind):
        raise ValueError(f"{where}: malformed {record.get('class_name')} record {record!r}")
    return config[name]


def decode_function(record, custom_objects=None, safe_mode=True, where="config"):
    """A callable from a function record: named (looked up) or bytecode (trusted only).

    Raises:
        ValueError: under safe_mode for bytecode; for names not in custom_objects.
    """
    if record.get("class_name") == "__lambda__":
        config = record.get("config") if isinstance(record.get("config"), dict) else {}
        return load_bytecode(config.get("code"), config.get("defaults"), config.get("closure"),
                             custom_objects, safe_mode, where)
    name = record.get("config")
    return lookup_function(name, record.get("module"), custom_objects, where)


def lookup_function(name, module, custom_objects, where):
    """Resolves a function saved by name: custom_objects, then layerkit's activations."""
    from .. import activations

    if not isinstance(name, str):
        raise ValueError(f"{where}: expected a function name, received {name!r}")
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if name in activations.ACTIVATIONS:
        return activations.ACTIVATIONS[name]
    raise ValueError(
        f"{where}: unknown function {name!r} (saved from module {module!r}). layerkit never "
        f"imports modules named in a file; pass custom_objects={{{name!r}: {name}}}"
    )


def load_bytecode(code, defaults, closure, custom_objects, safe_mode, where):
    """Rebuilds a lambda from Keras's base64 marshal record (only when safe_mode=False).

    Raises:
        ValueError: under safe_mode, or when the bytecode does not load here.
    """
    if safe_mode:
        raise ValueError(
            f"{where} holds a Python lambda stored as bytecode. Loading it would run code "
            "from the file, which can do anything (this is how malicious Keras files attack), "
            "so layerkit refuses it with safe_mode=True. If you wrote the file yourself and "
            "trust it, pass safe_mode=False to load_model; better, replace the lambda by a "
            "named function and pass it as custom_objects={'name': function}"
        )
    try:
        raw = base64.b64decode(code.encode("ascii"), validate=False)
        func_code = marshal.loads(raw)
        if not isinstance(func_code, types.CodeType):
            raise TypeError("not a code object")
        scope = {"__builtins__": builtins, **(custom_objects or {})}
        if closure:
            closure = tuple(types.CellType(c) for c in closure)
        return types.FunctionType(func_code, scope, None,
                                  tuple(defaults) if defaults else None, closure or None)
    except Exception as error:
        raise ValueError(
            f"{where}: the lambda's bytecode does not load in this Python ({error}); it was "
            "probably saved by another Python version. Rebuild the layer with a named function"
        ) from None


def drop_harmless(cls, config, where):
    """Removes the `HARMLESS` keys `cls` has no argument for (only at harmless values).

    Args:
        cls: the class about to be created.
        config: its constructor arguments (modified in place).
        where: a description for error messages.

    Raises:
        ValueError: for a key `cls` does not take that is not harmless at its value.
    """
    from .object_registry import accepted_arguments

    accepted = accepted_arguments(cls)
    if accepted is None:
        return config
    for key in [k for k in config if k not in accepted]:
        allowed = HARMLESS.get(key)
        if allowed is not None and (allowed is ANY or any(
                config[key] == v and type(config[key]) is type(v) for v in allowed)):
            del config[key]
            continue
        raise ValueError(
            f"{where}: {cls.__name__} has no argument {key!r} (value {config[key]!r}); "
            "layerkit cannot reproduce this setting"
        )
    return config


def tf_keras_spellings(cls, config):
    """Rewrites tf.keras 2.x config spellings that mean the same as a layerkit argument.

    tf.keras writes BatchNormalization's `axis` as the list of resolved axes (`[1]` for
    `axis=-1` on a rank-2 input); a one-element list is that axis.

    Args:
        cls: the class about to be created.
        config: its constructor arguments (modified in place).

    Returns:
        `config`.
    """
    axis = config.get("axis")
    if cls.__name__ == "BatchNormalization" and isinstance(axis, list) and len(axis) == 1:
        config["axis"] = axis[0]
    return config


def is_layer_key(key):
    """Whether a config key holds a nested layer (wrappers, RNN cells)."""
    return key in _LAYER_KEYS


def is_function_key(key):
    """Whether a Lambda config key may hold a function record."""
    return key in _FUNCTION_KEYS
