"""Activation layers with arguments or weights (Keras 2's `advanced_activations`)."""

from .elu import ELU as ELU
from .leaky_relu import LeakyReLU as LeakyReLU
from .prelu import PReLU as PReLU
from .relu import ReLU as ReLU
from .softmax import Softmax as Softmax
from .thresholded_relu import ThresholdedReLU as ThresholdedReLU
