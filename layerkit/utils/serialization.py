"""Objects to Keras JSON records and back: the one serialization path.

Who owns what:
- writing: `layer_record(layer)` is the `{'module', 'class_name', 'config',
  'registered_name', 'build_config'}` record Keras 3 writes for a layer or model (a
  model's `get_config` calls it for each of its layers); `encode(value)` turns a config
  into JSON (callables become Keras's function records, nested `{'class_name', 'config'}`
  dicts get Keras 3's `module`).
- reading: `deserialize(record, kind, custom_objects)` is the one path from a record to
  an object, for every kind; classes come from `registry` (never from a module named in
  the record). Layer configs are translated on the way (`decode`: DTypePolicy records,
  `__tuple__` / `__numpy__`, function records, custom objects; `drop_harmless`: keys
  Keras writes at values that change nothing), and Python bytecode (Keras lambdas) loads
  only outside safe mode. `scope(...)` sets custom objects, safe mode and a watcher of
  each layer created (saving's allocation cap) for the nested calls of a load: a model's
  layers and a wrapper's layer come through the same path.
- file formats (tf.keras 2.x's spellings of whole files, checksums) are saving's.
"""

import base64
import builtins
import contextlib
import inspect
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
    return is_graph_model_class(type(layer))


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
        record["build_config"] = {"input_shape": encode(build["input_shape"])}
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


# ============================================================================== reading
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
_LAYER_KEYS = ("layer", "backward_layer", "cell")
_FUNCTION_KEYS = ("function", "output_shape", "mask")


class _Scope:
    def __init__(self, custom_objects=None, safe_mode=True, watch=None):
        self.custom_objects = dict(custom_objects or {})
        self.safe_mode = safe_mode
        self.watch = watch


_SCOPES = [_Scope()]


@contextlib.contextmanager
def scope(custom_objects=None, safe_mode=True, watch=None):
    """Sets what the `deserialize` calls inside the block use.

    Args:
        custom_objects: `{name: class or function}` looked up before the registry.
        safe_mode: refuse Python bytecode (Keras lambdas).
        watch: optional callable given each layer created (saving caps allocations).
    """
    _SCOPES.append(_Scope(custom_objects, safe_mode, watch))
    try:
        yield
    finally:
        _SCOPES.pop()


def require(condition, message):
    """Raises ValueError(message) unless `condition` (the checks of a config being read)."""
    if not condition:
        raise ValueError(message)


def deserialize(record, kind="layers", custom_objects=None, where=None):
    """Creates the object a `{'class_name': ..., 'config': {...}}` record describes.

    The one path for every kind: the class comes from `registry.get` (`custom_objects`
    and the active `scope`'s first), the object from `cls.from_config(config)` (models get
    `custom_objects` too, and rebuild their layers through this same function). Layer
    configs are translated from Keras's JSON first. An object that is not a dict (a layer
    already created) is returned as it is.

    Raises:
        ValueError: naming the record, for malformed records, unknown names, bytecode in
            safe mode, and constructors that refuse the config.
    """
    if not isinstance(record, dict):
        return record
    where = where or _SINGULAR_WHERE.get(kind, kind)
    if "class_name" not in record:  # (not `require`: the message costs a str(record))
        raise ValueError(f"{where}: expected a {{'class_name': ..., 'config': ...}} record, "
                         f"received {str(record)[:200]}")
    current = _SCOPES[-1]
    custom = {**current.custom_objects, **(custom_objects or {})}
    cls = registry.get(kind, record["class_name"], custom)
    config = record.get("config")
    if kind != "layers":
        return _other_kind(cls, config, custom)
    require(isinstance(cls, type), f"custom_objects[{record['class_name']!r}] must be a Layer "
             f"class, received {cls!r}")
    if is_graph_model_class(cls):
        return cls.from_config(config, custom_objects=custom)
    require(isinstance(config, dict), f"{where} {record['class_name']}: config must be a "
             f"dict, received {type(config).__name__}")
    name = config.get("name", record["class_name"])
    where = f"Layer {name!r} ({record['class_name']})"
    config = _layer_arguments(cls, dict(config), custom, current.safe_mode, where)
    try:
        layer = cls.from_config(config)
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError,
            RuntimeError) as error:
        raise ValueError(f"{where} cannot be created from its config: {error}") from None
    if current.watch is not None:
        current.watch(layer)
    return layer


_SINGULAR_WHERE = {"layers": "layer", "losses": "loss", "metrics": "metric",
                   "optimizers": "optimizer", "initializers": "initializer",
                   "regularizers": "regularizer", "constraints": "constraint",
                   "activations": "activation"}


def _other_kind(cls, config, custom_objects):
    if not isinstance(cls, type):
        return cls  # a registered function (an activation, a loss function)
    config = dict(config or {})
    from_config = getattr(cls, "from_config", None)
    if from_config is None:
        return cls(**config)
    if "custom_objects" in inspect.signature(from_config).parameters:
        return from_config(config, custom_objects=custom_objects)
    return from_config(config)


def is_graph_model_class(cls):
    """Whether `cls` is (a subclass of) Sequential or Functional."""
    return issubclass(cls, registry.classes("models"))


