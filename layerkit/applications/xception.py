"""Xception (Chollet, CVPR 2017), as `keras.applications.xception`.

Keras's graph: entry flow (`block1`-`block4`, strided 1x1 projections on unnamed
Conv2D/BatchNormalization pairs added to the separable-convolution path), middle flow
(`block5`-`block12`, identity residuals) and exit flow (`block13`, `block14`).
"""

from .. import config
from ..layers import Activation, BatchNormalization, Conv2D, Dense, MaxPooling2D, \
    SeparableConv2D, add
from . import application, imagenet_utils

BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/xception/"
PRETRAINED = {
    True: ("xception_weights_tf_dim_ordering_tf_kernels.h5",
           "0a58e3b7378bc2990ea3b43d5981f1f6"),
    False: ("xception_weights_tf_dim_ordering_tf_kernels_notop.h5",
            "b0042744bf5b25fce3cb969f33bebb97"),
}


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
    """The Xception network (22,910,480 parameters with the top).

    Args:
        include_top: include the classifier (`avg_pool`, `predictions`).
        weights: None (random), 'imagenet' (Keras's file, cached in `~/.keras/models`) or
            the path of a weights file.
        input_tensor: optional symbolic tensor (from `Input`) to build the model on.
        input_shape: (rows, cols, 3) without the top (sides >= 71); with the top and
            ImageNet weights it must be (299, 299, 3).
        pooling: without the top: None (4D features), 'avg' or 'max' (2D features).
        classes: number of classes of the top (1000 with ImageNet weights).
        classifier_activation: activation of `predictions` ('softmax'; None for logits).
        name: the model's name.

    Returns:
        A Functional model.

    Raises:
        ValueError: for invalid arguments or a weights file that does not fit.
        layerkit.utils.file_utils.DownloadError: ImageNet weights not cached and offline.
    """
    owner = "Xception"
    application.check_arguments(owner, weights, include_top, classes, pooling)
    input_shape = application.input_shape_for(owner, input_shape, 299, 71, include_top,
                                              weights)
    with application.weights_unfilled(weights):
        img_input = application.image_input(owner, input_tensor, input_shape)
        x = _network(img_input)
        if include_top:
            x = application.pooled(x, "avg", names=("avg_pool", None))
            imagenet_utils.validate_activation(classifier_activation, weights, owner)
            x = Dense(classes, activation=classifier_activation, name="predictions")(x)
        else:
            x = application.pooled(x, pooling)
        model = application.functional(input_tensor, img_input, x, name)
    file_name, file_hash = PRETRAINED[bool(include_top)]
    return application.load(model, owner, weights, (file_name, BASE_URL + file_name, file_hash))


def preprocess_input(x, data_format=None):
    """ImageNet 'tf' preprocessing (scaled to [-1, 1]); see `imagenet_utils`."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions
