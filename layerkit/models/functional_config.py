"""A functional model's Keras 3 config: written from its graph, read back into a graph.

Who owns what: `write(model)` turns the graph (layers, their inbound nodes, input and output
tensors) into Keras 3's config (`__keras_tensor__` records with `keras_history`);
`read(cls, config, custom_objects)` creates each layer through the one serialization path
(`utils.serialization.deserialize`) and calls them on each other as Keras's `process_node`
does, then creates `cls(inputs, outputs)`. tf.keras 2.x's node lists
(`[['dense', 0, 0, {}]]`) are read too; writing them is saving's (`.h5` files).
"""

from ..graph.node import flatten, map_structure
from ..utils import serialization
from ..utils.serialization import require as _require

_TENSOR = "__keras_tensor__"


# ============================================================================== writing
def write(model):
    """Keras 3's functional config: layers with their inbound nodes, input and output layers.

    Args:
        model: a functional model (`layers`, `inputs`, `nodes`, `input`, `output`).
    """
    kept = {id(t.node) for t in model.inputs} | {id(n) for n in model.nodes}
    index = {}  # id(node) -> its index among the layer's nodes kept in this model
    for layer in model.layers:
        nodes = layer.inbound_nodes
        for node in nodes:
            if id(node) in kept:
                index[id(node)] = sum(1 for v in nodes[:node.index] if id(v) in kept)
    layers = []
    for layer in model.layers:
        record = serialization.layer_record(layer)
        record["name"] = layer.name
        nodes = [n for n in layer.inbound_nodes if id(n) in kept and n.input_tensors]
        record["inbound_nodes"] = [_node_record(n, index) for n in nodes]
        layers.append(record)
    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": _endpoints(model.input, index),
            "output_layers": _endpoints(model.output, index)}


def _history(tensor, index):
    node, position = tensor.history
    return [node.layer.name, index[id(node)], position]


def _node_record(node, index):
    kwargs = {k: v for k, v in node.call_kwargs.items() if k != "mask"}

    def tensor(t):
        return {"class_name": _TENSOR, "config": {
            "shape": list(t.shape), "dtype": t.dtype, "keras_history": _history(t, index)}}

    return {"args": [map_structure(tensor, node.inputs)],
            "kwargs": serialization.encode(kwargs)}


def _endpoints(struct, index):
    if isinstance(struct, dict):
        return {k: _history(v, index) for k, v in struct.items()}
    flat = [_history(t, index) for t in flatten(struct)]
    return flat if isinstance(struct, (list, tuple)) else flat[0]


# ============================================================================== reading
def read(cls, config, custom_objects=None):
    """Creates `cls(inputs, outputs, name=...)` from a Keras 3 or tf.keras 2.x config.

    Raises:
        ValueError: naming the problem, for anything malformed or unknown.
    """
    _require(isinstance(config, dict) and isinstance(config.get("layers"), list),
             "Functional: config must be a dict with a 'layers' list")
    layers, pending = {}, []
    for index, record in enumerate(config["layers"]):
        layer = serialization.deserialize(record, "layers", custom_objects,
                                          f"Functional layer {index}")
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
