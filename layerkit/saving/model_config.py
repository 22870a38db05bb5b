"""Model architectures as Keras configs: Sequential and Functional, Keras 3 and tf.keras 2.x.

Who owns what:
- `model_to_config(model, style)` writes `{'class_name', 'config'}` in Keras 3's form
  (`style='keras3'`, for `.keras` and JSON: `module`, `build_config`, `__keras_tensor__`
  inbound nodes) or tf.keras 2.x's (`style='legacy'`, for `.h5`: `inbound_nodes` as
  `[[['input_1', 0, 0, {}]]]`).
- `model_from_config(record, ...)` reads either style (and Keras 3's own files), creating
  classes only through `object_registry` and values only through `translate.decode`.
- Weight allocation while rebuilding is capped by a `Budget`, so a config that declares a
  huge layer is refused before memory is taken.
"""

import math

from ..graph.node import flatten, map_structure
from . import translate
from .object_registry import get_layer_class, is_builtin

MAX_PARAMS_WITHOUT_WEIGHTS = 2 ** 28  # cap when a config comes without weights (JSON)
_TENSOR = "__keras_tensor__"


# ============================================================================== writing
def model_to_config(model, style="keras3"):
    """Returns the model's `{'class_name', 'config'}` record in Keras's format.

    Args:
        model: a Sequential or Functional model.
        style: 'keras3' (`.keras`, JSON) or 'legacy' (tf.keras 2.x, `.h5`).

    Returns:
        A JSON-compatible dict.
    """
    return layer_record(model, style)


def layer_record(layer, style):
    """`{'class_name', 'config'}` of one layer (models recurse), Keras-style."""
    from ..models.functional import Functional
    from ..models.sequential import Sequential

    class_name = type(layer).__name__
    if isinstance(layer, Sequential):
        config = sequential_config(layer, style)
    elif isinstance(layer, Functional):
        config = functional_config(layer, style)
        class_name = "Functional" if is_builtin(type(layer)) else class_name
    else:
        config = _layer_config(layer, style)
    record = {"class_name": class_name, "config": config}
    if style == "keras3":
        builtin = is_builtin(type(layer))
        record = {"module": "keras.layers" if builtin else type(layer).__module__,
                  **record, "registered_name": None if builtin else class_name}
        if class_name == "Sequential" and builtin:
            record["module"] = "keras"
        elif class_name == "Functional" and builtin:  # what Keras 3 writes
            record.update(module="keras.src.models.functional", registered_name="Functional")
        if layer.built and layer._build_input_shape is not None and \
                class_name != "InputLayer":
            record["build_config"] = {"input_shape": translate.encode(
                layer._build_input_shape)}
    return record


# Arguments layerkit layers report that Keras 3 (and tf.keras 2.x) do not take, with the
# only value at which leaving them out changes nothing.
def _layer_config(layer, style):
    config = dict(layer.get_config())
    if type(layer).__name__ == "InputLayer":
        if style == "keras3":
            config["batch_shape"] = config.pop("batch_input_shape")
    else:
        config.pop("batch_input_shape", None)  # the model's InputLayer carries it
    return translate.encode(config)


def sequential_config(model, style="keras3"):
    """Sequential's config: name, layers (an InputLayer first when the input is known)."""
    layers = []
    shape = model._batch_input_shape
    if shape is not None:
        name = model._input_layer.name if model._input_layer is not None else \
            f"{model.layers[0].name}_input" if model.layers else "input_layer"
        key = "batch_shape" if style == "keras3" else "batch_input_shape"
        input_config = {key: list(shape), "dtype": model._dtype_name or model.dtype,
                        "sparse": False, "name": name}
        record = {"class_name": "InputLayer", "config": input_config}
        if style == "keras3":
            record = {"module": "keras.layers", **record, "registered_name": None}
        layers.append(record)
    layers.extend(layer_record(layer, style) for layer in model.layers)
    config = {"name": model.name, "trainable": model.trainable, "layers": layers}
    if shape is not None:
        config["build_input_shape"] = list(shape)
    return config


def functional_config(model, style="keras3"):
    """Functional's config: layers with their inbound nodes, input and output layers."""
    kept = {id(t.node) for t in model._flat_inputs} | {id(n) for n in model._nodes}
    index = {}  # id(node) -> its index among the layer's nodes kept in this model
    for layer in model.layers:
        for node in layer._inbound_nodes:
            if id(node) in kept:
                index[id(node)] = sum(1 for v in layer._inbound_nodes[:node.index]
                                      if id(v) in kept)
    layers = []
    for layer in model.layers:
        record = layer_record(layer, style)
        record["name"] = layer.name
        nodes = [n for n in layer._inbound_nodes if id(n) in kept and n.input_tensors]
        record["inbound_nodes"] = [_node_record(n, index, style) for n in nodes]
        layers.append(record)
    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": _endpoints(model._input_struct, index, style),
            "output_layers": _endpoints(model._output_struct, index, style)}


