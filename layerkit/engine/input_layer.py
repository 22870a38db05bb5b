"""Keras 2.2's `keras.engine.input_layer` path."""

from ..layers.core.input_layer import Input as Input
from ..layers.core.input_layer import InputLayer as InputLayer
