"""VGG19 (Simonyan & Zisserman, ICLR 2015), as `keras.applications.vgg19`."""

from . import application, vgg
from .vgg import decode_predictions as decode_predictions
from .vgg import preprocess_input as preprocess_input

FILES = vgg.files("vgg19", "cbe5617147190e668d6c5d5026f83318",
                  "253f8cb515780f3b799900260a226db6")


def VGG19(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
          pooling=None, classes=1000, classifier_activation="softmax", name="vgg19"):
    return application.create(
        "VGG19", vgg.network((2, 2, 4, 4, 4)), include_top=include_top, weights=weights,
        input_tensor=input_tensor, input_shape=input_shape, pooling=pooling, classes=classes,
        classifier_activation=classifier_activation, name=name, default_size=224,
        min_size=32, files=FILES, top=vgg.classifier(classes, classifier_activation))


VGG19.__doc__ = application.docstring(
    "The VGG19 network (143,667,240 parameters with the top, 20,024,384 without).", 224, 32,
    vgg.TOP)