def _history(tensor, index):
    node, position = tensor.history
    return [node.layer.name, index[id(node)], position]


def _node_record(node, index, style):
    kwargs = {k: v for k, v in node.call_kwargs.items() if k != "mask"}
    if style == "legacy":
        extra = translate.encode(kwargs)
        return [_history(t, index) + [extra] for t in node.input_tensors]

    def tensor(t):
        return {"class_name": _TENSOR, "config": {
            "shape": list(t.shape), "dtype": t.dtype, "keras_history": _history(t, index)}}

    return {"args": [map_structure(tensor, node.inputs)], "kwargs": translate.encode(kwargs)}


def _endpoints(struct, index, style):
    if isinstance(struct, dict):
        if style == "keras3":
            return {k: _history(v, index) for k, v in struct.items()}
        struct = list(struct.values())
    flat = [_history(t, index) for t in flatten(struct)]
    if style == "keras3" and not isinstance(struct, (list, tuple)):
        return flat[0]
    return flat


# ============================================================================== reading
class Budget:
    """Caps the number of weight values layers may allocate while a model is rebuilt.

    Args:
        limit: the most values (scalars) all weights together may hold.
    """

    def __init__(self, limit):
        self.limit = int(limit)
        self.left = int(limit)
        self._patched = []

    def watch(self, layer):
        """Routes `layer`'s (and its sub-layers') `add_weight` through the cap."""
        from ..layers.layer import Layer

        for module in layer.modules():
            if isinstance(module, Layer) and "add_weight" not in vars(module):
                module.add_weight = self._guard(module, module.add_weight)
                self._patched.append(module)

    def _guard(self, layer, add_weight):
        def guarded(*args, **kwargs):
            shape = kwargs.get("shape", args[1] if len(args) > 1 else ())
            self.take(shape, layer.name)
            return add_weight(*args, **kwargs)
        return guarded

    def take(self, shape, owner):
        """Counts a weight of `shape`; raises when the cap would be passed."""
        try:
            dims = [int(d) for d in shape]
        except (TypeError, ValueError):
            raise ValueError(f"Layer {owner!r}: invalid weight shape {shape!r}") from None
        if any(d < 0 for d in dims):
            raise ValueError(f"Layer {owner!r}: negative dimension in weight shape {dims}")
        size = math.prod(dims)
        if size > self.left:
            raise ValueError(
                f"Layer {owner!r} declares a weight of shape {tuple(dims)} ({size} values), "
                f"more than the {self.limit} values the file provides for the whole model: "
                "the config and the weights disagree (malformed or hostile file)"
            )
        self.left -= size

    def release(self):
        """Restores the layers' own `add_weight`."""
        for module in self._patched:
            del module.add_weight
        self._patched = []


class _Context:
    def __init__(self, custom_objects, safe_mode, budget):
        self.custom_objects = dict(custom_objects or {})
        self.safe_mode = safe_mode
        self.budget = budget


def model_from_config(record, custom_objects=None, safe_mode=True, max_params=None):
    """Rebuilds a model (or layer) from a Keras 3, tf.keras 2.x or layerkit config record.

    Args:
        record: `{'class_name': ..., 'config': ...}` as parsed from JSON.
        custom_objects: `{name: class or function}` for user-defined objects.
        safe_mode: refuse Python bytecode (lambdas) in the config.
        max_params: cap on the values all weights may hold (the weights file's total).

    Returns:
        The model.

    Raises:
        ValueError: naming the problem, for anything malformed or unknown.
    """
    budget = Budget(MAX_PARAMS_WITHOUT_WEIGHTS if max_params is None else max_params)
    context = _Context(custom_objects, safe_mode, budget)
    try:
        return deserialize_layer(record, context, "model")
    finally:
        budget.release()


def model_of_class(cls, config, custom_objects=None, safe_mode=True):
    """`cls.from_config(config)` for Sequential / Functional (and their subclasses)."""
    from ..models.sequential import Sequential

    budget = Budget(MAX_PARAMS_WITHOUT_WEIGHTS)
    context = _Context(custom_objects, safe_mode, budget)
    try:
        if issubclass(cls, Sequential):
            return _sequential_from_config(cls, config, context)
        return _functional_from_config(cls, config, context)
    finally:
        budget.release()


def _require(condition, message):
    if not condition:
        raise ValueError(message)


