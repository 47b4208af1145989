"""PyTorch layers of lstmkit: drop-in for torch.nn's recurrent layers, with the variants torch lacks."""

try:
    import torch  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised only where torch is absent
    raise ImportError(
        "lstmkit.nn needs PyTorch: install the build for your machine first (CPU: pip install torch==2.13.0), "
        "see the README"
    ) from error

from lstmkit.masks import DropoutMasks
from lstmkit.nn.cells import GRUCell, LSTMCell, RNNCell
from lstmkit.nn.layers import GRU, LSTM, RNN
from lstmkit.nn.streaming import Stream
from lstmkit.trace import GateTrace

__all__ = ["GRU", "LSTM", "RNN", "DropoutMasks", "GRUCell", "GateTrace", "LSTMCell", "RNNCell", "Stream"]
