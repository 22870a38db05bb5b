"""Pooling layers: windowed max / average (TF 'same' semantics) and global pooling."""

from .average_pooling1d import AveragePooling1D as AveragePooling1D
from .average_pooling2d import AveragePooling2D as AveragePooling2D
from .global_average_pooling1d import GlobalAveragePooling1D as GlobalAveragePooling1D
from .global_average_pooling2d import GlobalAveragePooling2D as GlobalAveragePooling2D
from .global_max_pooling1d import GlobalMaxPooling1D as GlobalMaxPooling1D
from .global_max_pooling2d import GlobalMaxPooling2D as GlobalMaxPooling2D
from .max_pooling1d import MaxPooling1D as MaxPooling1D
from .max_pooling2d import MaxPooling2D as MaxPooling2D

# Keras 2 / tf.keras aliases (keras/layers/pooling.py)
MaxPool1D, MaxPool2D, AvgPool1D, AvgPool2D = MaxPooling1D, MaxPooling2D, AveragePooling1D, \
    AveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
