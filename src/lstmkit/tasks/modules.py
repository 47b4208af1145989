"""Torch modules the task estimators share: a sequence encoder, poolings over time, and the task networks.

Shapes: N batch, T steps, C input channels, E embedding size, H hidden size, D directions, K classes.
Padded sequences always come with ``lengths`` (N,); steps at t >= lengths[n] are padding and never
reach a pooled summary or a loss.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from lstmkit import nn as lnn
from lstmkit.data.vocab import Vocabulary

LSTM_CELLS = ("lstm", "peephole", "coupled", "layernorm")
CELLS = (*LSTM_CELLS, "gru", "rnn")
POOLINGS = ("last", "mean", "max", "attention")


def recurrent_layer(
    cell: str,
    input_size: int,
    hidden_size: int,
    *,
    num_layers: int,
    bidirectional: bool,
    dropout: float,
    recurrent_dropout: float,
) -> nn.Module:
    """A batch-first lstmkit layer of ``cell`` (an LSTM kind, "gru" or the vanilla tanh "rnn")."""
    options = dict(
        num_layers=num_layers,
        batch_first=True,
        dropout=dropout if num_layers > 1 else 0.0,
        bidirectional=bidirectional,
        recurrent_dropout=recurrent_dropout,
    )
    if cell in LSTM_CELLS:
        return lnn.LSTM(input_size, hidden_size, cell=cell, **options)
    if cell == "gru":
        return lnn.GRU(input_size, hidden_size, **options)
    return lnn.RNN(input_size, hidden_size, **options)


def step_mask(lengths: torch.Tensor, T: int, device) -> torch.Tensor:
    """(N, T) bool, True at the valid steps t < lengths[n]."""
    return torch.arange(T, device=device)[None, :] < lengths.to(device)[:, None]


def word_dropout(ids: torch.Tensor, rate: float, training: bool) -> torch.Tensor:
    """In training, each token id becomes UNK with probability ``rate`` (padding excepted); unchanged otherwise."""
    if not training or rate == 0:
        return ids
    drawn = torch.rand(ids.shape, device=ids.device) < rate
    return ids.masked_fill(drawn & (ids != Vocabulary.pad_id), Vocabulary.unk_id)


class SequenceEncoder(nn.Module):
    """Inputs (N, T, C) floats, or (N, T) token ids with an embedding, and lengths -> (outputs, final).

    outputs (N, T, D*H): the top layer at every step; final (N, D*H): the top layer's last valid step in the
    forward direction, concatenated with its state after reading back to t = 0 in the reverse direction.
    """

    def __init__(
        self,
        *,
        input_size: int | None = None,
        vocab_size: int | None = None,
        embedding_dim: int = 64,
        hidden_size: int,
        num_layers: int = 1,
        cell: str = "lstm",
        bidirectional: bool = False,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        token_dropout: float = 0.0,
    ):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0) if vocab_size else None
        self.token_dropout = token_dropout
        self.input_dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.rnn = recurrent_layer(
            cell,
            embedding_dim if vocab_size else input_size,
            hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
        )
        self.directions = 2 if bidirectional else 1
        self.output_size = self.directions * hidden_size

    def embed(self, inputs: torch.Tensor) -> torch.Tensor:
        """(N, T) ids -> (N, T, E), or (N, T, C) floats unchanged; then input dropout. In training, each token
        becomes UNK with probability ``token_dropout`` (word dropout), padding excepted."""
        if self.embedding is None:
            return self.input_dropout(inputs)
        return self.input_dropout(self.embedding(word_dropout(inputs, self.token_dropout, self.training)))

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor, return_gates: bool = False, outputs: bool = True):
        """``outputs=False`` skips the per-step outputs (None is returned for them): the sequences then go through
        the layer packed, as torch.nn runs them, never padded."""
        N = len(inputs)
        x = self.embed(inputs)
        if outputs or return_gates:
            result = self.rnn(x, lengths=lengths, return_gates=return_gates)
        else:
            result = (None, self.rnn(pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False))[1])
        state = result[1]
        h_n = state[0] if isinstance(state, tuple) else state  # (L*D, N, H)
        final = h_n[-self.directions :].transpose(0, 1).reshape(N, self.output_size)  # (N, D*H)
        return (result[0], final, result[2]) if return_gates else (result[0], final)


class AdditivePooling(nn.Module):
    """Attention over time (Bahdanau-style scores): a_t = softmax_t(v^T tanh(W h_t)) over the valid steps,
    summary = sum_t a_t h_t."""

    def __init__(self, size: int):
        super().__init__()
        self.project = nn.Linear(size, size)
        self.score = nn.Linear(size, 1, bias=False)

    def forward(self, outputs: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scores = self.score(torch.tanh(self.project(outputs))).squeeze(-1)  # (N, T)
        weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=1)  # (N, T)
        return torch.bmm(weights[:, None, :], outputs).squeeze(1), weights  # (N, D*H), (N, T)


def pool(pooling: str, outputs: torch.Tensor, final: torch.Tensor, mask: torch.Tensor, attention=None):
    """Summaries (N, D*H) of ``outputs`` (N, T, D*H) over the valid steps, and the attention weights (N, T)
    (None unless ``pooling`` is "attention")."""
    if pooling == "last":
        return final, None
    if pooling == "mean":
        valid = mask[..., None].to(outputs.dtype)
        return (outputs * valid).sum(1) / valid.sum(1), None
    if pooling == "max":
        return outputs.masked_fill(~mask[..., None], float("-inf")).max(1).values, None
    return attention(outputs, mask)


class ClassifierNet(nn.Module):
    """Many-to-one: encoder -> pooling over time -> dropout -> linear, giving logits (N, K)."""

    def __init__(self, *, encoder: SequenceEncoder, pooling: str, num_classes: int, dropout: float):
        super().__init__()
        self.encoder, self.pooling = encoder, pooling
        self.attention = AdditivePooling(encoder.output_size) if pooling == "attention" else None
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.head = nn.Linear(encoder.output_size, num_classes)

    def summarize(self, inputs: torch.Tensor, lengths: torch.Tensor):
        """(summary (N, D*H), attention weights (N, T) or None)."""
        if self.pooling == "last":
            return self.encoder(inputs, lengths, outputs=False)[1], None
        outputs, final = self.encoder(inputs, lengths)
        return pool(self.pooling, outputs, final, step_mask(lengths, outputs.shape[1], outputs.device), self.attention)

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        summary, _ = self.summarize(inputs, lengths)
        return self.head(self.dropout(summary))  # (N, K)


class QuantileNet(nn.Module):
    """Forecasting: x (N, lookback + future_steps, C) -> quantiles of the next ``horizon`` scaled changes,
    (N, horizon, Q).

    The recurrence reads the whole input; a head on its output at the last observed step (lookback - 1)
    gives every step's quantiles at once. With ``future_steps`` (= horizon, when there are known-future
    covariates), a second head adds to step k what the recurrence read up to future row k.
    """

    def __init__(
        self,
        *,
        input_size: int,
        hidden_size: int,
        num_layers: int,
        dropout: float,
        horizon: int,
        num_quantiles: int,
        cell: str,
        future_steps: int = 0,
    ):
        super().__init__()
        self.horizon, self.num_quantiles, self.future_steps = horizon, num_quantiles, future_steps
        self.lstm = recurrent_layer(
            cell,
            input_size,
            hidden_size,
            num_layers=num_layers,
            bidirectional=False,
            dropout=dropout,
            recurrent_dropout=0.0,
        )
        self.head = nn.Linear(hidden_size, horizon * num_quantiles)
        self.future_head = nn.Linear(hidden_size, num_quantiles) if future_steps else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        N, T, _ = x.shape
        out, _ = self.lstm(x)  # (N, T, H)
        observed = T - self.future_steps  # the lookback
        quantiles = self.head(out[:, observed - 1]).view(N, self.horizon, self.num_quantiles)
        if self.future_head is not None:
            quantiles = quantiles + self.future_head(out[:, observed:])  # (N, horizon, Q)
        return quantiles


class ForecastEnsemble(nn.Module):
    """Members trained apart, run together: x -> every member's output stacked, (E, N, horizon, Q)."""

    def __init__(self, members: list[QuantileNet]):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([member(x) for member in self.members])


