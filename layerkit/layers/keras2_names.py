"""Keras 1 / 2 spellings of layer classes (`Convolution2D` is `Conv2D`).

They are attributes of `layerkit.layers` (old notes use them) and names the serialization
registry resolves (old files store them).
"""

from ..utils import registry
from .convolutional.conv1d import Conv1D
from .convolutional.conv2d import Conv2D
from .convolutional.conv2d_transpose import Conv2DTranspose
from .convolutional.separable_conv2d import SeparableConv2D
from .pooling.average_pooling1d import AveragePooling1D
from .pooling.average_pooling2d import AveragePooling2D
from .pooling.global_average_pooling1d import GlobalAveragePooling1D
from .pooling.global_average_pooling2d import GlobalAveragePooling2D
from .pooling.global_max_pooling1d import GlobalMaxPooling1D
from .pooling.global_max_pooling2d import GlobalMaxPooling2D
from .pooling.max_pooling1d import MaxPooling1D
from .pooling.max_pooling2d import MaxPooling2D

Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution2DTranspose = Deconvolution2D = Deconv2D = Conv2DTranspose
SeparableConvolution2D = SeparableConv2D
MaxPool1D, MaxPool2D = MaxPooling1D, MaxPooling2D
AvgPool1D, AvgPool2D = AveragePooling1D, AveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D

SPELLINGS = ("Convolution1D", "Convolution2D", "Convolution2DTranspose", "Deconvolution2D",
             "Deconv2D", "SeparableConvolution2D", "MaxPool1D", "MaxPool2D", "AvgPool1D",
             "AvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalAvgPool1D",
             "GlobalAvgPool2D")
for _name in SPELLINGS:
    registry.register_alias("layers", _name, globals()[_name])
