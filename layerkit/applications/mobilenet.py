"""MobileNet (Howard et al., 2017), as `keras.applications.mobilenet`.

Keras's graph: `conv1` (strided 3x3), then 13 depthwise-separable blocks (`conv_dw_<i>`
3x3 depthwise + `conv_pw_<i>` 1x1, each with BatchNormalization and ReLU6; strided blocks
pad bottom/right first, `conv_pad_<i>`); the top is a 1x1 convolution (`conv_preds`) on
the globally pooled features. `alpha` scales the widths.
"""

import warnings

from .. import config
from ..layers import Activation, BatchNormalization, Conv2D, DepthwiseConv2D, Dropout, \
    GlobalAveragePooling2D, ReLU, Reshape, ZeroPadding2D
from . import application, imagenet_utils

BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/"
ALPHA_TEXT = {1.0: "1_0", 0.75: "7_5", 0.5: "5_0", 0.25: "2_5"}
SIZES = (128, 160, 192, 224)
BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1),
          (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))  # (pointwise filters, stride)


def _axis():
    return 1 if config.image_data_format() == "channels_first" else -1


def _rows_cols(input_shape):
    if config.image_data_format() == "channels_first":
        return input_shape[1], input_shape[2]
    return input_shape[0], input_shape[1]


def _depthwise_block(x, filters, alpha, depth_multiplier, stride, block_id):
    if stride == 1:
        padding = "same"
    else:
        x = ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(x)
        padding = "valid"
    x = DepthwiseConv2D((3, 3), padding=padding, depth_multiplier=depth_multiplier,
                        strides=(stride, stride), use_bias=False, name=f"conv_dw_{block_id}")(x)
    x = BatchNormalization(axis=_axis(), name=f"conv_dw_{block_id}_bn")(x)
    x = ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = Conv2D(int(filters * alpha), (1, 1), padding="same", use_bias=False,
               name=f"conv_pw_{block_id}")(x)
    x = BatchNormalization(axis=_axis(), name=f"conv_pw_{block_id}_bn")(x)
    return ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


def _network(img_input, alpha, depth_multiplier):
    x = Conv2D(int(32 * alpha), (3, 3), padding="same", use_bias=False, strides=(2, 2),
               name="conv1")(img_input)
    x = BatchNormalization(axis=_axis(), name="conv1_bn")(x)
    x = ReLU(6.0, name="conv1_relu")(x)
    for block_id, (filters, stride) in enumerate(BLOCKS, start=1):
        x = _depthwise_block(x, filters, alpha, depth_multiplier, stride, block_id)
    return x


def _check_imagenet(alpha, depth_multiplier, rows, cols):
    """Keras's limits for the published files; returns the rows of the file to load."""
    if depth_multiplier != 1:
        raise ValueError(f"MobileNet(weights='imagenet'): depth_multiplier must be 1, "
                         f"received {depth_multiplier}")
    if alpha not in ALPHA_TEXT:
        raise ValueError(f"MobileNet(weights='imagenet'): alpha must be one of 0.25, 0.50, "
                         f"0.75 or 1.0, received {alpha}")
    if rows != cols or rows not in SIZES:
        warnings.warn("MobileNet: input_shape is undefined, non-square or its rows are not "
                      "in [128, 160, 192, 224]; the weights for 224x224 are loaded",
                      stacklevel=3)
        return 224
    return rows


def _classifier(classes, dropout, classifier_activation):
    """Keras's MobileNet top: pooled features (kept 4D), dropout, a 1x1 convolution."""

    def build(x):
        x = GlobalAveragePooling2D(keepdims=True)(x)
        x = Dropout(dropout, name="dropout")(x)
        x = Conv2D(classes, (1, 1), padding="same", name="conv_preds")(x)
        x = Reshape((classes,), name="reshape_2")(x)
        return Activation(classifier_activation, name="predictions")(x)

    return build


def MobileNet(input_shape=None, alpha=1.0, depth_multiplier=1, dropout=1e-3, include_top=True,
              weights="imagenet", input_tensor=None, pooling=None, classes=1000,
              classifier_activation="softmax", name=None):
    """The MobileNet network (4,253,864 parameters with the top at alpha=1.0).

    Args:
        input_shape: (rows, cols, 3); square 128/160/192/224 picks the matching weights.
        alpha: width multiplier (0.25, 0.5, 0.75 or 1.0 for ImageNet weights).
        depth_multiplier: depthwise channel multiplier (1 for ImageNet weights).
        dropout: dropout rate before the top's 1x1 convolution.
        include_top, weights, input_tensor, pooling, classes, classifier_activation: as for
            `VGG16`.
        name: the model's name (`mobilenet_1_00_224` style when None; Keras writes
            `mobilenet_1.00_224`, but layer names cannot hold "." in torch).

    Returns:
        A Functional model.

    Raises:
        ValueError: for invalid arguments or a weights file that does not fit.
        layerkit.utils.file_utils.DownloadError: ImageNet weights not cached and offline.
    """
    owner = "MobileNet"
    application.check_arguments(owner, weights, include_top, classes, pooling)
    default_size = 224
    if input_shape is not None:
        rows, cols = _rows_cols(input_shape)
        default_size = rows if rows == cols and rows in SIZES else 224
    input_shape = application.input_shape_for(owner, input_shape, default_size, 32,
                                              include_top, weights)
    rows, cols = _rows_cols(input_shape)
    if weights == "imagenet":
        rows = _check_imagenet(alpha, depth_multiplier, rows, cols)
    files = {top: f"mobilenet_{ALPHA_TEXT.get(alpha, alpha)}_{rows}_tf{'' if top else '_no_top'}.h5"
             for top in (True, False)}
    # Keras: "mobilenet_1.00_224"; layer names hold no "." here (torch module keys)
    name = name if name is not None else f"mobilenet_{alpha:0.2f}_{rows}".replace(".", "_")
    return application.create(
        owner, lambda x: _network(x, alpha, depth_multiplier), include_top=include_top,
        weights=weights, input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
        classes=classes, classifier_activation=classifier_activation, name=name,
        default_size=default_size, min_size=32,
        files={top: (f, BASE_URL + f, None) for top, f in files.items()},
        top=_classifier(classes, dropout, classifier_activation))


def preprocess_input(x, data_format=None):
    """ImageNet 'tf' preprocessing (scaled to [-1, 1]); see `imagenet_utils`."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions
