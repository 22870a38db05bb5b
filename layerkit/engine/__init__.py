"""Keras 2's `keras.engine` path: `from keras.engine import Layer, InputSpec`, ...

Who owns what: nothing lives here; every name is the object from `layers` / `models`.
"""

from ..layers.core.input_layer import Input as Input
from ..layers.core.input_layer import InputLayer as InputLayer
from ..layers.input_spec import InputSpec as InputSpec
from ..layers.layer import Layer as Layer
from ..models.model import Model as Model
from ..models.sequential import Sequential as Sequential
