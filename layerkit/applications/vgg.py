"""The VGG family's builder (VGG16 and VGG19 differ only in convolutions per block)."""

from ..layers import Conv2D, Dense, Flatten, MaxPooling2D
from . import application, imagenet_utils

BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"


def build_vgg(owner, convs_per_block, include_top, weights, input_tensor, input_shape,
              pooling, classes, classifier_activation, name, pretrained):
    """Keras's VGG: five blocks of 3x3 'same' convolutions (64, 128, 256, 512, 512
    filters, `convs_per_block[i]` of them) each followed by 2x2 max pooling, then the
    classifier `flatten`, `fc1`, `fc2` (4096 units, relu) and `predictions`.

    Args:
        owner: 'VGG16' or 'VGG19', for messages.
        convs_per_block: five ints.
        pretrained: `{include_top: (file name, URL, md5)}` of Keras's ImageNet files.
        The rest: as `VGG16`.

    Returns:
        A Functional model.
    """
    application.check_arguments(owner, weights, include_top, classes, pooling)
    input_shape = application.input_shape_for(owner, input_shape, 224, 32, include_top,
                                              weights)
    with application.weights_unfilled(weights):
        img_input = application.image_input(owner, input_tensor, input_shape)
        x = img_input
        for block, (filters, convs) in enumerate(zip((64, 128, 256, 512, 512),
                                                     convs_per_block), start=1):
            for conv in range(1, convs + 1):
                x = Conv2D(filters, (3, 3), activation="relu", padding="same",
                           name=f"block{block}_conv{conv}")(x)
            x = MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
        if include_top:
            x = Flatten(name="flatten")(x)
            x = Dense(4096, activation="relu", name="fc1")(x)
            x = Dense(4096, activation="relu", name="fc2")(x)
            imagenet_utils.validate_activation(classifier_activation, weights, owner)
            x = Dense(classes, activation=classifier_activation, name="predictions")(x)
        else:
            x = application.pooled(x, pooling)
        model = application.functional(input_tensor, img_input, x, name)
    return application.load(model, owner, weights, pretrained[bool(include_top)])
