"""Keras 2's `keras.layers.recurrent` path (the layers live in `rnn/`)."""

from .rnn.gru import GRU as GRU
from .rnn.lstm import LSTM as LSTM
from .rnn.simple_rnn import SimpleRNN as SimpleRNN
