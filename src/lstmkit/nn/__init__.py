"""PyTorch layers of lstmkit: drop-in for torch.nn's recurrent layers, with the variants torch lacks."""

from lstmkit.masks import DropoutMasks
from lstmkit.nn.cells import GRUCell, LSTMCell, RNNCell
from lstmkit.nn.layers import GRU, LSTM, RNN
from lstmkit.trace import GateTrace

__all__ = ["GRU", "LSTM", "RNN", "DropoutMasks", "GRUCell", "GateTrace", "LSTMCell", "RNNCell"]
