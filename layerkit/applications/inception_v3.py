"""InceptionV3 (Szegedy et al., CVPR 2016), as `keras.applications.inception_v3`.

Keras's graph: a stem of `conv2d_bn` units (convolution without bias, BatchNormalization
without scale, relu; automatic layer names, as in Keras), then the mixed blocks
`mixed0` ... `mixed10` whose branches are concatenated on the channel axis.
"""

from .. import config
from ..layers import Activation, AveragePooling2D, BatchNormalization, Conv2D, MaxPooling2D, \
    concatenate
from . import application, imagenet_utils

BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
FILES = {top: (f"inception_v3_weights_tf_dim_ordering_tf_kernels{suffix}.h5",
               f"{BASE_URL}inception_v3_weights_tf_dim_ordering_tf_kernels{suffix}.h5",
               file_hash)
         for top, suffix, file_hash in ((True, "", "9a0d58056eeedaa3f26cb7ebd46da564"),
                                        (False, "_notop", "bcbd6486424b2319ff4ef7d526e38f63"))}


def _channel_axis():
    return 1 if config.image_data_format() == "channels_first" else 3


def conv2d_bn(x, filters, rows, cols, padding="same", strides=(1, 1), name=None):
    """Convolution (no bias) -> BatchNormalization (no scale) -> relu."""
    x = Conv2D(filters, (rows, cols), strides=strides, padding=padding, use_bias=False,
               name=None if name is None else f"{name}_conv")(x)
    x = BatchNormalization(axis=_channel_axis(), scale=False,
                           name=None if name is None else f"{name}_bn")(x)
    return Activation("relu", name=name)(x)


def _pool_branch(x, filters):
    branch = AveragePooling2D((3, 3), strides=(1, 1), padding="same")(x)
    return conv2d_bn(branch, filters, 1, 1)


def _block_35(x, pool_filters, name):
    """mixed0-2 (35 x 35): 1x1, 5x5, double 3x3 and pooled branches."""
    branch1x1 = conv2d_bn(x, 64, 1, 1)
    branch5x5 = conv2d_bn(conv2d_bn(x, 48, 1, 1), 64, 5, 5)
    branch3x3dbl = conv2d_bn(conv2d_bn(conv2d_bn(x, 64, 1, 1), 96, 3, 3), 96, 3, 3)
    branch_pool = _pool_branch(x, pool_filters)
    return concatenate([branch1x1, branch5x5, branch3x3dbl, branch_pool],
                       axis=_channel_axis(), name=name)


def _block_17(x, filters, name):
    """mixed4-7 (17 x 17): factorised 7x7 branches with `filters` inner channels."""
    branch1x1 = conv2d_bn(x, 192, 1, 1)
    branch7x7 = conv2d_bn(x, filters, 1, 1)
    branch7x7 = conv2d_bn(branch7x7, filters, 1, 7)
    branch7x7 = conv2d_bn(branch7x7, 192, 7, 1)
    branch7x7dbl = conv2d_bn(x, filters, 1, 1)
    branch7x7dbl = conv2d_bn(branch7x7dbl, filters, 7, 1)
    branch7x7dbl = conv2d_bn(branch7x7dbl, filters, 1, 7)
    branch7x7dbl = conv2d_bn(branch7x7dbl, filters, 7, 1)
    branch7x7dbl = conv2d_bn(branch7x7dbl, 192, 1, 7)
    branch_pool = _pool_branch(x, 192)
    return concatenate([branch1x1, branch7x7, branch7x7dbl, branch_pool],
                       axis=_channel_axis(), name=name)


def _block_8(x, index):
    """mixed9-10 (8 x 8): split 1x3 / 3x1 branches (`mixed9_<index>` joins one pair)."""
    axis = _channel_axis()
    branch1x1 = conv2d_bn(x, 320, 1, 1)
    branch3x3 = conv2d_bn(x, 384, 1, 1)
    branch3x3 = concatenate([conv2d_bn(branch3x3, 384, 1, 3), conv2d_bn(branch3x3, 384, 3, 1)],
                            axis=axis, name=f"mixed9_{index}")
    branch3x3dbl = conv2d_bn(conv2d_bn(x, 448, 1, 1), 384, 3, 3)
    branch3x3dbl = concatenate([conv2d_bn(branch3x3dbl, 384, 1, 3),
                                conv2d_bn(branch3x3dbl, 384, 3, 1)], axis=axis)
    branch_pool = _pool_branch(x, 192)
    return concatenate([branch1x1, branch3x3, branch3x3dbl, branch_pool], axis=axis,
                       name=f"mixed{9 + index}")


def _network(img_input):
    axis = _channel_axis()
    x = conv2d_bn(img_input, 32, 3, 3, strides=(2, 2), padding="valid")
    x = conv2d_bn(x, 32, 3, 3, padding="valid")
    x = conv2d_bn(x, 64, 3, 3)
    x = MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = conv2d_bn(x, 80, 1, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, 3, padding="valid")
    x = MaxPooling2D((3, 3), strides=(2, 2))(x)
    for i, pool_filters in enumerate((32, 64, 64)):
        x = _block_35(x, pool_filters, f"mixed{i}")
    branch3x3 = conv2d_bn(x, 384, 3, 3, strides=(2, 2), padding="valid")  # mixed3: 17 x 17
    branch3x3dbl = conv2d_bn(conv2d_bn(x, 64, 1, 1), 96, 3, 3)
    branch3x3dbl = conv2d_bn(branch3x3dbl, 96, 3, 3, strides=(2, 2), padding="valid")
    branch_pool = MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = concatenate([branch3x3, branch3x3dbl, branch_pool], axis=axis, name="mixed3")
    for i, filters in enumerate((128, 160, 160, 192)):
        x = _block_17(x, filters, f"mixed{4 + i}")
    branch3x3 = conv2d_bn(conv2d_bn(x, 192, 1, 1), 320, 3, 3, strides=(2, 2),
                          padding="valid")  # mixed8: 8 x 8
    branch7x7x3 = conv2d_bn(x, 192, 1, 1)
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 1, 7)
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 7, 1)
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 3, 3, strides=(2, 2), padding="valid")
    branch_pool = MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = concatenate([branch3x3, branch7x7x3, branch_pool], axis=axis, name="mixed8")
    for index in range(2):
        x = _block_8(x, index)
    return x


def InceptionV3(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name="inception_v3"):
    return application.create(
        "InceptionV3", _network, include_top=include_top, weights=weights,
        input_tensor=input_tensor, input_shape=input_shape, pooling=pooling, classes=classes,
        classifier_activation=classifier_activation, name=name, default_size=299,
        min_size=75, files=FILES, pool_names=("avg_pool", None, None))


InceptionV3.__doc__ = application.docstring(
    "The InceptionV3 network (23,851,784 parameters with the top).", 299, 75,
    "`avg_pool`, `predictions`")


def preprocess_input(x, data_format=None):
    """ImageNet 'tf' preprocessing (scaled to [-1, 1]); see `imagenet_utils`."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions
