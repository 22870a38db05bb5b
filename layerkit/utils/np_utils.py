"""Keras 2's `keras.utils.np_utils` path."""

from .numerical import normalize as normalize
from .numerical import to_categorical as to_categorical
