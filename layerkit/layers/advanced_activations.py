"""Keras 2's `keras.layers.advanced_activations` path (the layers live in `activations/`)."""

from .activations.elu import ELU as ELU
from .activations.leaky_relu import LeakyReLU as LeakyReLU
from .activations.prelu import PReLU as PReLU
from .activations.relu import ReLU as ReLU
from .activations.softmax import Softmax as Softmax
from .activations.thresholded_relu import ThresholdedReLU as ThresholdedReLU
