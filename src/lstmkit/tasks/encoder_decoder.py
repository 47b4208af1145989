"""The encoder-decoder for translation: a bidirectional recurrent encoder, a recurrent decoder, global attention.

Shapes: N batch, S source steps, T target steps, E embedding size, H hidden size (the decoder's; each encoder
direction has H / 2, so the encoder's outputs h̄_s have H features, as OpenNMT's "brnn"), V target vocabulary.

Encoder: h̄_1..h̄_S = BiRNN(embed(x)); the decoder starts from h_0 = tanh(W_h f), c_0 = W_c f where f is the
encoder's final forward state concatenated with its final backward state (LSTM kinds; GRU and RNN have no c).

Decoder step t (Luong, Pham & Manning 2015, global attention with input feeding):
    h_t = RNN([embed(y_{t-1}); h̃_{t-1}], h_{t-1})              (h̃_0 = 0; without input feeding: embed(y_{t-1}) only)
    a_t(s) = softmax_s score(h_t, h̄_s) over the valid source steps (padding gets -inf)
        dot:      h_t · h̄_s
        general:  h_t · W_a h̄_s
        additive: v · tanh(W_1 h̄_s + W_2 h_t)       (Bahdanau, Cho & Bengio 2015's score; Luong's "concat")
    c_t = Σ_s a_t(s) h̄_s
    h̃_t = tanh(W_c [c_t; h_t])
    p(y_t | y_<t, x) = softmax(W_s h̃_t)
With ``attention="none"`` (the encoder-decoder of Sutskever et al. 2014, as the guides draw it), h̃_t = h_t: the
decoder sees the source only through its initial state.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from lstmkit import nn as lnn
from lstmkit.data.vocab import Vocabulary
from lstmkit.tasks.modules import LSTM_CELLS, SequenceEncoder

ATTENTIONS = ("none", "dot", "general", "additive")


def recurrent_cell(cell: str, input_size: int, hidden_size: int) -> nn.Module:
    """One step of ``cell`` (an LSTM kind, "gru" or the vanilla tanh "rnn") as an lstmkit cell module."""
    if cell in LSTM_CELLS:
        return lnn.LSTMCell(input_size, hidden_size, cell=cell)
    if cell == "gru":
        return lnn.GRUCell(input_size, hidden_size)
    return lnn.RNNCell(input_size, hidden_size)


class Attention(nn.Module):
    """Global attention of a query h_t (N, H) over memory h̄ (N, S, H) with a validity mask (N, S); see the module
    docstring for the three scores. ``keys(memory)`` precomputes the part that depends on the source alone."""

    def __init__(self, kind: str, hidden_size: int):
        super().__init__()
        self.kind = kind
        if kind == "general":
            self.weight = nn.Linear(hidden_size, hidden_size, bias=False)  # W_a
        elif kind == "additive":
            self.memory_weight = nn.Linear(hidden_size, hidden_size, bias=False)  # W_1
            self.query_weight = nn.Linear(hidden_size, hidden_size)  # W_2 (its bias is the one of the sum)
            self.v = nn.Linear(hidden_size, 1, bias=False)

    def keys(self, memory: torch.Tensor) -> torch.Tensor:
        """(N, S, H): h̄_s for dot, W_a h̄_s for general, W_1 h̄_s for additive."""
        if self.kind == "general":
            return self.weight(memory)
        if self.kind == "additive":
            return self.memory_weight(memory)
        return memory

    def forward(self, query, memory, keys, mask) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (context c_t (N, H), weights a_t (N, S))."""
        if self.kind == "additive":
            scores = self.v(torch.tanh(keys + self.query_weight(query)[:, None, :])).squeeze(-1)  # (N, S)
        else:
            scores = torch.bmm(keys, query[:, :, None]).squeeze(-1)  # (N, S)
        weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
        return torch.bmm(weights[:, None, :], memory).squeeze(1), weights


class Memory(NamedTuple):
    """What the decoder reads of one batch of sources: h̄ (N, S, H), the attention keys (N, S, H), the mask (N, S)."""

    outputs: torch.Tensor
    keys: torch.Tensor | None
    mask: torch.Tensor

    def repeat(self, k: int) -> Memory:
        """Each row repeated k times in place (row n -> rows n*k .. n*k+k-1): the layout of beam search."""
        return Memory(*(None if t is None else t.repeat_interleave(k, dim=0) for t in self))


