"""ResNet50, ResNet101, ResNet152 (He et al., CVPR 2016), as `keras.applications.resnet`.

Keras's current ResNet graph (`conv1_conv`, `conv2_block1_1_conv`, ...): a 7x7 stem, then
four stacks of bottleneck blocks (1x1, 3x3, 1x1 convolutions with BatchNormalization,
epsilon 1.001e-5) whose first block has a projection shortcut (`_0_conv`, `_0_bn`).
"""

from .. import config
from ..layers import Activation, Add, BatchNormalization, Conv2D, Dense, MaxPooling2D, \
    ZeroPadding2D
from . import application, imagenet_utils

BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
HASHES = {  # (with top, without top), md5 as Keras checks them
    "resnet50": ("2cb95161c43110f7111970584f804107", "4d473c1dd8becc155b73f8504c6f6626"),
    "resnet101": ("f1aeb4b969a6efcfb50fad2f0c20cfc5", "88cf7a10940856eca736dc7b7e228a21"),
    "resnet152": ("100835be76be38e30d865e96f2aaae62", "ee4c566cf9a93f14d82f913c2dc6dd0c"),
}
BLOCKS = {"resnet50": (3, 4, 6, 3), "resnet101": (3, 4, 23, 3), "resnet152": (3, 8, 36, 3)}
EPSILON = 1.001e-5


def _bn_axis():
    return 3 if config.image_data_format() == "channels_last" else 1


def residual_block(x, filters, stride=1, conv_shortcut=True, name=None):
    """One bottleneck block: `filters` 1x1 -> 3x3 -> `4 * filters` 1x1, plus the shortcut
    (a strided 1x1 projection when `conv_shortcut`, else the identity)."""
    axis = _bn_axis()
    if conv_shortcut:
        shortcut = Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = BatchNormalization(axis=axis, epsilon=EPSILON, name=f"{name}_0_bn")(shortcut)
    else:
        shortcut = x
    x = Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    x = BatchNormalization(axis=axis, epsilon=EPSILON, name=f"{name}_1_bn")(x)
    x = Activation("relu", name=f"{name}_1_relu")(x)
    x = Conv2D(filters, 3, padding="same", name=f"{name}_2_conv")(x)
    x = BatchNormalization(axis=axis, epsilon=EPSILON, name=f"{name}_2_bn")(x)
    x = Activation("relu", name=f"{name}_2_relu")(x)
    x = Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    x = BatchNormalization(axis=axis, epsilon=EPSILON, name=f"{name}_3_bn")(x)
    x = Add(name=f"{name}_add")([shortcut, x])
    return Activation("relu", name=f"{name}_out")(x)


def residual_stack(x, filters, blocks, stride=2, name=None):
    """`blocks` bottleneck blocks; the first projects (and strides by `stride`)."""
    x = residual_block(x, filters, stride=stride, name=f"{name}_block1")
    for i in range(2, blocks + 1):
        x = residual_block(x, filters, conv_shortcut=False, name=f"{name}_block{i}")
    return x


def build_resnet(variant, include_top, weights, input_tensor, input_shape, pooling, classes,
                 classifier_activation, name):
    """Keras's ResNet v1 graph for `variant` ('resnet50', 'resnet101', 'resnet152')."""
    owner = {"resnet50": "ResNet50", "resnet101": "ResNet101",
             "resnet152": "ResNet152"}[variant]
    application.check_arguments(owner, weights, include_top, classes, pooling)
    input_shape = application.input_shape_for(owner, input_shape, 224, 32, include_top,
                                              weights)
    with application.weights_unfilled(weights):
        img_input = application.image_input(owner, input_tensor, input_shape)
        x = ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(img_input)
        x = Conv2D(64, 7, strides=2, name="conv1_conv")(x)
        x = BatchNormalization(axis=_bn_axis(), epsilon=EPSILON, name="conv1_bn")(x)
        x = Activation("relu", name="conv1_relu")(x)
        x = ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
        x = MaxPooling2D(3, strides=2, name="pool1_pool")(x)
        for stack, (filters, blocks) in enumerate(zip((64, 128, 256, 512), BLOCKS[variant])):
            x = residual_stack(x, filters, blocks, stride=1 if stack == 0 else 2,
                               name=f"conv{stack + 2}")
        if include_top:
            x = application.pooled(x, "avg", names=("avg_pool", None))
            imagenet_utils.validate_activation(classifier_activation, weights, owner)
            x = Dense(classes, activation=classifier_activation, name="predictions")(x)
        else:
            x = application.pooled(x, pooling, names=("avg_pool", "max_pool"))
        model = application.functional(input_tensor, img_input, x, name)
    suffix = "" if include_top else "_notop"
    file_name = f"{variant}_weights_tf_dim_ordering_tf_kernels{suffix}.h5"
    pretrained = (file_name, BASE_URL + file_name, HASHES[variant][0 if include_top else 1])
    return application.load(model, owner, weights, pretrained)


_ARGS_DOC = """
    Args:
        include_top: include the classifier (`avg_pool`, `predictions`).
        weights: None (random), 'imagenet' (Keras's file, cached in `~/.keras/models`) or
            the path of a weights file.
        input_tensor: optional symbolic tensor (from `Input`) to build the model on.
        input_shape: (rows, cols, 3) without the top (sides >= 32); with the top and
            ImageNet weights it must be (224, 224, 3).
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


def ResNet50(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
             pooling=None, classes=1000, classifier_activation="softmax", name="resnet50"):
    return build_resnet("resnet50", include_top, weights, input_tensor, input_shape, pooling,
                        classes, classifier_activation, name)


def ResNet101(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
              pooling=None, classes=1000, classifier_activation="softmax", name="resnet101"):
    return build_resnet("resnet101", include_top, weights, input_tensor, input_shape,
                        pooling, classes, classifier_activation, name)


def ResNet152(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
              pooling=None, classes=1000, classifier_activation="softmax", name="resnet152"):
    return build_resnet("resnet152", include_top, weights, input_tensor, input_shape,
                        pooling, classes, classifier_activation, name)


ResNet50.__doc__ = f"The ResNet50 network (25,636,712 parameters with the top).\n{_ARGS_DOC}"
ResNet101.__doc__ = f"The ResNet101 network (44,707,176 parameters with the top).\n{_ARGS_DOC}"
ResNet152.__doc__ = f"The ResNet152 network (60,419,944 parameters with the top).\n{_ARGS_DOC}"


def preprocess_input(x, data_format=None):
    """ImageNet 'caffe' preprocessing (RGB -> BGR, minus the mean pixel); see
    `imagenet_utils.preprocess_input`."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


decode_predictions = imagenet_utils.decode_predictions
