"""Keras 2.2's `keras.engine.base_layer` path."""

from ..graph.node import Node as Node
from ..layers.input_spec import InputSpec as InputSpec
from ..layers.layer import Layer as Layer
