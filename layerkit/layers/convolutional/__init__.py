"""Convolution layers (Keras layouts, TF 'same' padding, channels_last by default); also
Keras 2's `keras.layers.convolutional` path with its aliases, the up-sampling, padding and
cropping layers, and the pooling layers Keras 2 kept importable from here."""

from ..pooling.average_pooling1d import AveragePooling1D as AveragePooling1D
from ..pooling.average_pooling2d import AveragePooling2D as AveragePooling2D
from ..pooling.max_pooling1d import MaxPooling1D as MaxPooling1D
from ..pooling.max_pooling2d import MaxPooling2D as MaxPooling2D
from ..reshaping.cropping2d import Cropping2D as Cropping2D
from ..reshaping.up_sampling2d import UpSampling2D as UpSampling2D
from ..reshaping.zero_padding2d import ZeroPadding2D as ZeroPadding2D
from .conv1d import Conv1D as Conv1D
from .conv2d import Conv2D as Conv2D
from .conv2d_transpose import Conv2DTranspose as Conv2DTranspose
from .depthwise_conv2d import DepthwiseConv2D as DepthwiseConv2D
from .separable_conv2d import SeparableConv2D as SeparableConv2D

# Keras 2 aliases (keras/layers/convolutional.py)
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution2DTranspose = Deconvolution2D = Deconv2D = Conv2DTranspose
SeparableConvolution2D = SeparableConv2D
MaxPool1D, MaxPool2D, AvgPool1D, AvgPool2D = MaxPooling1D, MaxPooling2D, AveragePooling1D, \
    AveragePooling2D
