"""Keras's applications: ImageNet convnets with Keras's architecture, names and weights.

    from layerkit.applications import VGG16
    conv_base = VGG16(weights="imagenet", include_top=False, input_shape=(150, 150, 3))

Each network lives under Keras's module path (`applications.vgg16`, `applications.resnet50`,
...) with its `preprocess_input` and `decode_predictions`; `weights='imagenet'` reads
Keras's own files from Keras's cache (`~/.keras/models`, `$KERAS_HOME/models`).
"""

from . import densenet as densenet
from . import imagenet_utils as imagenet_utils
from . import inception_v3 as inception_v3
from . import mobilenet as mobilenet
from . import mobilenet_v2 as mobilenet_v2
from . import resnet as resnet
from . import resnet50 as resnet50
from . import vgg16 as vgg16
from . import vgg19 as vgg19
from . import xception as xception
from .densenet import DenseNet121 as DenseNet121
from .densenet import DenseNet169 as DenseNet169
from .densenet import DenseNet201 as DenseNet201
from .inception_v3 import InceptionV3 as InceptionV3
from .mobilenet import MobileNet as MobileNet
from .mobilenet_v2 import MobileNetV2 as MobileNetV2
from .resnet import ResNet50 as ResNet50
from .resnet import ResNet101 as ResNet101
from .resnet import ResNet152 as ResNet152
from .vgg16 import VGG16 as VGG16
from .vgg19 import VGG19 as VGG19
from .xception import Xception as Xception
