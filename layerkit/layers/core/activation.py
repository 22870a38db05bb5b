"""Activation: applies an activation function to its input."""

from ... import activations
from ..layer import Layer, activate


class Activation(Layer):
    """Applies `activation` element-wise (softmax on the last axis).

    Args:
        activation: name (e.g. 'relu') or callable.

    Example:
        >>> Activation("softmax")
    """

    supports_masking = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs):
        return activate(self.activation, inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config