def deserialize_layer(record, context, where="layer"):
    """Creates one layer (a model for Sequential / Functional records)."""
    _require(isinstance(record, dict) and "class_name" in record,
             f"{where}: expected a {{'class_name': ..., 'config': ...}} record, received "
             f"{str(record)[:200]}")
    cls = get_layer_class(record["class_name"], context.custom_objects)
    from ..models.functional import Functional
    from ..models.sequential import Sequential

    config = record.get("config")
    if issubclass(cls, Sequential):
        return _sequential_from_config(cls, config, context)
    if issubclass(cls, Functional):
        return _functional_from_config(cls, config, context)
    _require(isinstance(config, dict), f"{where} {record['class_name']}: config must be a "
             f"dict, received {type(config).__name__}")
    name = config.get("name", record["class_name"])
    where = f"Layer {name!r} ({record['class_name']})"
    config = _layer_arguments(cls, dict(config), context, where)
    try:
        layer = cls.from_config(config)
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError,
            RuntimeError) as error:
        raise ValueError(f"{where} cannot be created from its config: {error}") from None
    context.budget.watch(layer)
    return layer


def _layer_arguments(cls, config, context, where):
    """Constructor arguments of a layer from its file config."""
    for key, value in list(config.items()):
        if translate.is_layer_key(key) and isinstance(value, dict) and "class_name" in value:
            config[key] = deserialize_layer(value, context, f"{where} {key}")
    if cls.__name__ == "Lambda":
        config = _lambda_arguments(config, context, where)
    config = {k: v if translate.is_layer_key(k) else
              translate.decode(v, context.custom_objects, context.safe_mode, where)
              for k, v in config.items()}
    if "batch_shape" in config:
        config["batch_input_shape"] = config.pop("batch_shape")
    return translate.drop_harmless(cls, translate.tf_keras_spellings(cls, config), where)


def _lambda_arguments(config, context, where):
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
            config[key] = translate.load_bytecode(code, defaults, closure,
                                                  context.custom_objects, context.safe_mode,
                                                  f"{where} ({key})")
        elif kind == "function" or (key == "function" and isinstance(value, str)):
            config[key] = translate.lookup_function(value, module, context.custom_objects,
                                                    f"{where} ({key})")
    return config


def _sequential_from_config(cls, config, context):
    from ..layers.core.input_layer import InputLayer

    if isinstance(config, list):  # Keras 2.0-2.1 wrote the list of layers alone
        config = {"layers": config}
    _require(isinstance(config, dict) and isinstance(config.get("layers"), list),
             "Sequential: config must be a dict with a 'layers' list")
    name = config.get("name")
    model = cls(name=name if isinstance(name, str) else None)
    for index, record in enumerate(config["layers"]):
        layer = deserialize_layer(record, context, f"Sequential layer {index}")
        if isinstance(layer, InputLayer) and index:
            raise ValueError(f"Sequential: an InputLayer can only come first (found at "
                             f"position {index})")
        try:
            model.add(layer)
        except (TypeError, ValueError, RuntimeError) as error:
            raise ValueError(f"Sequential: cannot add layer {layer.name!r}: {error}") \
                from None
    shape = config.get("build_input_shape")
    if not model.built and isinstance(shape, list) and model.layers:
        _require(all(d is None or (isinstance(d, int) and d > 0) for d in shape),
                 f"Sequential: invalid build_input_shape {shape!r}")
        try:
            model.build(tuple(shape))
        except (TypeError, ValueError, RuntimeError) as error:
            raise ValueError(f"Sequential: cannot build for input shape {shape}: {error}") \
                from None
    return model


def _functional_from_config(cls, config, context):
    _require(isinstance(config, dict) and isinstance(config.get("layers"), list),
             "Functional: config must be a dict with a 'layers' list")
    layers, pending = {}, []
    for index, record in enumerate(config["layers"]):
        layer = deserialize_layer(record, context, f"Functional layer {index}")
        name = record.get("name", layer.name)
        _require(isinstance(name, str) and name not in layers,
                 f"Functional: layer name {name!r} is missing or used twice")
        layers[name] = layer
        nodes = record.get("inbound_nodes") or []
        _require(isinstance(nodes, list), f"Functional: inbound_nodes of {name!r} must be a "
                 "list")
        pending.append([name, layer, [_parse_node(n, name) for n in nodes]])
    tensors = {}
    for name, layer, nodes in pending:
        if type(layer).__name__ == "InputLayer":
            tensors[(name, 0, 0)] = layer.output
    _connect(pending, tensors)
    inputs = _endpoint_tensors(config.get("input_layers"), tensors, "input_layers")
    outputs = _endpoint_tensors(config.get("output_layers"), tensors, "output_layers")
    name = config.get("name")
    try:
        return cls(inputs, outputs, name=name if isinstance(name, str) else None)
    except (TypeError, ValueError, RuntimeError) as error:
        raise ValueError(f"Functional: cannot rebuild the model: {error}") from None