class TranslationNet(nn.Module):
    """Teacher-forced forward for training: ``inputs`` (N, L, 2) ids, channel 0 the source (PAD-padded), channel 1
    the decoder's input BOS y_1 .. y_{T-1} (PAD-padded), ``lengths`` (N,) the longer of the two -> logits (N, L, V)
    (zero beyond the batch's longest target: the loss ignores those steps). ``encode`` and ``step`` are what
    greedy and beam search call."""

    def __init__(
        self,
        *,
        source_vocab: int,
        target_vocab: int,
        embedding_dim: int,
        hidden_size: int,
        num_layers: int,
        cell: str,
        attention: str,
        input_feeding: bool,
        dropout: float,
    ):
        super().__init__()
        self.cell, self.hidden_size, self.num_layers = cell, hidden_size, num_layers
        self.has_cell_state = cell in LSTM_CELLS
        self.encoder = SequenceEncoder(
            vocab_size=source_vocab,
            embedding_dim=embedding_dim,
            hidden_size=hidden_size // 2,
            num_layers=num_layers,
            cell=cell,
            bidirectional=True,
            dropout=dropout,
        )
        self.bridge_h = nn.Linear(hidden_size, hidden_size)  # W_h
        self.bridge_c = nn.Linear(hidden_size, hidden_size) if self.has_cell_state else None  # W_c
        self.embedding = nn.Embedding(target_vocab, embedding_dim, padding_idx=Vocabulary.pad_id)
        self.attention = None if attention == "none" else Attention(attention, hidden_size)
        self.feed_size = hidden_size if self.attention is not None and input_feeding else 0
        self.cells = nn.ModuleList(
            recurrent_cell(cell, (embedding_dim + self.feed_size) if k == 0 else hidden_size, hidden_size)
            for k in range(num_layers)
        )
        self.combine = nn.Linear(2 * hidden_size, hidden_size, bias=False) if self.attention else None  # W_c
        self.output = nn.Linear(hidden_size, target_vocab)  # W_s
        self.dropout = nn.Dropout(dropout)

    def encode(self, source: torch.Tensor, lengths: torch.Tensor) -> tuple[Memory, tuple]:
        """Source ids (N, S) and lengths (N,) -> (memory, the decoder's first carry (states, h̃_0))."""
        outputs, final = self.encoder(source, lengths)  # (N, S, H), (N, H)
        mask = torch.arange(source.shape[1])[None, :] < lengths[:, None]  # (N, S)
        keys = self.attention.keys(outputs) if self.attention is not None else None
        h0 = torch.tanh(self.bridge_h(final))  # (N, H)
        state = (h0, self.bridge_c(final)) if self.has_cell_state else h0
        feed = final.new_zeros(len(final), self.feed_size)
        return Memory(outputs, keys, mask), (tuple(state for _ in range(self.num_layers)), feed)

    def attend(self, previous: torch.Tensor, carry: tuple, memory: Memory):
        """One decoder step up to the attentional state: previous tokens (N,), carry (states, h̃_{t-1}) ->
        (h̃_t (N, H), carry, a_t (N, S) or None)."""
        states, feed = carry
        x = torch.cat([self.dropout(self.embedding(previous)), feed], dim=-1)  # (N, E + feed)
        new_states = []
        for k, cell in enumerate(self.cells):
            state = cell(x if k == 0 else self.dropout(x), states[k])
            new_states.append(state)
            x = state[0] if self.has_cell_state else state  # (N, H)
        weights = None
        if self.attention is not None:
            context, weights = self.attention(x, memory.outputs, memory.keys, memory.mask)
            x = torch.tanh(self.combine(torch.cat([context, x], dim=-1)))  # h̃_t (N, H)
        feed = x if self.feed_size else feed
        return x, (tuple(new_states), feed), weights

    def step(self, previous: torch.Tensor, carry: tuple, memory: Memory):
        """One decoder step: previous tokens (N,), carry -> (logits (N, V), carry, a_t (N, S) or None)."""
        attended, carry, weights = self.attend(previous, carry, memory)
        return self.output(self.dropout(attended)), carry, weights

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        N, L, _ = inputs.shape
        source, previous = inputs[..., 0], inputs[..., 1]
        source_lengths = (source != Vocabulary.pad_id).sum(dim=1).clamp(min=1)
        memory, carry = self.encode(source[:, : int(source_lengths.max())], source_lengths)
        valid = previous != Vocabulary.pad_id  # (N, L): the steps with a target
        T = int(valid.sum(dim=1).max())
        attended = []
        for t in range(T):
            state, carry, _ = self.attend(previous[:, t], carry, memory)
            attended.append(state)
        attended = torch.stack(attended, dim=1)  # (N, T, H)
        # the output layer (most of the work: V is large) only where there is a target; zeros elsewhere
        logits = attended.new_zeros(N, L, self.output.out_features)  # (N, L, V)
        logits[valid] = self.output(self.dropout(attended[valid[:, :T]]))
        return logits
