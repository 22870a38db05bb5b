"""Keras 2's `keras.utils.data_utils` path."""

from .file_utils import get_file as get_file
from .sequence import Sequence as Sequence
