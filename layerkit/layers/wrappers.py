"""Keras 2's `keras.layers.wrappers` path."""

from .rnn.bidirectional import Bidirectional as Bidirectional
from .rnn.time_distributed import TimeDistributed as TimeDistributed
