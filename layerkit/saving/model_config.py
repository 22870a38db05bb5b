"""Model architectures in Keras's file formats: Keras 3's config and tf.keras 2.x's.

Who owns what:
- a model writes its own Keras 3 config (`get_config`); `model_to_config(model, style)`
  wraps it in Keras 3's record (`style='keras3'`, for `.keras` and JSON) or rewrites it in
  tf.keras 2.x's spellings (`style='legacy'`, for `.h5`: no `module` / `build_config`,
  `inbound_nodes` as `[[['input_1', 0, 0, {}]]]`, `batch_input_shape`).
- `model_from_config(record, ...)` rebuilds a model (or layer) from either style through
  the one serialization path (`utils.serialization.deserialize`), with a `Budget` that
  caps weight allocation, so a config that declares a huge layer is refused before memory
  is taken. Classes (Keras 2 spellings such as `Convolution2D` included) come from the
  registry: saving never imports models/.
"""

import math

from ..layers.layer import Layer
from ..utils import registry, serialization
from ..utils.serialization import layer_record

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
    record = layer_record(model)
    return to_legacy(record) if style == "legacy" else record


def to_legacy(record):
    """A Keras 3 layer (or model) record in tf.keras 2.x's spellings (a new dict)."""
    out = {k: v for k, v in record.items()
           if k not in ("module", "registered_name", "build_config")}
    config = record.get("config")
    if record.get("class_name") == "InputLayer" and isinstance(config, dict):
        out["config"] = {("batch_input_shape" if k == "batch_shape" else k): v
                         for k, v in config.items()}
    elif isinstance(config, dict) and isinstance(config.get("layers"), list) and \
            all(isinstance(r, dict) and "class_name" in r for r in config["layers"]):
        out["config"] = _legacy_model_config(config)
    if "inbound_nodes" in record:
        out["inbound_nodes"] = [_legacy_node(n) for n in record["inbound_nodes"]]
    return out


def _legacy_model_config(config):
    config = dict(config, layers=[to_legacy(r) for r in config["layers"]])
    for key in ("input_layers", "output_layers"):
        if key in config:
            config[key] = _legacy_endpoints(config[key])
    return config


def _legacy_node(node):
    """`{'args': [tensors], 'kwargs': {...}}` -> `[[layer, node, tensor, kwargs], ...]`."""
    histories = []

    def collect(struct):
        if isinstance(struct, dict) and struct.get("class_name") == _TENSOR:
            histories.append(list(struct["config"]["keras_history"]))
        elif isinstance(struct, dict):
            for value in struct.values():
                collect(value)
        elif isinstance(struct, (list, tuple)):
            for value in struct:
                collect(value)

    collect(node["args"])
    return [history + [node["kwargs"]] for history in histories]


def _legacy_endpoints(endpoints):
    if isinstance(endpoints, dict):
        return list(endpoints.values())
    if endpoints and isinstance(endpoints[0], str):
        return [endpoints]
    return endpoints


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
    try:
        with serialization.scope(custom_objects, safe_mode, budget.watch):
            return serialization.deserialize(record, "layers", where="model")
    finally:
        budget.release()


def model_of_class(cls, config, custom_objects=None, safe_mode=True):
    """`cls.from_config(config)` for a Sequential or Functional model, or a functional
    subclass of Model (`Model.from_config`), with the allocation cap and safe mode."""
    budget = Budget(MAX_PARAMS_WITHOUT_WEIGHTS)
    try:
        with serialization.scope(custom_objects, safe_mode, budget.watch):
            if serialization.is_graph_model_class(cls):
                return cls.from_config(config, custom_objects=custom_objects)
            functional = registry.lookup("models", "Functional")
            return functional.from_config(config, custom_objects, model_class=cls)
    finally:
        budget.release()
