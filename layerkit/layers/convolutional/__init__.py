"""Convolution layers (Keras layouts, TF 'same' padding, channels_last by default); also
Keras 2's `keras.layers.convolutional` path with its aliases, the up-sampling, padding and
cropping layers, and the pooling layers Keras 2 kept importable from here.

Every name is imported on first use (PEP 562): the reshaping layers import `conv_utils`
from this package, so an eager import of them here would be a cycle.
"""

import importlib

# name -> the module that defines it, imported on first access
_WHERE = {
    "AveragePooling1D": "layerkit.layers.pooling.average_pooling1d",
    "AveragePooling2D": "layerkit.layers.pooling.average_pooling2d",
    "MaxPooling1D": "layerkit.layers.pooling.max_pooling1d",
    "MaxPooling2D": "layerkit.layers.pooling.max_pooling2d",
    "Cropping2D": "layerkit.layers.reshaping.cropping2d",
    "UpSampling2D": "layerkit.layers.reshaping.up_sampling2d",
    "ZeroPadding2D": "layerkit.layers.reshaping.zero_padding2d",
    "Conv1D": "layerkit.layers.convolutional.conv1d",
    "Conv2D": "layerkit.layers.convolutional.conv2d",
    "Conv2DTranspose": "layerkit.layers.convolutional.conv2d_transpose",
    "DepthwiseConv2D": "layerkit.layers.convolutional.depthwise_conv2d",
    "SeparableConv2D": "layerkit.layers.convolutional.separable_conv2d",
    # Keras 2 aliases (keras/layers/convolutional.py)
    "Convolution1D": "layerkit.layers.keras2_names",
    "Convolution2D": "layerkit.layers.keras2_names",
    "Convolution2DTranspose": "layerkit.layers.keras2_names",
    "Deconvolution2D": "layerkit.layers.keras2_names",
    "Deconv2D": "layerkit.layers.keras2_names",
    "SeparableConvolution2D": "layerkit.layers.keras2_names",
    "MaxPool1D": "layerkit.layers.keras2_names",
    "MaxPool2D": "layerkit.layers.keras2_names",
    "AvgPool1D": "layerkit.layers.keras2_names",
    "AvgPool2D": "layerkit.layers.keras2_names",
}
__all__ = sorted(_WHERE)


# Each lazy package calls importlib itself rather than a shared helper: the import-graph
# checks (tests/test_import_graph.py) then see the modules named in its table as its imports.
def __getattr__(name):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_WHERE))
