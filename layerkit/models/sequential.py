"""Sequential: a plain stack of layers, each feeding the next."""

from torch import nn

from ..graph.symbolic import KerasTensor
from ..layers.core.input_layer import InputLayer
from ..layers.layer import Layer
from ..utils import registry, serialization
from ..utils.serialization import require as _require
from .model import Model


class Sequential(Model):
    """A linear stack of layers.

    Built as soon as the input shape is known: from the first layer's `input_shape` /
    `input_dim`, an `Input(...)` given first, `build(input_shape)`, or the first data.
    Layers are registered under their names, so `state_dict()` keys read
    `_layers.dense.kernel`.

    Args:
        layers: optional list of layers (an `Input(...)` tensor may come first).
        name: model name (`sequential`, `sequential_1`, ... when None).

    Example:
        >>> model = Sequential([Dense(16, activation="relu", input_shape=(10000,)),
        ...                     Dense(1, activation="sigmoid")])
    """

    def __init__(self, layers=None, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self._layers = nn.ModuleDict()
        self._input_layer = None
        self._output_shapes = {}
        self._graph = []  # symbolic tensors: the input, then each layer's output
        for layer in layers or []:
            self.add(layer)

    @classmethod
    def _default_name(cls):
        return "sequential"

    @property
    def layers(self):
        return list(self._layers.values())

    @property
    def jit_compile(self):
        """Whether `compile(jit_compile=True)` set the forward pass to `torch.compile`."""
        return self._jit_compile

    def add(self, layer):
        """Appends a layer (or an `Input(...)` tensor, only as the first element).

        Raises:
            TypeError: if `layer` is not a Layer.
            ValueError: if its name is already used in this model.
        """
        if isinstance(layer, KerasTensor):
            layer = layer.source_layer
        if isinstance(layer, InputLayer):
            if len(self._layers):
                raise ValueError(
                    f"Sequential '{self.name}': an Input can only be the first element, "
                    f"but the model already has layers {[l.name for l in self.layers]}"
                )
            self._input_layer = layer
            self._batch_input_shape = layer.batch_input_shape
            self._dtype_name = layer.declared_dtype or self._dtype_name
            return
        if not isinstance(layer, Layer):
            raise TypeError(
                f"Sequential.add: the added layer must be an instance of layerkit Layer, "
                f"received {layer!r} of type {type(layer).__name__}"
            )
        if layer.name in self._layers:
            raise ValueError(
                f"All layers added to a Sequential model should have unique names. Name "
                f"{layer.name!r} is already the name of a layer in model '{self.name}'"
            )
        if not len(self._layers) and self._batch_input_shape is None:
            self._batch_input_shape = layer.batch_input_shape
        self._layers[layer.name] = layer
        if self._graph:
            self._extend_graph([layer])
        elif self._batch_input_shape is not None:
            self._maybe_build(self._batch_input_shape)

    def pop(self):
        """Removes and returns the last layer."""
        if not len(self._layers):
            raise TypeError(f"Sequential '{self.name}' has no layers to pop")
        name = list(self._layers.keys())[-1]
        layer = self._layers[name]
        del self._layers[name]
        self._output_shapes.pop(name, None)
        if len(self._graph) > 1:
            self._graph.pop()
        if not len(self._layers):
            self.built = False
            self._graph = []
        return layer

    def build(self, input_shape=None):
        """Builds every layer in turn by calling it on symbolic tensors.

        The recorded graph gives `model.input`, `model.output` and each layer's
        `input`/`output`, so `Model(model.input, layer.output)` works on a Sequential.
        """
        input_shape = input_shape or self._batch_input_shape
        if input_shape is None:
            raise ValueError(
                f"Sequential '{self.name}' cannot be built without an input shape: give the "
                "first layer input_shape=..., or call build((None, features))"
            )
        if not len(self._layers):
            raise ValueError(f"Sequential '{self.name}' has no layers to build")
        input_shape = tuple(input_shape)
        input_layer = self._input_layer
        if input_layer is None or tuple(input_layer.batch_input_shape) != input_shape:
            input_layer = InputLayer(batch_input_shape=input_shape,
                                     name=f"{self.layers[0].name}_input",
                                     dtype=self._dtype_name)
        self._graph = [input_layer.output]
        self._extend_graph(self.layers)
        self._build_input_shape = input_shape
        self.built = True

    def _extend_graph(self, layers):
        for layer in layers:
            output = layer(self._graph[-1])
            self._graph.append(output)
            self._output_shapes[layer.name] = output.shape if hasattr(output, "shape") \
                else [t.shape for t in output]

    @property
    def input(self):
        if not self._graph:
            raise AttributeError(f"Sequential '{self.name}' is not built: it has no input yet")
        return self._graph[0]

    @property
    def output(self):
        if not self._graph:
            raise AttributeError(f"Sequential '{self.name}' is not built: it has no output yet")
        return self._graph[-1]

    @property
    def inputs(self):
        return [self.input]

    @property
    def outputs(self):
        return [self.output]

    def call(self, inputs, training=False):
        x = inputs
        for layer in self._layers.values():
            x = layer(x, training=training)
        return x

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.layers:
            shape = tuple(layer.compute_output_shape(shape))
        return shape

    def layer_output_shape(self, layer):
        """The output shape recorded for `layer` when the model was built."""
        return self._output_shapes.get(layer.name)

    def check_input_shape(self, shape):
        """Raises if data of `shape` cannot feed the first layer."""
        expected = self._build_input_shape
        if expected is None:
            return
        first = self.layers[0].name if len(self._layers) else self.name
        compatible = len(expected) == len(shape) and all(
            e is None or s is None or e == s for e, s in zip(expected[1:], shape[1:])
        )
        if not compatible:
            raise ValueError(
                f"Input 0 of layer '{first}' is incompatible with the layer: expected "
                f"shape {expected}, but received input with shape {tuple(shape)}"
            )

    def predict_proba(self, x, batch_size=32, verbose=0):
        """The model's outputs, as `predict` (tf.keras 2.5 `Sequential.predict_proba`).

        Removed in TF 2.6; kept for Keras 2 notes. The outputs are meant to be
        probabilities (a sigmoid or softmax last layer); nothing is rescaled.
        """
        return self.predict(x, batch_size=batch_size, verbose=verbose)

    def predict_classes(self, x, batch_size=32, verbose=0):
        """Class predictions (tf.keras 2.5 `Sequential.predict_classes`, removed in TF 2.6).

        Returns:
            `argmax(-1)` of the outputs when the last axis has several units, else the
            int32 array `outputs > 0.5` (shape `(N, 1)` for one sigmoid unit, as tf.keras).
        """
        proba = self.predict(x, batch_size=batch_size, verbose=verbose)
        if proba.shape[-1] > 1:
            return proba.argmax(axis=-1)
        return (proba > 0.5).astype("int32")

    def get_config(self):
        """Keras 3's Sequential config: name, layers (an InputLayer first when known)."""
        layers = []
        shape = self._batch_input_shape
        if shape is not None:
            name = self._input_layer.name if self._input_layer is not None else \
                f"{self.layers[0].name}_input" if self.layers else "input_layer"
            input_config = {"batch_shape": list(shape), "dtype": self._dtype_name or self.dtype,
                            "sparse": False, "name": name}
            layers.append({"module": "keras.layers", "class_name": "InputLayer",
                           "config": input_config, "registered_name": None})
        layers.extend(serialization.layer_record(layer) for layer in self.layers)
        config = {"name": self.name, "trainable": self.trainable, "layers": layers}
        if shape is not None:
            config["build_input_shape"] = list(shape)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds the model from `get_config()` output (Keras 3's, tf.keras 2.x's, or
        Keras 2.0's bare list of layers).

        Raises:
            ValueError: naming the problem, for malformed configs and unknown layers.
        """
        if isinstance(config, list):  # Keras 2.0-2.1 wrote the list of layers alone
            config = {"layers": config}
        _require(isinstance(config, dict) and isinstance(config.get("layers"), list),
                 "Sequential: config must be a dict with a 'layers' list")
        name = config.get("name")
        model = cls(name=name if isinstance(name, str) else None)
        for index, record in enumerate(config["layers"]):
            layer = serialization.deserialize(record, "layers", custom_objects,
                                              f"Sequential layer {index}")
            _require(not (isinstance(layer, InputLayer) and index), "Sequential: an InputLayer "
                     f"can only come first (found at position {index})")
            try:
                model.add(layer)
            except (TypeError, ValueError, RuntimeError) as error:
                raise ValueError(f"Sequential: cannot add layer {layer.name!r}: {error}") \
                    from None
        model._build_from_config(config.get("build_input_shape"))
        return model

    def _build_from_config(self, shape):
        if self.built or not isinstance(shape, list) or not self.layers:
            return
        _require(all(d is None or (isinstance(d, int) and d > 0) for d in shape),
                 f"Sequential: invalid build_input_shape {shape!r}")
        try:
            self.build(tuple(shape))
        except (TypeError, ValueError, RuntimeError) as error:
            raise ValueError(f"Sequential: cannot build for input shape {shape}: {error}") \
                from None


registry.register("models", Sequential)
