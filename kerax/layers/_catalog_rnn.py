"""Recurrent and preprocessing layers, for `kerax.layers` to re-export."""

from kerax.layers.rnn.bidirectional import Bidirectional
from kerax.layers.rnn.gru import GRU, GRUCell
from kerax.layers.rnn.lstm import LSTM, LSTMCell
from kerax.layers.rnn.rnn import RNN
from kerax.layers.rnn.simple_rnn import SimpleRNN, SimpleRNNCell
from kerax.layers.rnn.stacked_rnn_cells import StackedRNNCells
from kerax.layers.rnn.time_distributed import TimeDistributed

__all__ = ["Bidirectional", "GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "SimpleRNN", "SimpleRNNCell",
           "StackedRNNCells", "TimeDistributed"]
