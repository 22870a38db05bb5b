"""Functional: a model defined by calling layers on `Input` tensors.

    inputs = Input(shape=(784,))
    x = Dense(64, activation="relu")(inputs)
    outputs = Dense(10, activation="softmax")(x)
    model = Model(inputs, outputs)        # returns a Functional

The constructor walks the recorded Nodes backwards from the outputs, orders them, and
registers every layer (InputLayers included, as Keras lists them) under its name. `call`
replays the nodes on real tensors; shared layers simply appear in several nodes.
"""

import warnings

from torch import nn

from ..graph import evaluate
from ..graph.node import flatten
from ..graph.symbolic import KerasTensor
from ..layers.core.input_layer import InputLayer
from ..utils import registry
from . import functional_config
from .model import Model


class Functional(Model):
    """A model over a graph of layers, with one or several inputs and outputs.

    Args:
        inputs: a KerasTensor from `Input(...)`, or a list / dict of them.
        outputs: KerasTensor(s) computed from `inputs`, a list or a dict.
        name: model name (`model`, `model_1`, ... when None).

    Raises:
        TypeError: when inputs/outputs are not symbolic tensors.
        ValueError: for a disconnected graph or duplicate layer names.
    """

    def __init__(self, inputs=None, outputs=None, name=None, trainable=True, **legacy):
        if legacy.keys() - {"input", "output"}:
            raise TypeError(f"Model() got unexpected keyword arguments {sorted(legacy)}")
        if "input" in legacy or "output" in legacy:  # Keras 1 / 2.0 spelling in old notes
            warnings.warn("Model(input=, output=) is the Keras 1 spelling; use inputs=, "
                          "outputs=", DeprecationWarning, stacklevel=2)
            inputs = legacy.get("input", inputs)
            outputs = legacy.get("output", outputs)
        if inputs is None or outputs is None:
            raise ValueError("Model(inputs, outputs): both inputs and outputs are required")
        super().__init__(name=name, trainable=trainable)
        for what, struct in (("inputs", inputs), ("outputs", outputs)):
            for leaf in flatten(struct):
                if not isinstance(leaf, KerasTensor):
                    raise TypeError(
                        f"Model({what}=...) expects symbolic tensors from Input(...) and layer "
                        f"calls, received {type(leaf).__name__}: {leaf!r}"
                    )
        self._input_struct = inputs
        self._output_struct = outputs
        self._flat_inputs = flatten(inputs)
        self._flat_outputs = flatten(outputs)
        self._graph_losses = []  # symbolic tensors given to model.add_loss
        self._graph_metrics = []  # (symbolic tensor, name) given to model.add_metric
        self._layers = nn.ModuleDict()
        ordered = _ordered_nodes(self._flat_inputs, self._flat_outputs)
        self._nodes = [n for n in ordered if not isinstance(n.layer, InputLayer)]
        for layer in [n.layer for n in ordered]:
            known = self._layers[layer.name] if layer.name in self._layers else None
            if known is None:
                self._layers[layer.name] = layer
            elif known is not layer:
                raise ValueError(
                    f"The name {layer.name!r} is used by two different layers in model "
                    f"'{self.name}'; all layer names should be unique"
                )
        shapes = [t.shape for t in self._flat_inputs]
        self._build_input_shape = shapes[0] if len(shapes) == 1 else shapes
        if len(shapes) == 1:  # a Sequential starting with this model knows its input
            self._batch_input_shape = shapes[0]
        self.built = True

    @property
    def layers(self):
        return list(self._layers.values())

    @property
    def jit_compile(self):
        """Whether `compile(jit_compile=True)` set the forward pass to `torch.compile`."""
        return self._jit_compile

    @property
    def nodes(self):
        """The graph nodes `call` replays, in order (the InputLayers' excluded)."""
        return list(self._nodes)

    @property
    def input(self):
        return self._input_struct

    @property
    def output(self):
        return self._output_struct

    @property
    def inputs(self):
        return list(self._flat_inputs)

    @property
    def outputs(self):
        return list(self._flat_outputs)

    @property
    def output_names(self):
        """Names of the layers producing the outputs (keys of per-output losses/logs)."""
        if isinstance(self._output_struct, dict):
            return list(self._output_struct)
        return [t.node.layer.name for t in self._flat_outputs]

    @property
    def input_names(self):
        if isinstance(self._input_struct, dict):
            return list(self._input_struct)
        return [t.node.layer.name for t in self._flat_inputs]

    def call(self, inputs, training=False):
        flat = self._flatten_data(inputs)
        values = {id(tensor): value for tensor, value in zip(self._flat_inputs, flat)}
        # a layer called with `training=True` in the graph keeps that mode (MC dropout)
        evaluate.run(self._nodes, values, training=training)
        if self._graph_losses:
            self.add_loss([values[id(t)] for t in self._graph_losses])
        for tensor, name in self._graph_metrics:
            self.add_metric(values[id(tensor)], name=name)
        outputs = [values[id(t)] for t in self._flat_outputs]
        return outputs[0] if len(outputs) == 1 else outputs

    def _add_symbolic_loss(self, loss):
        """`model.add_loss(K.mean(x))` with `x` in the graph (tf.keras's functional losses):
        the nodes computing it join the model and its value is added at every call."""
        self._join_graph(loss, "add_loss")
        self._graph_losses = self._graph_losses + [loss]

    def _add_symbolic_metric(self, value, name):
        """`model.add_metric(K.mean(x), name=...)` with `x` in the graph: as a symbolic
        loss, its nodes join the model and its value is reported at every call."""
        self._join_graph(value, "add_metric")
        self._graph_metrics = self._graph_metrics + [(value, name)]

    def _join_graph(self, tensor, what):
        try:
            extra = evaluate.plan([tensor], self._flat_inputs,
                                  known=[id(t) for n in self._nodes for t in n.output_tensors])
        except ValueError as e:
            raise ValueError(f"Model '{self.name}': {what}({tensor!r}) must be computed from "
                             f"the model's inputs {self.input_names}: {e}") from e
        for node in extra:
            if node.layer.name not in self._layers:
                self._layers[node.layer.name] = node.layer
        self._nodes = self._nodes + extra

    def _flatten_data(self, inputs):
        """The model's inputs in graph order, from a tensor, a list or a dict by name."""
        if isinstance(inputs, dict):
            missing = [n for n in self.input_names if n not in inputs]
            if missing:
                raise ValueError(
                    f"Model '{self.name}' expects inputs {self.input_names}; missing {missing}"
                )
            return [inputs[n] for n in self.input_names]
        flat = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if len(flat) != len(self._flat_inputs):
            raise ValueError(
                f"Model '{self.name}' expects {len(self._flat_inputs)} input(s) "
                f"{self.input_names}, received {len(flat)}"
            )
        return flat

    def compute_output_shape(self, input_shape):
        shapes = [t.shape for t in self._flat_outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    def check_input_shape(self, shapes):
        """Raises if data shapes cannot feed the model's inputs."""
        shapes = shapes if isinstance(shapes, list) else [shapes]
        for tensor, shape in zip(self._flat_inputs, shapes):
            expected = tensor.shape
            if len(expected) != len(shape) or any(
                e is not None and s is not None and e != s
                for e, s in zip(expected[1:], shape[1:])
            ):
                raise ValueError(
                    f"Input '{tensor.name}' of model '{self.name}' is incompatible: expected "
                    f"shape {expected}, but received input with shape {tuple(shape)}"
                )

    def layer_output_shape(self, layer):
        if not layer.inbound_nodes:
            return None
        shapes = [t.shape for t in flatten(layer.inbound_nodes[0].outputs)]
        return shapes[0] if len(shapes) == 1 else shapes

    def get_config(self):
        """Keras 3's functional config: layers with inbound nodes, input and output layers."""
        return functional_config.write(self)

    @classmethod
    def from_config(cls, config, custom_objects=None, model_class=None):
        """Rebuilds the model from `get_config()` output (Keras 3's or tf.keras 2.x's).

        Args:
            config: the config dict.
            custom_objects: `{name: class or function}` for user-defined layers.
            model_class: the class to create (a functional subclass of `Model`); `cls`
                when None.

        Raises:
            ValueError: naming the problem, for malformed configs and unknown layers.
        """
        return functional_config.read(model_class or cls, config, custom_objects)


registry.register("models", Functional)
registry.register_alias("layers", "Model", Functional)  # tf.keras 2.x's name for it
Model.functional_class = Functional  # what `Model(inputs, outputs)` builds


def _ordered_nodes(inputs, outputs):
    """Nodes needed to compute `outputs` from `inputs`, ordered as Keras orders layers.

    Keras sorts by depth (distance from the outputs, farthest first), ties broken by the
    order a depth-first walk from the outputs first meets each layer; input nodes come
    along, so `model.layers` starts with the InputLayers. That order is also the order of
    `get_weights()`, so weights copied from Keras line up.

    Raises:
        ValueError: when an output depends on an Input that is not among `inputs`.
    """
    input_ids = {id(t) for t in inputs}
    first_seen, depth, post_order = {}, {}, []

    def visit(tensor, consumer):
        node = tensor.node
        if node is None or (isinstance(node.layer, InputLayer) and id(tensor) not in input_ids):
            raise ValueError(
                f"Graph disconnected: cannot obtain value for tensor {tensor!r} at layer "
                f"'{consumer}'. The inputs given to Model were "
                f"{[t.name for t in inputs]}; add {tensor.name!r} to them"
            )
        first_seen.setdefault(id(node.layer), len(first_seen))
        if id(node) in depth:
            return
        depth[id(node)] = 0
        if id(tensor) not in input_ids:
            for parent in node.input_tensors:
                visit(parent, node.layer.name)
        post_order.append(node)

    for tensor in outputs:
        visit(tensor, tensor.name)
    for node in reversed(post_order):  # consumers before producers
        for parent in node.parent_nodes:
            if id(parent) in depth:
                depth[id(parent)] = max(depth[id(parent)], depth[id(node)] + 1)
    return sorted(post_order, key=lambda n: (-depth[id(n)], first_seen[id(n.layer)]))
