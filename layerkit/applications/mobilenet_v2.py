"""MobileNetV2 (Sandler et al., CVPR 2018), as `keras.applications.mobilenet_v2`.

Keras's graph: `Conv1` (strided 3x3), 17 inverted residual blocks (`expanded_conv_`,
`block_1_` ... `block_16_`: 1x1 expansion, 3x3 depthwise, 1x1 linear projection, each with
BatchNormalization (momentum 0.999) and ReLU6 after the first two; an identity shortcut
`..._add` where shapes allow), then `Conv_1` (1280 channels) and `out_relu`.
"""

import warnings

from .. import config
from ..layers import Add, BatchNormalization, Conv2D, DepthwiseConv2D, ReLU, ZeroPadding2D
from . import application, imagenet_utils

BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/"
ALPHAS = (0.35, 0.50, 0.75, 1.0, 1.3, 1.4)
SIZES = (96, 128, 160, 192, 224)
BLOCKS = ((16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6), (64, 2, 6),
          (64, 1, 6), (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6), (96, 1, 6),
          (160, 2, 6), (160, 1, 6), (160, 1, 6), (320, 1, 6))  # (filters, stride, expansion)


def _axis():
    return 1 if config.image_data_format() == "channels_first" else -1


def make_divisible(value, divisor, min_value=None):
    """`value` rounded to a multiple of `divisor`, never more than 10% below it."""
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def _bn(x, name):
    return BatchNormalization(axis=_axis(), epsilon=1e-3, momentum=0.999, name=name)(x)


def inverted_res_block(inputs, expansion, stride, alpha, filters, block_id):
    """Expansion (not in block 0), depthwise 3x3, linear projection, identity shortcut."""
    in_channels = inputs.shape[_axis()]
    pointwise_filters = make_divisible(int(filters * alpha), 8)
    x = inputs
    prefix = f"block_{block_id}_" if block_id else "expanded_conv_"
    if block_id:
        x = Conv2D(expansion * in_channels, kernel_size=1, padding="same", use_bias=False,
                   name=f"{prefix}expand")(x)
        x = ReLU(6.0, name=f"{prefix}expand_relu")(_bn(x, f"{prefix}expand_BN"))
    if stride == 2:
        x = ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3), name=f"{prefix}pad")(x)
    x = DepthwiseConv2D(kernel_size=3, strides=stride, use_bias=False,
                        padding="same" if stride == 1 else "valid",
                        name=f"{prefix}depthwise")(x)
    x = ReLU(6.0, name=f"{prefix}depthwise_relu")(_bn(x, f"{prefix}depthwise_BN"))
    x = Conv2D(pointwise_filters, kernel_size=1, padding="same", use_bias=False,
               name=f"{prefix}project")(x)
    x = _bn(x, f"{prefix}project_BN")
    if in_channels == pointwise_filters and stride == 1:
        return Add(name=f"{prefix}add")([inputs, x])
    return x


def _default_size(input_shape, input_tensor):
    """Keras's choice of the weights' image size from the shape or the tensor given."""
    if input_shape is not None:
        rows, cols = ((input_shape[1], input_shape[2]) if config.image_data_format() ==
                      "channels_first" else (input_shape[0], input_shape[1]))
    elif input_tensor is not None and len(input_tensor.shape) == 4:
        first = 2 if config.image_data_format() == "channels_first" else 1
        rows, cols = input_tensor.shape[first:first + 2]
    else:
        return 224
    return rows if rows == cols and rows in SIZES else 224


def MobileNetV2(input_shape=None, alpha=1.0, include_top=True, weights="imagenet",
                input_tensor=None, pooling=None, classes=1000,
                classifier_activation="softmax", name=None):
    """The MobileNetV2 network (3,538,984 parameters with the top at alpha=1.0).

    Args:
        input_shape: (rows, cols, 3); square 96/128/160/192/224 picks the matching weights.
        alpha: width multiplier (0.35, 0.5, 0.75, 1.0, 1.3 or 1.4 for ImageNet weights).
        include_top, weights, input_tensor, pooling, classes, classifier_activation: as for
            `VGG16`.
        name: the model's name (`mobilenetv2_1_00_224` style when None; Keras writes
            `mobilenetv2_1.00_224`, but layer names cannot hold "." in torch).

    Returns:
        A Functional model.

    Raises:
        ValueError: for invalid arguments or a weights file that does not fit.
        layerkit.utils.file_utils.DownloadError: ImageNet weights not cached and offline.
    """
    owner = "MobileNetV2"
    application.check_arguments(owner, weights, include_top, classes, pooling)
    default_size = _default_size(input_shape, input_tensor)
    input_shape = application.input_shape_for(owner, input_shape, default_size, 32,
                                              include_top, weights)
    first = 1 if config.image_data_format() == "channels_first" else 0
    rows, cols = input_shape[first], input_shape[first + 1]
    if weights == "imagenet":
        if alpha not in ALPHAS:
            raise ValueError(f"MobileNetV2(weights='imagenet'): alpha must be one of 0.35, "
                             f"0.50, 0.75, 1.0, 1.3 or 1.4, received {alpha}")
        if rows != cols or rows not in SIZES:
            warnings.warn("MobileNetV2: input_shape is undefined, non-square or its rows are "
                          "not in [96, 128, 160, 192, 224]; the weights for 224x224 are "
                          "loaded", stacklevel=2)
            rows = 224
    files = {top: ("mobilenet_v2_weights_tf_dim_ordering_tf_kernels_"
                   f"{float(alpha)}_{rows}{'' if top else '_no_top'}.h5") for top in (True, False)}
    # Keras: "mobilenetv2_1.00_224"; layer names hold no "." here (torch module keys)
    name = name if name is not None else f"mobilenetv2_{alpha:0.2f}_{rows}".replace(".", "_")
    return application.create(
        owner, lambda x: _network(x, alpha), include_top=include_top, weights=weights,
        input_tensor=input_tensor, input_shape=input_shape, pooling=pooling, classes=classes,
        classifier_activation=classifier_activation, name=name, default_size=default_size,
        min_size=32, files={top: (f, BASE_URL + f, None) for top, f in files.items()})


def _network(img_input, alpha):
    x = Conv2D(make_divisible(32 * alpha, 8), kernel_size=3, strides=(2, 2), padding="same",
               use_bias=False, name="Conv1")(img_input)
    x = ReLU(6.0, name="Conv1_relu")(_bn(x, "bn_Conv1"))
    for block_id, (filters, stride, expansion) in enumerate(BLOCKS):
        x = inverted_res_block(x, filters=filters, alpha=alpha, stride=stride,
                               expansion=expansion, block_id=block_id)
    last = make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = Conv2D(last, kernel_size=1, use_bias=False, name="Conv_1")(x)
    return ReLU(6.0, name="out_relu")(_bn(x, "Conv_1_bn"))


def preprocess_input(x, data_format=None):
    """ImageNet 'tf' preprocessing (scaled to [-1, 1]); see `imagenet_utils`."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions
