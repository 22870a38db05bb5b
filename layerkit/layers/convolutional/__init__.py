"""Convolution layers (Keras layouts, TF 'same' padding, channels_last by default)."""

from .conv1d import Conv1D as Conv1D
from .conv2d import Conv2D as Conv2D
from .conv2d_transpose import Conv2DTranspose as Conv2DTranspose
from .depthwise_conv2d import DepthwiseConv2D as DepthwiseConv2D
from .separable_conv2d import SeparableConv2D as SeparableConv2D
