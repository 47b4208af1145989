"""TextGenerator: a character-level (or word-level) recurrent language model, judged by its held-out loss.

Training (Karpathy's char-rnn, Zaremba et al. 2014): the text is split in order, the first ``1 - val_fraction``
for training and the rest for validation (nanoGPT's 90/10 split of Tiny Shakespeare). The training part is cut
into ``batch_size`` parallel streams (``data.text.parallel_streams``) read ``sequence_length`` tokens at a time:
truncated backprop through time with each stream's state carried from one chunk to the next (the Trainer's
``SequenceChunks``), so the model learns from contexts far longer than a chunk. Loss: cross-entropy of the
next token; early stopping and the kept weights follow the validation loss, read the same way with
``VALIDATION_STREAMS`` streams.

``score(text)`` reads the text as one stream from a zero state and returns the mean negative log-likelihood of
each token given every token before it: nats (and bits = nats / ln 2) per token, and per character.
``generate`` samples one token at a time with the state carried (the prime is read once, never re-read), with
temperature, top-k and top-p (``tasks.decoding.sample``), seeded and reproducible.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from lstmkit.checks import check_choice, check_integer, check_number
from lstmkit.data.text import parallel_streams, read_text, split_text, text_features
from lstmkit.data.tokenize import char_tokens, word_tokens
from lstmkit.data.translation import detokenize
from lstmkit.data.vocab import SPECIALS, Vocabulary
from lstmkit.errors import DataError, ParameterError
from lstmkit.nn.losses import TokenCrossEntropy
from lstmkit.tasks.base import SequenceEstimator
from lstmkit.tasks.decoding import sample
from lstmkit.tasks.interpret import CellMatch, find_cells
from lstmkit.tasks.language_models import TokenLanguageModel
from lstmkit.tasks.modules import CELLS
from lstmkit.training.data import SequenceChunks

LEVELS = ("char", "word")
VALIDATION_STREAMS = 4  # few streams: only their first steps are read without context
SCORE_CHUNK = 1024  # tokens read per forward call when scoring one stream
START = "\n"  # what an empty prime reads first: the line break that starts every speech of a play


@dataclass(frozen=True)
class TextScore:
    """Mean negative log-likelihood of a text's tokens, each given all the tokens before it (the first token is
    context only): per token, and spread over the characters it covers (equal for character level)."""

    nats_per_token: float
    bits_per_token: float
    nats_per_char: float
    bits_per_char: float
    tokens: int  # the tokens predicted: all but the first


def _text(text, name: str) -> str:
    """``text`` as a string: a str is the text itself, a Path (os.PathLike) names a UTF-8 file to read."""
    if isinstance(text, os.PathLike):
        return read_text(Path(text))
    if not isinstance(text, str):
        raise DataError(f"expected {name} as a string or a path to a text file, got {type(text).__name__}")
    if not text.strip():
        raise DataError(f"{name} is empty; expected text")
    return text


class TextGenerator(SequenceEstimator):
    """A recurrent language model over characters (``level="char"``) or lower-cased words and punctuation
    (``level="word"``, tokens seen fewer than ``min_freq`` times become UNK); see the module docstring.

    ``batch_size`` is the number of parallel streams and ``sequence_length`` the truncation length of backprop
    through time. The network is ``tasks.language_models.TokenLanguageModel``: an embedding, ``num_layers``
    recurrent layers of ``cell`` and a linear output, with ``dropout`` on the embedding, between the layers and
    before the output.
    """

    kind = "TextGenerator"

    def __init__(
        self,
        level: str = "char",
        cell: str = "lstm",
        hidden_size: int = 512,
        num_layers: int = 2,
        embedding_dim: int = 64,
        dropout: float = 0.25,
        recurrent_dropout: float = 0.0,
        sequence_length: int = 128,
        batch_size: int = 32,
        epochs: int = 8,
        lr: float = 3e-3,
        lr_schedule: str | None = "cosine",
        clip_grad_norm: float | None = 1.0,
        weight_decay: float = 0.0,
        patience: int | None = 2,
        val_fraction: float = 0.1,
        min_freq: int = 1,
        seed: int = 0,
        progress: bool | None = False,
    ):
        self.level = level
        self.cell = cell
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.embedding_dim = embedding_dim
        self.dropout = dropout
        self.recurrent_dropout = recurrent_dropout
        self.sequence_length = sequence_length
        self.batch_size = batch_size
        self.epochs = epochs
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.clip_grad_norm = clip_grad_norm
        self.weight_decay = weight_decay
        self.patience = patience
        self.val_fraction = val_fraction
        self.min_freq = min_freq
        self.seed = seed
        self.progress = progress

    def check_params(self) -> None:
        check_choice("level", self.level, LEVELS)
        check_choice("cell", self.cell, CELLS)
        for name in ("hidden_size", "num_layers", "embedding_dim", "sequence_length", "min_freq"):
            check_integer(name, getattr(self, name), 1)
        check_number("dropout", self.dropout, 0.0, 1.0, high_open=True)
        check_number("recurrent_dropout", self.recurrent_dropout, 0.0, 1.0, high_open=True)
        check_number("val_fraction", self.val_fraction, 0.0, 1.0, low_open=True, high_open=True)
        self._check_training_params()

    # ---- tokens --------------------------------------------------------------------------------

    def _tokens(self, text: str) -> list[str]:
        return char_tokens(text) if self.level == "char" else word_tokens(text)

    def _ids(self, text: str, name: str) -> np.ndarray:
        tokens = self._tokens(text)
        if len(tokens) < 2:
            raise DataError(f"{name} has {len(tokens)} token(s); expected at least 2 to predict one from another")
        return np.asarray(self.vocabulary_.encode(tokens), dtype=np.int64)

    def _detokenize(self, tokens: list[str]) -> str:
        return "".join(tokens) if self.level == "char" else detokenize(tokens)

    # ---- fitting -------------------------------------------------------------------------------

    def fit(self, text, validation=None, checkpoint_dir=None) -> TextGenerator:
        """Train on ``text`` (a string, or a Path to a UTF-8 file); the validation text is ``validation`` or,
        without one, the last ``val_fraction`` of ``text``."""
        self.check_params()
        text = _text(text, "text")
        train_text, val_text = split_text(text, self.val_fraction) if validation is None else (text, validation)
        val_text = _text(val_text, "validation")
        self.vocabulary_ = Vocabulary.build([self._tokens(train_text)], min_freq=self.min_freq)
        train_ids, val_ids = self._ids(train_text, "the training text"), self._ids(val_text, "the validation text")
        if len(train_ids) < 2 * self.batch_size:
            raise DataError(
                f"the training text has {len(train_ids)} tokens: too few for {self.batch_size} parallel streams "
                "(batch_size) of at least 2 tokens; lower batch_size or give more text"
            )
        streams = parallel_streams(train_ids, self.batch_size)  # (L, N)
        val_streams = parallel_streams(val_ids, min(VALIDATION_STREAMS, len(val_ids) // 2))
        torch.manual_seed(self.seed)
        self.model_ = self._build_model()
        train = SequenceChunks(streams[:-1], streams[1:], self.sequence_length)
        val = SequenceChunks(val_streams[:-1], val_streams[1:], SCORE_CHUNK)
        trainer = self.train(self.model_, TokenCrossEntropy(ignore_id=Vocabulary.pad_id), train, val, checkpoint_dir)
        self.history_ = trainer.history_
        return self

    def _build_model(self) -> TokenLanguageModel:
        return TokenLanguageModel(
            vocab_size=len(self.vocabulary_),
            embedding_dim=self.embedding_dim,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            cell=self.cell,
            dropout=self.dropout,
            recurrent_dropout=self.recurrent_dropout,
        )

    def _fitted_state(self) -> dict:
        return {"tokens": self.vocabulary_.tokens, "history": self.history_}

    def _restore_fitted(self, state: dict) -> None:
        self.vocabulary_ = Vocabulary(state["tokens"])
        self.history_ = state["history"]

    # ---- judging -------------------------------------------------------------------------------

    @torch.no_grad()
    def score(self, text) -> TextScore:
        """The mean negative log-likelihood of ``text`` read as one stream (see ``TextScore``)."""
        self._check_fitted()
        text = _text(text, "text")
        ids = torch.as_tensor(self._ids(text, "the text"))[None, :]  # (1, T)
        self.model_.eval()
        total, state = 0.0, None
        for start in range(0, ids.shape[1] - 1, SCORE_CHUNK):
            inputs, targets = ids[:, start : start + SCORE_CHUNK], ids[:, start + 1 : start + SCORE_CHUNK + 1]
            logits, state = self.model_.step(inputs[:, : targets.shape[1]], state)  # (1, T_chunk, V)
            total += torch.nn.functional.cross_entropy(logits[0], targets[0], reduction="sum").item()
        tokens = ids.shape[1] - 1
        per_token = total / tokens
        per_char = per_token if self.level == "char" else total / len(text)  # words: over the text's characters
        return TextScore(per_token, per_token / math.log(2), per_char, per_char / math.log(2), tokens)

    # ---- sampling ------------------------------------------------------------------------------

    def _prime_ids(self, prime: str) -> list[int]:
        if not isinstance(prime, str):
            raise DataError(f"expected prime as a string, got {type(prime).__name__}")
        if self.level == "char":
            unseen = sorted({c for c in prime if c not in self.vocabulary_ or c in SPECIALS})
            if unseen:
                raise DataError(
                    f"the prime holds characters the model never saw in training: {''.join(unseen)!r}; it knows "
                    f"{''.join(sorted(self.vocabulary_.tokens))!r}"
                )
        tokens = self._tokens(prime) or ([START] if START in self.vocabulary_ else self.vocabulary_.tokens[:1])
        return self.vocabulary_.encode(tokens)

    @torch.no_grad()
    def generate(
        self,
        prime: str = "",
        length: int = 500,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        seed: int | None = None,
        stop: str | None = None,
    ) -> str:
        """``length`` tokens sampled after ``prime`` (returned without the prime), one at a time with the state
        carried. An empty prime starts after a line break (or the most frequent token where the text has none).
        With ``stop``, generation ends as soon as the text ends with it (the stop string is not returned).
        ``seed`` makes the sample reproducible (None: a fresh draw)."""
        self._check_fitted()
        check_integer("length", length, 1)
        check_number("temperature", temperature, 0.0, math.inf, low_open=True, high_open=True)
        check_integer("top_k", top_k, 1, optional=True)
        if top_p is not None:
            check_number("top_p", top_p, 0.0, 1.0, low_open=True)
        if stop is not None and (not isinstance(stop, str) or not stop):
            raise ParameterError(f"expected stop as a non-empty string, got {stop!r}")
        generator = torch.Generator()
        if seed is None:
            generator.seed()  # a fresh draw
        else:
            generator.manual_seed(seed)
        self.model_.eval()
        logits, state = self.model_.step(torch.tensor([self._prime_ids(prime)]))  # the prime in one call
        logits = logits[:, -1]  # (1, V): the next token's
        next_logits = self.model_.stream(state)  # then one token per call, the state held
        never = torch.zeros(len(self.vocabulary_), dtype=torch.bool)
        never[: len(SPECIALS)] = True  # padding, unknown, start and end are never sampled
        tokens: list[str] = []
        for _ in range(length):
            token = sample(logits.masked_fill(never, -torch.inf), temperature, top_k, top_p, generator)  # (1,)
            tokens.append(self.vocabulary_.itos[int(token)])
            if stop is not None and self._detokenize(tokens[-len(stop) - 1 :]).endswith(stop):
                text = self._detokenize(tokens)
                return text[: text.rfind(stop)]
            logits = next_logits(token)
        return self._detokenize(tokens)

    # ---- inside --------------------------------------------------------------------------------

    @torch.no_grad()
    def cell_states(self, text: str) -> np.ndarray:
        """(T, L, H): what every unit of every layer holds after reading each token of ``text`` from a zero state
        (the cell state c for the LSTM kinds, the hidden state h for GRU and the vanilla RNN)."""
        self._check_fitted()
        text = _text(text, "text")
        ids = torch.as_tensor(self._ids(text, "the text"))[None, :]
        self.model_.eval()
        *_, trace = self.model_.step(ids, return_gates=True)
        name = "c" if "c" in trace.layer(0) else "h"
        return np.stack([trace.layer(k)[name][:, 0] for k in range(trace.num_layers)], axis=1)

    def interpretable_cells(self, text: str, top: int = 3) -> list[CellMatch]:
        """The ``top`` units that track each property of ``text``'s characters best (quotes, parentheses,
        words, position in the line: ``data.text.text_features``; see ``tasks.interpret``). Character level
        only."""
        if self.level != "char":
            raise ParameterError("interpretable_cells reads one state per character: it needs level='char'")
        check_integer("top", top, 1)
        text = _text(text, "text")
        return find_cells(self.cell_states(text), text_features(text), top)
