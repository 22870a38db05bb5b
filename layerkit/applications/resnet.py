"""ResNet50, ResNet101, ResNet152 (He et al., CVPR 2016), as `keras.applications.resnet`.

Keras's current ResNet graph (`conv1_conv`, `conv2_block1_1_conv`, ...): a 7x7 stem, then
four stacks of bottleneck blocks (1x1, 3x3, 1x1 convolutions with BatchNormalization,
epsilon 1.001e-5) whose first block has a projection shortcut (`_0_conv`, `_0_bn`).
"""

from .. import config
from ..layers import Activation, Add, BatchNormalization, Conv2D, MaxPooling2D, ZeroPadding2D
from . import application, imagenet_utils

BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
HASHES = {  # (with top, without top), md5 as Keras checks them
    "resnet50": ("2cb95161c43110f7111970584f804107", "4d473c1dd8becc155b73f8504c6f6626"),
    "resnet101": ("f1aeb4b969a6efcfb50fad2f0c20cfc5", "88cf7a10940856eca736dc7b7e228a21"),
    "resnet152": ("100835be76be38e30d865e96f2aaae62", "ee4c566cf9a93f14d82f913c2dc6dd0c"),
}
BLOCKS = {"resnet50": (3, 4, 6, 3), "resnet101": (3, 4, 23, 3), "resnet152": (3, 8, 36, 3)}
EPSILON = 1.001e-5


def _bn(x, name):
    axis = 3 if config.image_data_format() == "channels_last" else 1
    return BatchNormalization(axis=axis, epsilon=EPSILON, name=name)(x)


def residual_block(x, filters, stride=1, conv_shortcut=True, name=None):
    """One bottleneck block: `filters` 1x1 -> 3x3 -> `4 * filters` 1x1, plus the shortcut
    (a strided 1x1 projection when `conv_shortcut`, else the identity)."""
    if conv_shortcut:
        shortcut = Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = _bn(shortcut, f"{name}_0_bn")
    else:
        shortcut = x
    x = Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    x = Activation("relu", name=f"{name}_1_relu")(_bn(x, f"{name}_1_bn"))
    x = Conv2D(filters, 3, padding="same", name=f"{name}_2_conv")(x)
    x = Activation("relu", name=f"{name}_2_relu")(_bn(x, f"{name}_2_bn"))
    x = _bn(Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x), f"{name}_3_bn")
    x = Add(name=f"{name}_add")([shortcut, x])
    return Activation("relu", name=f"{name}_out")(x)


def residual_stack(x, filters, blocks, stride=2, name=None):
    """`blocks` bottleneck blocks; the first projects (and strides by `stride`)."""
    x = residual_block(x, filters, stride=stride, name=f"{name}_block1")
    for i in range(2, blocks + 1):
        x = residual_block(x, filters, conv_shortcut=False, name=f"{name}_block{i}")
    return x


def network(blocks):
    """Keras's ResNet v1 features with `blocks` bottleneck blocks per stack."""

    def build(img_input):
        x = ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(img_input)
        x = Conv2D(64, 7, strides=2, name="conv1_conv")(x)
        x = Activation("relu", name="conv1_relu")(_bn(x, "conv1_bn"))
        x = ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
        x = MaxPooling2D(3, strides=2, name="pool1_pool")(x)
        for stack, (filters, count) in enumerate(zip((64, 128, 256, 512), blocks)):
            x = residual_stack(x, filters, count, stride=1 if stack == 0 else 2,
                               name=f"conv{stack + 2}")
        return x

    return build


def _resnet(variant, owner, include_top, weights, input_tensor, input_shape, pooling,
            classes, classifier_activation, name):
    files = {}
    for top, file_hash in zip((True, False), HASHES[variant]):
        file_name = f"{variant}_weights_tf_dim_ordering_tf_kernels{'' if top else '_notop'}.h5"
        files[top] = (file_name, BASE_URL + file_name, file_hash)
    return application.create(
        owner, network(BLOCKS[variant]), include_top=include_top, weights=weights,
        input_tensor=input_tensor, input_shape=input_shape, pooling=pooling, classes=classes,
        classifier_activation=classifier_activation, name=name, default_size=224,
        min_size=32, files=files, pool_names=("avg_pool", "avg_pool", "max_pool"))


def ResNet50(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
             pooling=None, classes=1000, classifier_activation="softmax", name="resnet50"):
    return _resnet("resnet50", "ResNet50", include_top, weights, input_tensor, input_shape,
                   pooling, classes, classifier_activation, name)


def ResNet101(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
              pooling=None, classes=1000, classifier_activation="softmax", name="resnet101"):
    return _resnet("resnet101", "ResNet101", include_top, weights, input_tensor, input_shape,
                   pooling, classes, classifier_activation, name)


def ResNet152(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
              pooling=None, classes=1000, classifier_activation="softmax", name="resnet152"):
    return _resnet("resnet152", "ResNet152", include_top, weights, input_tensor, input_shape,
                   pooling, classes, classifier_activation, name)


_TOP = "`avg_pool`, `predictions`"
ResNet50.__doc__ = application.docstring(
    "The ResNet50 network (25,636,712 parameters with the top).", 224, 32, _TOP)
ResNet101.__doc__ = application.docstring(
    "The ResNet101 network (44,707,176 parameters with the top).", 224, 32, _TOP)
ResNet152.__doc__ = application.docstring(
    "The ResNet152 network (60,419,944 parameters with the top).", 224, 32, _TOP)


def preprocess_input(x, data_format=None):
    """ImageNet 'caffe' preprocessing (RGB -> BGR, minus the mean pixel); see
    `imagenet_utils.preprocess_input`."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


decode_predictions = imagenet_utils.decode_predictions