class CharacterCNN(nn.Module):
    """Character features of each word (Ma & Hovy 2016): chars (N, T, W) ids -> (N, T, F), a convolution of width 3
    over the character embeddings, ReLU, and the maximum over the word's characters."""

    def __init__(self, *, num_chars: int, char_dim: int, filters: int):
        super().__init__()
        self.embedding = nn.Embedding(num_chars, char_dim, padding_idx=0)
        self.conv = nn.Conv1d(char_dim, filters, kernel_size=3, padding=1)
        self.output_size = filters

    def forward(self, chars: torch.Tensor) -> torch.Tensor:
        N, T, W = chars.shape
        x = self.embedding(chars.reshape(N * T, W)).transpose(1, 2)  # (N*T, char_dim, W)
        features = torch.relu(self.conv(x)).masked_fill((chars.reshape(N * T, 1, W) == 0), 0.0)
        return features.max(dim=2).values.view(N, T, self.output_size)


class TaggerNet(nn.Module):
    """Tagging: per-step scores (N, T, K) of every tag.

    Text: x (N, T, 3 + W) int64 holds, for each token, its word id, its casing class, its word-frequency class
    and its W character ids; the word embedding (with word dropout), one-hots of the casing and (with
    ``num_frequencies``) of the frequency class, and the character CNN's features are concatenated.
    Numbers: x (N, T, C) floats. Then a (bi)directional recurrent layer of any lstmkit cell, dropout, and a
    linear layer to the K tag scores (emissions for the CRF, or logits).
    """

    def __init__(
        self,
        *,
        vocab_size: int | None,
        num_chars: int | None,
        num_cases: int,
        lexicon_classes: Sequence[int],
        input_size: int | None,
        embedding_dim: int,
        char_dim: int,
        char_filters: int,
        hidden_size: int,
        num_layers: int,
        cell: str,
        bidirectional: bool,
        dropout: float,
        recurrent_dropout: float,
        token_dropout: float,
        num_tags: int,
        crf: bool,
    ):
        super().__init__()
        from lstmkit.tasks.crf import CRF

        self.text = vocab_size is not None
        if self.text:
            self.words = nn.Embedding(vocab_size, embedding_dim, padding_idx=Vocabulary.pad_id)
            self.token_dropout, self.num_cases, self.lexicon_classes = token_dropout, num_cases, list(lexicon_classes)
            self.chars = CharacterCNN(num_chars=num_chars, char_dim=char_dim, filters=char_filters)
            input_size = embedding_dim + num_cases + sum(lexicon_classes) + char_filters
        self.dropout = nn.Dropout(dropout)
        self.rnn = recurrent_layer(
            cell,
            input_size,
            hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
        )
        self.scores = nn.Linear(hidden_size * (2 if bidirectional else 1), num_tags)
        self.crf = CRF(num_tags) if crf else None

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, T, F) step features from the input (see the class docstring)."""
        if not self.text:
            return x
        words, cases = word_dropout(x[..., 0], self.token_dropout, self.training), x[..., 1]
        parts = [self.words(words), nn.functional.one_hot(cases, self.num_cases).float()]
        for k, classes in enumerate(self.lexicon_classes):
            parts.append(nn.functional.one_hot(x[..., 2 + k], classes).float())
        return torch.cat([*parts, self.chars(x[..., 2 + len(self.lexicon_classes) :])], dim=-1)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(self.dropout(self.features(x)), lengths=lengths)  # (N, T, D*H)
        return self.scores(self.dropout(out))  # (N, T, K)


class TaggerEnsemble(nn.Module):
    """Taggers trained apart, scored together: per-step scores (N, T, K) are the members' mean, and ``crf`` (when
    the members have CRFs) holds the mean of their transition, start and end scores, so the score of every tag
    path, s(y) = start[y_0] + sum_t e[t, y_t] + sum_t trans[y_{t-1}, y_t] + end[y_{L-1}], is the mean of the
    members' scores of it: Viterbi and the marginals then work on the ensemble as on one tagger."""

    def __init__(self, members: list[TaggerNet]):
        super().__init__()
        from lstmkit.tasks.crf import CRF

        self.members = nn.ModuleList(members)
        self.crf = None if members[0].crf is None else CRF(members[0].crf.transitions.shape[0])
        if self.crf is not None:
            with torch.no_grad():
                for name in ("transitions", "start", "end"):
                    getattr(self.crf, name).copy_(torch.stack([getattr(m.crf, name) for m in members]).mean(0))

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return torch.stack([member(x, lengths) for member in self.members]).mean(0)
