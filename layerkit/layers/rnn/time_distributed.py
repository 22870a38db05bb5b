"""TimeDistributed: applies one layer to every timestep of a sequence."""

from ..layer import Layer
from .wrapper import deserialize_layer, serialize_layer


class TimeDistributed(Layer):
    """Applies `layer` to each timestep: (batch, time, ...) → (batch, time, ...out).

    The timesteps are folded into the batch, `(B, T, ...) -> (B*T, ...)`, so the layer runs
    once on all of them (the same result as Keras's loop over time, for layers that treat
    samples independently). The weights are the wrapped layer's, shared across timesteps.

    Args:
        layer: a layer instance, e.g. `Dense(8)`.

    Example:
        >>> TimeDistributed(Dense(8), input_shape=(10, 16))  # -> (None, 10, 8)
    """

    supports_masking = True

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                f"TimeDistributed(layer=...): expected a layer instance, received {layer!r}"
            )
        super().__init__(**kwargs)
        self.layer = layer

    def _child_shape(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(
                f"Layer '{self.name}' (TimeDistributed) expects input of rank >= 3 "
                f"(batch, time, ...), received input shape {tuple(input_shape)}"
            )
        return (None,) + tuple(input_shape[2:])

    def build(self, input_shape):
        if not self.layer.built:
            self.layer.build(self._child_shape(input_shape))
        self.built = True

    def call(self, inputs, training=False, mask=None):
        self._child_shape((None,) + tuple(inputs.shape[1:]))
        batch, steps = inputs.shape[:2]
        flat = inputs.reshape((batch * steps,) + tuple(inputs.shape[2:]))  # (B*T, ...)
        if mask is not None:  # the inner layer's __call__ passes it on if its call takes it
            mask = mask.reshape((batch * steps,) + tuple(mask.shape[2:]))  # (B*T, ...)
        y = self.layer(flat, training=training, mask=mask)
        return y.reshape((batch, steps) + tuple(y.shape[1:]))  # (B, T, ...out)

    def compute_output_shape(self, input_shape):
        child = self.layer.compute_output_shape(self._child_shape(input_shape))
        return (input_shape[0], input_shape[1]) + tuple(child[1:])

    def get_config(self):
        config = super().get_config()
        config.update(layer=serialize_layer(self.layer))
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["layer"] = deserialize_layer(config["layer"], custom_objects)
        return cls(**config)
