"""`keras.applications.resnet50`: ResNet50 and its preprocessing (defined in `resnet`)."""

from .resnet import ResNet50 as ResNet50
from .resnet import decode_predictions as decode_predictions
from .resnet import preprocess_input as preprocess_input
