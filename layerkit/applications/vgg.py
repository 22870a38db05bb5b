"""The VGG family's network (VGG16 and VGG19 differ only in convolutions per block)."""

from ..layers import Conv2D, Dense, Flatten, MaxPooling2D
from . import imagenet_utils

BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"
TOP = "`flatten`, `fc1`, `fc2`, `predictions`"


def network(convs_per_block):
    """Keras's VGG features: five blocks of 3x3 'same' relu convolutions (64, 128, 256,
    512, 512 filters, `convs_per_block[i]` of them), each followed by 2x2 max pooling."""

    def build(x):
        for block, (filters, convs) in enumerate(zip((64, 128, 256, 512, 512),
                                                     convs_per_block), start=1):
            for conv in range(1, convs + 1):
                x = Conv2D(filters, (3, 3), activation="relu", padding="same",
                           name=f"block{block}_conv{conv}")(x)
            x = MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
        return x

    return build


def classifier(classes, classifier_activation):
    """Keras's VGG top: flatten, two 4096-unit relu layers, `predictions`."""

    def build(x):
        x = Flatten(name="flatten")(x)
        x = Dense(4096, activation="relu", name="fc1")(x)
        x = Dense(4096, activation="relu", name="fc2")(x)
        return Dense(classes, activation=classifier_activation, name="predictions")(x)

    return build


def files(variant, top_hash, notop_hash):
    """Keras's ImageNet files for 'vgg16' / 'vgg19': `{include_top: (name, URL, md5)}`."""
    top = f"{variant}_weights_tf_dim_ordering_tf_kernels.h5"
    notop = f"{variant}_weights_tf_dim_ordering_tf_kernels_notop.h5"
    return {True: (top, f"{BASE_URL}{variant}/{top}", top_hash),
            False: (notop, f"{BASE_URL}{variant}/{notop}", notop_hash)}


def preprocess_input(x, data_format=None):
    """ImageNet 'caffe' preprocessing (RGB -> BGR, minus the mean pixel); see
    `imagenet_utils.preprocess_input`."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


decode_predictions = imagenet_utils.decode_predictions