def _parse_node(node, owner):
    """(input structure of (layer, node, tensor) keys, kwargs) from either node style."""
    if isinstance(node, dict):  # Keras 3: {"args": [...], "kwargs": {...}}
        args, kwargs = node.get("args"), node.get("kwargs") or {}
        _require(isinstance(args, list) and len(args) == 1 and isinstance(kwargs, dict),
                 f"Functional: layer {owner!r} has an inbound node with unsupported args "
                 f"{str(args)[:200]}")
        return _tensor_keys(args[0], owner), _call_kwargs(kwargs, owner)
    _require(isinstance(node, list) and node, f"Functional: malformed inbound node of "
             f"{owner!r}: {str(node)[:200]}")
    keys, kwargs = [], {}
    for entry in node:  # tf.keras: [layer_name, node_index, tensor_index, kwargs]
        _require(isinstance(entry, list) and len(entry) in (3, 4),
                 f"Functional: malformed inbound node entry of {owner!r}: {entry!r}")
        keys.append(_key(entry[:3], owner))
        if len(entry) == 4 and isinstance(entry[3], dict):
            kwargs = _call_kwargs(entry[3], owner)
    return (keys[0] if len(keys) == 1 else keys), kwargs


def _key(history, owner):
    _require(isinstance(history, list) and len(history) == 3 and isinstance(history[0], str)
             and all(isinstance(i, int) and not isinstance(i, bool) and i >= 0
                     for i in history[1:]),
             f"Functional: malformed tensor reference {history!r} (in {owner!r})")
    return tuple(history)


def _tensor_keys(struct, owner):
    if isinstance(struct, dict) and struct.get("class_name") == _TENSOR:
        config = struct.get("config")
        _require(isinstance(config, dict), f"Functional: malformed tensor in {owner!r}")
        return _key(config.get("keras_history"), owner)
    if isinstance(struct, list):
        return [_tensor_keys(s, owner) for s in struct]
    if isinstance(struct, dict):
        return {k: _tensor_keys(v, owner) for k, v in struct.items()}
    raise ValueError(f"Functional: unsupported call argument {str(struct)[:200]} in "
                     f"{owner!r}")


def _call_kwargs(kwargs, owner):
    out = {}
    for key, value in kwargs.items():
        if key == "mask" or value is None or (key == "training" and not isinstance(value, bool)):
            continue
        _require(isinstance(value, (int, float, str, bool)),
                 f"Functional: layer {owner!r} is called with an unsupported argument "
                 f"{key}={str(value)[:100]}")
        out[key] = value
    return out


def _connect(pending, tensors):
    """Calls each layer on its inputs once they exist, as Keras's `process_node` does."""
    created = {name: 0 for name, _, _ in pending}
    remaining = sum(len(nodes) for _, _, nodes in pending)
    while remaining:
        progress = False
        for entry in pending:
            name, layer, nodes = entry
            while nodes and all(k in tensors for k in _leaves(nodes[0][0])):
                keys, kwargs = nodes.pop(0)
                inputs = map_structure(lambda leaf: tensors[leaf.key], _as_structure(keys))
                try:
                    outputs = layer(inputs, **kwargs)
                except (TypeError, ValueError, RuntimeError, IndexError) as error:
                    raise ValueError(f"Functional: calling layer {name!r} failed: {error}") \
                        from None
                for i, tensor in enumerate(flatten(outputs)):
                    tensors[(name, created[name], i)] = tensor
                created[name] += 1
                remaining -= 1
                progress = True
        if not progress:
            missing = sorted({k for _, _, nodes in pending if nodes
                              for k in _leaves(nodes[0][0]) if k not in tensors})
            raise ValueError(f"Functional: the graph cannot be connected; tensors "
                             f"{missing[:5]} are never produced")


def _leaves(keys):
    if isinstance(keys, tuple):
        return [keys]
    values = keys.values() if isinstance(keys, dict) else keys
    return [leaf for k in values for leaf in _leaves(k)]


def _as_structure(keys):
    """Keys are tuples; map_structure must treat them as leaves, so wrap them."""
    if isinstance(keys, tuple):
        return _Leaf(keys)
    if isinstance(keys, dict):
        return {k: _as_structure(v) for k, v in keys.items()}
    return [_as_structure(k) for k in keys]


class _Leaf:
    def __init__(self, key):
        self.key = key


def _endpoint_tensors(spec, tensors, what):
    def lookup(entry):
        key = _key(list(entry[:3]) if isinstance(entry, list) else entry, what)
        _require(key in tensors, f"Functional: {what} names tensor {list(key)}, which the "
                 "graph does not produce")
        return tensors[key]

    if isinstance(spec, dict):
        return {k: lookup(v) for k, v in spec.items()}
    _require(isinstance(spec, list) and spec, f"Functional: {what} must be a non-empty list")
    if isinstance(spec[0], str):
        return lookup(spec)
    found = [lookup(e) for e in spec]
    return found[0] if len(found) == 1 else found
