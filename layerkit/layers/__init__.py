"""Layers: the Layer contract and the layer families."""

from .core.activation import Activation as Activation
from .core.dense import Dense as Dense
from .core.input_layer import Input as Input
from .core.input_layer import InputLayer as InputLayer
from .core.lambda_layer import Lambda as Lambda
from .input_spec import InputSpec as InputSpec
from .layer import Layer as Layer
from .regularization.activity_regularization import (
    ActivityRegularization as ActivityRegularization,
)
from .regularization.dropout import Dropout as Dropout
from .reshaping.flatten import Flatten as Flatten
from .reshaping.reshape import Reshape as Reshape
