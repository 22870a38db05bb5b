"""Layers: the Layer contract and the layer families (one public class per file).

Who owns what: `layer.py` is the contract and each family folder holds its layers. This
module names every public layer and the module that defines it; a module is imported the
first time one of its names is used (PEP 562 `__getattr__`), so `import layerkit` does not
compile every layer. `Layer`, `InputSpec`, `Input`, `InputLayer` and `TensorOp` (which the
engine imports anyway) are plain attributes. The serialization registry is told about
every module (`registry.register_module`), so loading a file finds all of them.
"""

import importlib

from ..utils import registry
from ..utils.missing import attribute_error as _attribute_error
from .core.input_layer import Input as Input
from .core.input_layer import InputLayer as InputLayer
from .core.tensor_op import TensorOp as TensorOp
from .input_spec import InputSpec as InputSpec
from .layer import Layer as Layer

# module -> the public names it defines, imported on first access
_MODULES = {
    "layerkit.layers.activations.elu": ("ELU",),
    "layerkit.layers.activations.leaky_relu": ("LeakyReLU",),
    "layerkit.layers.activations.prelu": ("PReLU",),
    "layerkit.layers.activations.relu": ("ReLU",),
    "layerkit.layers.activations.softmax": ("Softmax",),
    "layerkit.layers.activations.thresholded_relu": ("ThresholdedReLU",),
    "layerkit.layers.convolutional.conv1d": ("Conv1D",),
    "layerkit.layers.convolutional.conv2d": ("Conv2D",),
    "layerkit.layers.convolutional.conv2d_transpose": ("Conv2DTranspose",),
    "layerkit.layers.convolutional.depthwise_conv2d": ("DepthwiseConv2D",),
    "layerkit.layers.convolutional.separable_conv2d": ("SeparableConv2D",),
    "layerkit.layers.core.activation": ("Activation",),
    "layerkit.layers.core.dense": ("Dense",),
    "layerkit.layers.core.embedding": ("Embedding",),
    "layerkit.layers.core.lambda_layer": ("Lambda",),
    "layerkit.layers.core.masking": ("Masking",),
    "layerkit.layers.cudnn_recurrent": ("CuDNNGRU", "CuDNNLSTM"),
    "layerkit.layers.keras2_names": (
        "Convolution1D", "Convolution2D", "Convolution2DTranspose", "Deconvolution2D",
        "Deconv2D", "SeparableConvolution2D", "MaxPool1D", "MaxPool2D", "AvgPool1D",
        "AvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalAvgPool1D",
        "GlobalAvgPool2D"),
    "layerkit.layers.merging.add": ("Add", "add"),
    "layerkit.layers.merging.average": ("Average", "average"),
    "layerkit.layers.merging.concatenate": ("Concatenate", "concatenate"),
    "layerkit.layers.merging.dot": ("Dot", "dot"),
    "layerkit.layers.merging.maximum": ("Maximum", "maximum"),
    "layerkit.layers.merging.minimum": ("Minimum", "minimum"),
    "layerkit.layers.merging.multiply": ("Multiply", "multiply"),
    "layerkit.layers.merging.subtract": ("Subtract", "subtract"),
    "layerkit.layers.normalization.batch_normalization": ("BatchNormalization",),
    "layerkit.layers.normalization.layer_normalization": ("LayerNormalization",),
    "layerkit.layers.pooling.average_pooling1d": ("AveragePooling1D",),
    "layerkit.layers.pooling.average_pooling2d": ("AveragePooling2D",),
    "layerkit.layers.pooling.global_average_pooling1d": ("GlobalAveragePooling1D",),
    "layerkit.layers.pooling.global_average_pooling2d": ("GlobalAveragePooling2D",),
    "layerkit.layers.pooling.global_max_pooling1d": ("GlobalMaxPooling1D",),
    "layerkit.layers.pooling.global_max_pooling2d": ("GlobalMaxPooling2D",),
    "layerkit.layers.pooling.max_pooling1d": ("MaxPooling1D",),
    "layerkit.layers.pooling.max_pooling2d": ("MaxPooling2D",),
    "layerkit.layers.regularization.activity_regularization": ("ActivityRegularization",),
    "layerkit.layers.regularization.dropout": ("Dropout",),
    "layerkit.layers.regularization.gaussian_dropout": ("GaussianDropout",),
    "layerkit.layers.regularization.gaussian_noise": ("GaussianNoise",),
    "layerkit.layers.regularization.spatial_dropout1d": ("SpatialDropout1D",),
    "layerkit.layers.regularization.spatial_dropout2d": ("SpatialDropout2D",),
    "layerkit.layers.regularization.spatial_dropout3d": ("SpatialDropout3D",),
    "layerkit.layers.reshaping.cropping2d": ("Cropping2D",),
    "layerkit.layers.reshaping.flatten": ("Flatten",),
    "layerkit.layers.reshaping.permute": ("Permute",),
    "layerkit.layers.reshaping.repeat_vector": ("RepeatVector",),
    "layerkit.layers.reshaping.reshape": ("Reshape",),
    "layerkit.layers.reshaping.up_sampling2d": ("UpSampling2D",),
    "layerkit.layers.reshaping.zero_padding2d": ("ZeroPadding2D",),
    "layerkit.layers.rnn.bidirectional": ("Bidirectional",),
    "layerkit.layers.rnn.gru": ("GRU",),
    "layerkit.layers.rnn.lstm": ("LSTM",),
    "layerkit.layers.rnn.simple_rnn": ("SimpleRNN",),
    "layerkit.layers.rnn.time_distributed": ("TimeDistributed",),
}
_WHERE = {name: module for module, names in _MODULES.items() for name in names}
__all__ = sorted(["Input", "InputLayer", "InputSpec", "Layer", "TensorOp", *_WHERE])

for _module in _MODULES:
    registry.register_module("layers", _module)


# Each lazy package calls importlib itself rather than a shared helper: the import-graph
# checks (tests/test_import_graph.py) then see the modules named in its table as its imports.
def __getattr__(name):
    """Imports the module that defines `name` on first use; Keras layers layerkit lacks
    (`Conv3D`, `Attention`, ...) raise an error saying what to use instead."""
    if name not in _WHERE:
        raise _attribute_error(__name__, name)
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_WHERE))
