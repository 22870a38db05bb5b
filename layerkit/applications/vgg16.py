"""VGG16 (Simonyan & Zisserman, ICLR 2015), as `keras.applications.vgg16`."""

from . import application, vgg
from .vgg import decode_predictions as decode_predictions
from .vgg import preprocess_input as preprocess_input

FILES = vgg.files("vgg16", "64373286793e3c8b2b4e3219cbf3544b",
                  "6d6bbae143d832006294945121d1f1fc")


def VGG16(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
          pooling=None, classes=1000, classifier_activation="softmax", name="vgg16"):
    return application.create(
        "VGG16", vgg.network((2, 2, 3, 3, 3)), include_top=include_top, weights=weights,
        input_tensor=input_tensor, input_shape=input_shape, pooling=pooling, classes=classes,
        classifier_activation=classifier_activation, name=name, default_size=224,
        min_size=32, files=FILES, top=vgg.classifier(classes, classifier_activation))


VGG16.__doc__ = application.docstring(
    "The VGG16 network (138,357,544 parameters with the top, 14,714,688 without).\n\n"
    "    Example: `conv_base = VGG16(weights='imagenet', include_top=False, "
    "input_shape=(150, 150, 3))`", 224, 32, vgg.TOP)

