"""Xception (Chollet, CVPR 2017), as `keras.applications.xception`.

Keras's graph: entry flow (`block1`-`block4`, strided 1x1 projections on unnamed
Conv2D/BatchNormalization pairs added to the separable-convolution path), middle flow
(`block5`-`block12`, identity residuals) and exit flow (`block13`, `block14`).
"""

from .. import config
from ..layers import Activation, BatchNormalization, Conv2D, MaxPooling2D, SeparableConv2D, add
from . import application, imagenet_utils

BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/xception/"
FILES = {top: (f"xception_weights_tf_dim_ordering_tf_kernels{suffix}.h5",
               f"{BASE_URL}xception_weights_tf_dim_ordering_tf_kernels{suffix}.h5", file_hash)
         for top, suffix, file_hash in ((True, "", "0a58e3b7378bc2990ea3b43d5981f1f6"),
                                        (False, "_notop", "b0042744bf5b25fce3cb969f33bebb97"))}


def _axis():
    return 1 if config.image_data_format() == "channels_first" else -1


def _sepconv_bn(x, filters, name, relu_first=True):
    """(relu ->) SeparableConv2D 3x3 'same' without bias -> BatchNormalization."""
    if relu_first:
        x = Activation("relu", name=f"{name}_act")(x)
    x = SeparableConv2D(filters, (3, 3), padding="same", use_bias=False, name=name)(x)
    return BatchNormalization(axis=_axis(), name=f"{name}_bn")(x)


def _projection(x, filters):
    residual = Conv2D(filters, (1, 1), strides=(2, 2), padding="same", use_bias=False)(x)
    return BatchNormalization(axis=_axis())(residual)


def _entry_block(x, filters, block, first_relu=True):
    """block2-4 and block13: two separable convolutions, strided max pooling, projection."""
    residual = _projection(x, filters[-1])
    x = _sepconv_bn(x, filters[0], f"block{block}_sepconv1", relu_first=first_relu)
    x = _sepconv_bn(x, filters[-1], f"block{block}_sepconv2")
    x = MaxPooling2D((3, 3), strides=(2, 2), padding="same", name=f"block{block}_pool")(x)
    return add([x, residual])


def _network(img_input):
    axis = _axis()
    x = Conv2D(32, (3, 3), strides=(2, 2), use_bias=False, name="block1_conv1")(img_input)
    x = BatchNormalization(axis=axis, name="block1_conv1_bn")(x)
    x = Activation("relu", name="block1_conv1_act")(x)
    x = Conv2D(64, (3, 3), use_bias=False, name="block1_conv2")(x)
    x = BatchNormalization(axis=axis, name="block1_conv2_bn")(x)
    x = Activation("relu", name="block1_conv2_act")(x)
    # block2's first separable convolution follows block1's relu directly; its second relu
    # is named block2_sepconv2_act as in Keras.
    x = _entry_block(x, (128,), 2, first_relu=False)
    x = _entry_block(x, (256,), 3)
    x = _entry_block(x, (728,), 4)
    for block in range(5, 13):
        residual = x
        for i in (1, 2, 3):
            x = _sepconv_bn(x, 728, f"block{block}_sepconv{i}")
        x = add([x, residual])
    x = _entry_block(x, (728, 1024), 13)
    x = _sepconv_bn(x, 1536, "block14_sepconv1", relu_first=False)
    x = Activation("relu", name="block14_sepconv1_act")(x)
    x = _sepconv_bn(x, 2048, "block14_sepconv2", relu_first=False)
    return Activation("relu", name="block14_sepconv2_act")(x)


def Xception(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
             pooling=None, classes=1000, classifier_activation="softmax", name="xception"):
    return application.create(
        "Xception", _network, include_top=include_top, weights=weights,
        input_tensor=input_tensor, input_shape=input_shape, pooling=pooling, classes=classes,
        classifier_activation=classifier_activation, name=name, default_size=299,
        min_size=71, files=FILES, pool_names=("avg_pool", None, None))


Xception.__doc__ = application.docstring(
    "The Xception network (22,910,480 parameters with the top).", 299, 71,
    "`avg_pool`, `predictions`")


def preprocess_input(x, data_format=None):
    """ImageNet 'tf' preprocessing (scaled to [-1, 1]); see `imagenet_utils`."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions
