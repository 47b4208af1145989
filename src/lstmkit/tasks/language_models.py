"""Recurrent models of the next step: a token language model (text) and a piano-roll model (polyphonic music).

Both read a sequence and, at every step t, give the distribution of step t + 1: logits over V tokens
(softmax), or 88 logits, one per piano key (independent sigmoids, as in Boulanger-Lewandowski et al. 2012's
RNN baseline). Dropout sits on the non-recurrent connections only (input, between layers, output: Zaremba et
al. 2014); ``recurrent_dropout`` adds lstmkit's per-sequence masks on the recurrent ones.
Shapes: N batch (parallel streams), T steps, E embedding size, H hidden size, V vocabulary, K = 88 keys.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from lstmkit.tasks.modules import recurrent_layer


class TokenLanguageModel(nn.Module):
    """ids (T, N) time-first and the state -> (logits (T, N, V) of the next token, the state after step T).

    ``step`` runs the same computation on batch-first ids (N, T) for sampling; ``trace`` returns the layer's
    GateTrace as well (what the cells hold, for interpretation).
    """

    def __init__(
        self,
        *,
        vocab_size: int,
        embedding_dim: int,
        hidden_size: int,
        num_layers: int,
        cell: str,
        dropout: float,
        recurrent_dropout: float,
    ):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.dropout = nn.Dropout(dropout)
        self.rnn = recurrent_layer(
            cell,
            embedding_dim,
            hidden_size,
            num_layers=num_layers,
            bidirectional=False,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
        )
        self.output = nn.Linear(hidden_size, vocab_size)

    def step(self, ids: torch.Tensor, state=None, return_gates: bool = False):
        """ids (N, T) -> (logits (N, T, V), state) (and the GateTrace with ``return_gates``)."""
        result = self.rnn(self.dropout(self.embedding(ids)), state, return_gates=return_gates)
        logits = self.output(self.dropout(result[0]))  # (N, T, V)
        return (logits, *result[1:])

    def stream(self, state=None, batch_size: int = 1) -> Callable[[torch.Tensor], torch.Tensor]:
        """From ``state`` on, one token per call: ids (N,) -> logits (N, V) of the next token, the recurrent state
        held in the layer's ``Stream`` (eval mode, no autograd: for sampling; the weights are copied now)."""
        stream = self.rnn.stream(batch_size, state)
        embedding, weight, bias = (
            t.detach().clone() for t in (self.embedding.weight, self.output.weight, self.output.bias)
        )

        def next_logits(ids: torch.Tensor) -> torch.Tensor:
            return F.linear(stream(embedding.index_select(0, ids)), weight, bias)

        return next_logits

    def forward(self, ids: torch.Tensor, state=None):
        logits, state = self.step(ids.t(), state)  # (T, N) -> (N, T) and back
        return logits.transpose(0, 1), state  # (T, N, V)


class PianoRollModel(nn.Module):
    """Frames (N, T, K) in {0, 1} and lengths -> logits (N, T, K) of each key sounding at the next step.

    ``step`` takes and returns the recurrent state, for sampling one frame at a time.
    """

    def __init__(
        self, *, keys: int, hidden_size: int, num_layers: int, cell: str, dropout: float, recurrent_dropout: float
    ):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.rnn = recurrent_layer(
            cell,
            keys,
            hidden_size,
            num_layers=num_layers,
            bidirectional=False,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
        )
        self.output = nn.Linear(hidden_size, keys)

    def step(self, frames: torch.Tensor, state=None):
        """frames (N, T, K) -> (logits (N, T, K), state)."""
        outputs, state = self.rnn(frames, state)
        return self.output(self.dropout(outputs)), state

    def stream(self, state=None, batch_size: int = 1) -> Callable[[torch.Tensor], torch.Tensor]:
        """From ``state`` on, one frame per call: frames (N, K) -> logits (N, K) of the next frame, the recurrent
        state held in the layer's ``Stream`` (eval mode, no autograd: for sampling; the weights are copied now)."""
        stream = self.rnn.stream(batch_size, state)
        weight, bias = (t.detach().clone() for t in (self.output.weight, self.output.bias))

        def next_logits(frames: torch.Tensor) -> torch.Tensor:
            return F.linear(stream(frames), weight, bias)

        return next_logits

    def forward(self, frames: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        outputs, _ = self.rnn(frames, lengths=lengths)  # (N, T, H); steps past a sequence's end are padding
        return self.output(self.dropout(outputs))