def _layer_arguments(cls, config, custom_objects, safe_mode, where):
    """Constructor arguments of a layer from its Keras config."""
    for key, value in list(config.items()):
        if key in _LAYER_KEYS and isinstance(value, dict) and "class_name" in value:
            config[key] = deserialize(value, "layers", custom_objects, f"{where} {key}")
    if cls.__name__ == "Lambda":
        config = _lambda_arguments(config, custom_objects, safe_mode, where)
    config = {k: v if k in _LAYER_KEYS else decode(v, custom_objects, safe_mode, where)
              for k, v in config.items()}
    if "batch_shape" in config:
        config["batch_input_shape"] = config.pop("batch_shape")
    return drop_harmless(cls, tf_keras_spellings(cls, config), where)


def _lambda_arguments(config, custom_objects, safe_mode, where):
    """Lambda's function / output_shape / mask, from Keras 3 records or tf.keras fields."""
    for key, kind_key, module_key in (("function", "function_type", "module"),
                                      ("output_shape", "output_shape_type",
                                       "output_shape_module"),
                                      ("mask", "mask_type", "mask_module")):
        kind = config.pop(kind_key, None)
        module = config.pop(module_key, None)
        value = config.get(key)
        if kind == "lambda" or (isinstance(value, list) and key == "function"):
            code, defaults, closure = (list(value) + [None, None])[:3] \
                if isinstance(value, list) else (value, None, None)
            config[key] = load_bytecode(code, defaults, closure, custom_objects, safe_mode,
                                        f"{where} ({key})")
        elif kind == "function" or (key == "function" and isinstance(value, str)):
            config[key] = lookup_function(value, module, custom_objects, f"{where} ({key})")
    return config


def decode(value, custom_objects=None, safe_mode=True, where="config"):
    """Turns a config read from Keras JSON into layerkit constructor values.

    DTypePolicy records become dtype names, `module` / `registered_name` are dropped
    (never imported), Keras 3's `__tuple__` / `__numpy__` records become values, custom
    objects are substituted by name, and Python bytecode is refused under `safe_mode`.

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
        return list(decode(_field(value, "value", list, where), custom_objects, safe_mode,
                           where))
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
    if not isinstance(obj, type):
        return obj
    if issubclass(obj, registry.lookup("layers", "Layer") or ()):
        return record  # layers are created by deserialize
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
        return load_bytecode(config.get("code"), config.get("defaults"),
                             config.get("closure"), custom_objects, safe_mode, where)
    return lookup_function(record.get("config"), record.get("module"), custom_objects, where)


def lookup_function(name, module, custom_objects, where):
    """Resolves a function saved by name: custom_objects, then layerkit's activations."""
    if not isinstance(name, str):
        raise ValueError(f"{where}: expected a function name, received {name!r}")
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    found = registry.lookup("activations", name)
    if found is not None:
        return found
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
        scope_ = {"__builtins__": builtins, **(custom_objects or {})}
        if closure:
            closure = tuple(types.CellType(c) for c in closure)
        return types.FunctionType(func_code, scope_, None,
                                  tuple(defaults) if defaults else None, closure or None)
    except Exception as error:
        raise ValueError(
            f"{where}: the lambda's bytecode does not load in this Python ({error}); it was "
            "probably saved by another Python version. Rebuild the layer with a named function"
        ) from None


def drop_harmless(cls, config, where):
    """Removes the `HARMLESS` keys `cls` has no argument for (only at harmless values).

    Raises:
        ValueError: for a key `cls` does not take that is not harmless at its value.
    """
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
    """Rewrites tf.keras 2.x spellings that mean the same as a layerkit argument: a
    one-element `axis` list of BatchNormalization (tf.keras resolves `axis=-1` to `[1]`)."""
    axis = config.get("axis")
    if cls.__name__ == "BatchNormalization" and isinstance(axis, list) and len(axis) == 1:
        config["axis"] = axis[0]
    return config


_ARGUMENTS = {}


def accepted_arguments(cls):
    """Names of the keyword arguments `cls(...)` accepts, following `**kwargs` up the MRO
    (a class may widen it with a `keyword_arguments()` classmethod, as Layer does).

    Returns:
        A frozenset of names, or None when some constructor takes arbitrary keywords.
    """
    if cls not in _ARGUMENTS:  # inspect.signature costs 0.2 ms: once per class, not per layer
        own = getattr(cls, "keyword_arguments", None)
        _ARGUMENTS[cls] = own() if own is not None else constructor_arguments(cls)
    return _ARGUMENTS[cls]


def constructor_arguments(cls, stop=None, extra=()):
    """Keyword names of `cls`'s constructors up its MRO; at class `stop` (whose `**kwargs`
    take exactly `extra`), or at a constructor without `**kwargs`, the walk ends.

    Returns:
        A frozenset, or None when the constructors take arbitrary keywords.
    """
    names = set()
    for klass in cls.__mro__:
        init = vars(klass).get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        names.update(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD,
                                                          p.KEYWORD_ONLY))
        if klass is stop:
            return frozenset(names | set(extra))
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            return frozenset(names)
    return None


def is_layer_key(key):
    """Whether a config key holds a nested layer (wrappers, RNN cells)."""
    return key in _LAYER_KEYS


def is_function_key(key):
    """Whether a Lambda config key may hold a function record."""
    return key in _FUNCTION_KEYS
