"""Keras 2.0–2.1's `keras.engine.topology` path (`Container` and `Network` are functional
models)."""

from ..graph.node import Node as Node
from ..layers.core.input_layer import Input as Input
from ..layers.core.input_layer import InputLayer as InputLayer
from ..layers.input_spec import InputSpec as InputSpec
from ..layers.layer import Layer as Layer
from ..models.functional import Functional

Network = Container = Functional
