"""The nets the experiments train: any lstmkit cell over one-hot or real inputs (N, T, C) with lengths, and a
linear head on each sequence's last valid output (class logits, or a regression)."""

from __future__ import annotations

import torch
from torch import nn

from lstmkit import nn as lnn
from lstmkit.errors import ParameterError
from lstmkit.specs import get_spec

CELLS = ("lstm", "peephole", "coupled", "layernorm", "gru", "rnn")


def recurrent_layer(
    cell: str, input_size: int, hidden_size: int, recurrent_dropout: float = 0.0, batch_first: bool = True
) -> nn.Module:
    """An lstmkit layer of ``cell`` (one of ``CELLS``), torch's initialization."""
    if cell not in CELLS:
        raise ParameterError(f"unknown cell {cell!r}; expected one of {', '.join(CELLS)}")
    options = {"batch_first": batch_first, "recurrent_dropout": recurrent_dropout}
    if cell == "gru":
        return lnn.GRU(input_size, hidden_size, **options)
    if cell == "rnn":
        return lnn.RNN(input_size, hidden_size, **options)
    return lnn.LSTM(input_size, hidden_size, cell=cell, **options)


def shift_gate_bias(layer: nn.Module, gate: str, value: float) -> None:
    """Add ``value`` to the initial bias of ``gate`` (e.g. "f", "i") in every layer, where the cell has that gate."""
    spec = get_spec(layer.cell)
    if not value or gate not in spec.gates:
        return
    rows = spec.gate_slice(gate, layer.hidden_size)
    with torch.no_grad():
        for k in range(layer.num_layers):
            getattr(layer, f"bias_ih_l{k}")[rows] += value


class LastStepNet(nn.Module):
    """(N, T, C) inputs and lengths (N,) (None: all T) -> (N, outputs) from the recurrent layer's last valid output.

    ``forget_bias`` and ``input_bias`` are added to the initial biases of those gates where the cell has them
    (Gers et al. 2000 start the forget gate open; Hochreiter & Schmidhuber 1997 start input gates negative).
    """

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        outputs: int,
        *,
        forget_bias: float = 0.0,
        input_bias: float = 0.0,
        recurrent_dropout: float = 0.0,
    ):
        super().__init__()
        self.rnn = recurrent_layer(cell, input_size, hidden_size, recurrent_dropout)
        shift_gate_bias(self.rnn, "f", forget_bias)
        shift_gate_bias(self.rnn, "i", input_bias)
        self.output = nn.Linear(hidden_size, outputs)

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        outputs, _ = self.rnn(inputs, lengths=lengths)  # (N, T, H)
        if lengths is None:  # every sequence fills all T steps
            return self.output(outputs[:, -1])
        return self.output(outputs[torch.arange(len(inputs)), lengths - 1])
