"""Recurrent layers and their wrappers."""

from .bidirectional import Bidirectional as Bidirectional
from .gru import GRU as GRU
from .lstm import LSTM as LSTM
from .simple_rnn import SimpleRNN as SimpleRNN
from .time_distributed import TimeDistributed as TimeDistributed
