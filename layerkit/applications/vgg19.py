"""VGG19 (Simonyan & Zisserman, ICLR 2015), as `keras.applications.vgg19`."""

from . import imagenet_utils
from .vgg import BASE_URL, build_vgg

PRETRAINED = {
    True: ("vgg19_weights_tf_dim_ordering_tf_kernels.h5",
           f"{BASE_URL}vgg19/vgg19_weights_tf_dim_ordering_tf_kernels.h5",
           "cbe5617147190e668d6c5d5026f83318"),
    False: ("vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
            f"{BASE_URL}vgg19/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
            "253f8cb515780f3b799900260a226db6"),
}


def VGG19(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
          pooling=None, classes=1000, classifier_activation="softmax", name="vgg19"):
    """The VGG19 network, optionally with Keras's ImageNet weights.

    Args:
        include_top: include the classifier (`flatten`, `fc1`, `fc2`, `predictions`).
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
        A Functional model (143,667,240 parameters with the top, 20,024,384 without).

    Raises:
        ValueError: for invalid arguments or a weights file that does not fit.
        layerkit.utils.file_utils.DownloadError: ImageNet weights not cached and offline.

    Example:
        >>> conv_base = VGG19(weights="imagenet", include_top=False,  # doctest: +SKIP
        ...                   input_shape=(150, 150, 3))
    """
    return build_vgg("VGG19", (2, 2, 4, 4, 4), include_top, weights, input_tensor,
                     input_shape, pooling, classes, classifier_activation, name, PRETRAINED)


def preprocess_input(x, data_format=None):
    """ImageNet 'caffe' preprocessing (RGB -> BGR, minus the mean pixel); see
    `imagenet_utils.preprocess_input`."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


decode_predictions = imagenet_utils.decode_predictions
