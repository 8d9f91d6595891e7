"""Recurrent and preprocessing layers, for `kerax.layers` to re-export."""

from kerax.layers.preprocessing.category_encoding import CategoryEncoding
from kerax.layers.preprocessing.discretization import Discretization
from kerax.layers.preprocessing.hashing import Hashing
from kerax.layers.preprocessing.normalization import Normalization
from kerax.layers.preprocessing.random_image import (
    RandomBrightness, RandomContrast, RandomFlip, RandomRotation, RandomTranslation, RandomZoom)
from kerax.layers.preprocessing.rescaling import Rescaling
from kerax.layers.preprocessing.resizing import CenterCrop, Resizing

from kerax.layers.rnn.bidirectional import Bidirectional
from kerax.layers.rnn.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from kerax.layers.rnn.gru import GRU, GRUCell
from kerax.layers.rnn.lstm import LSTM, LSTMCell
from kerax.layers.rnn.rnn import RNN
from kerax.layers.rnn.simple_rnn import SimpleRNN, SimpleRNNCell
from kerax.layers.rnn.stacked_rnn_cells import StackedRNNCells
from kerax.layers.rnn.time_distributed import TimeDistributed

__all__ = [
    "CategoryEncoding", "CenterCrop", "Discretization", "Hashing", "Normalization", "RandomBrightness",
    "RandomContrast", "RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom",
    "Rescaling", "Resizing",
    "Bidirectional", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "SimpleRNN", "SimpleRNNCell",
           "StackedRNNCells", "TimeDistributed"]
