"""DenseNet121, DenseNet169, DenseNet201 (Huang et al., CVPR 2017), as
`keras.applications.densenet`.

Keras's graph: a 7x7 stem, then four dense blocks (`conv2_block1` ...: BN-relu-1x1-BN-relu-3x3
units whose 32 new channels are concatenated to their input) joined by transition blocks
(`pool2` ...: BN-relu-1x1 halving the channels, 2x2 average pooling). channels_last only,
as in Keras.
"""

from .. import config
from ..layers import Activation, AveragePooling2D, BatchNormalization, Concatenate, Conv2D, \
    MaxPooling2D, ZeroPadding2D
from . import application, imagenet_utils

BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/densenet/"
VARIANTS = {  # blocks per stage: (name, md5 with top, md5 without)
    (6, 12, 24, 16): ("densenet121", "9d60b8095a5708f2dcce2bca79d332c7",
                      "30ee3e1110167f948a6b9946edeeb738"),
    (6, 12, 32, 32): ("densenet169", "d699b8f76981ab1b30698df4c175e90b",
                      "b8c4d4c20dd625c148057b9ff1c1176b"),
    (6, 12, 48, 32): ("densenet201", "1ceb130c1ea1b78c3bf6114dbdfd8807",
                      "c13680b51ded0fb44dff2d8f86ac8bb1"),
}
EPSILON = 1.001e-5
AXIS = 3


def conv_block(x, growth_rate, name):
    """BN-relu-1x1 (4 * growth_rate) -> BN-relu-3x3 (growth_rate), concatenated to `x`."""
    x1 = BatchNormalization(axis=AXIS, epsilon=EPSILON, name=f"{name}_0_bn")(x)
    x1 = Activation("relu", name=f"{name}_0_relu")(x1)
    x1 = Conv2D(4 * growth_rate, 1, use_bias=False, name=f"{name}_1_conv")(x1)
    x1 = BatchNormalization(axis=AXIS, epsilon=EPSILON, name=f"{name}_1_bn")(x1)
    x1 = Activation("relu", name=f"{name}_1_relu")(x1)
    x1 = Conv2D(growth_rate, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(x1)
    return Concatenate(axis=AXIS, name=f"{name}_concat")([x, x1])


def transition_block(x, reduction, name):
    """BN-relu-1x1 keeping `reduction` of the channels, then 2x2 average pooling."""
    x = BatchNormalization(axis=AXIS, epsilon=EPSILON, name=f"{name}_bn")(x)
    x = Activation("relu", name=f"{name}_relu")(x)
    x = Conv2D(int(x.shape[AXIS] * reduction), 1, use_bias=False, name=f"{name}_conv")(x)
    return AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def network(blocks):
    """Keras's DenseNet features with `blocks` conv blocks per dense block."""

    def build(img_input):
        x = ZeroPadding2D(padding=((3, 3), (3, 3)))(img_input)
        x = Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
        x = BatchNormalization(axis=AXIS, epsilon=EPSILON, name="conv1_bn")(x)
        x = Activation("relu", name="conv1_relu")(x)
        x = ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
        x = MaxPooling2D(3, strides=2, name="pool1")(x)
        for stage, count in enumerate(blocks):
            for i in range(count):
                x = conv_block(x, 32, name=f"conv{stage + 2}_block{i + 1}")
            if stage < len(blocks) - 1:
                x = transition_block(x, 0.5, name=f"pool{stage + 2}")
        x = BatchNormalization(axis=AXIS, epsilon=EPSILON, name="bn")(x)
        return Activation("relu", name="relu")(x)

    return build


def _densenet(blocks, include_top, weights, input_tensor, input_shape, pooling, classes,
              classifier_activation, name):
    variant, top_hash, notop_hash = VARIANTS[blocks]
    owner = variant.replace("densenet", "DenseNet")
    if config.image_data_format() == "channels_first":
        raise ValueError(f"{owner} supports only the channels_last image data format (as "
                         "Keras); call layerkit.config.set_image_data_format('channels_last')")
    files = {}
    for top, file_hash in ((True, top_hash), (False, notop_hash)):
        file_name = f"{variant}_weights_tf_dim_ordering_tf_kernels{'' if top else '_notop'}.h5"
        files[top] = (file_name, BASE_URL + file_name, file_hash)
    return application.create(
        owner, network(blocks), include_top=include_top, weights=weights,
        input_tensor=input_tensor, input_shape=input_shape, pooling=pooling, classes=classes,
        classifier_activation=classifier_activation, name=name, default_size=224,
        min_size=32, files=files, pool_names=("avg_pool", "avg_pool", "max_pool"))


def DenseNet121(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name="densenet121"):
    return _densenet((6, 12, 24, 16), include_top, weights, input_tensor, input_shape,
                     pooling, classes, classifier_activation, name)


def DenseNet169(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name="densenet169"):
    return _densenet((6, 12, 32, 32), include_top, weights, input_tensor, input_shape,
                     pooling, classes, classifier_activation, name)


def DenseNet201(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name="densenet201"):
    return _densenet((6, 12, 48, 32), include_top, weights, input_tensor, input_shape,
                     pooling, classes, classifier_activation, name)


_TOP = "`avg_pool`, `predictions`; channels_last only"
DenseNet121.__doc__ = application.docstring(
    "The DenseNet121 network (8,062,504 parameters with the top).", 224, 32, _TOP)
DenseNet169.__doc__ = application.docstring(
    "The DenseNet169 network (14,307,880 parameters with the top).", 224, 32, _TOP)
DenseNet201.__doc__ = application.docstring(
    "The DenseNet201 network (20,242,984 parameters with the top).", 224, 32, _TOP)


def preprocess_input(x, data_format=None):
    """ImageNet 'torch' preprocessing (scaled to [0, 1], normalised per channel); see
    `imagenet_utils`."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="torch")


decode_predictions = imagenet_utils.decode_predictions
