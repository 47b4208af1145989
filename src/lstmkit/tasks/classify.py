"""SequenceClassifier: many-to-one classification of texts or numeric sequences with any lstmkit cell.

Inputs ``X`` are one of
- a list of strings: tokenized (words or characters), mapped through a ``Vocabulary`` built on the
  training part, and embedded by a trainable embedding;
- a list of (T_i, C) float arrays of different lengths, or one (N, T, C) array: standardized per channel
  with statistics of the training part (``standardize=True``), and optionally stacked into frames of
  ``frame_size`` consecutive steps (``data.sequences.stack_frames``) for long, finely sampled series.
Sequences are padded and carried with their lengths, so padding never reaches the summary: the encoder's
outputs are pooled over the valid steps (``last``, ``mean``, ``max`` or ``attention``) and a linear head
gives the logits of the ``classes_``. Training uses cross-entropy (optionally class-weighted) with a
stratified validation part for early stopping, restoring the best weights.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from sklearn.utils.class_weight import compute_class_weight

from lstmkit.checks import check_choice, check_integer, check_number
from lstmkit.data.scaling import ChannelStandardizer
from lstmkit.data.sequences import as_sequences, pad_sequences, stack_frames
from lstmkit.data.splits import stratified_split
from lstmkit.data.tokenize import TOKENIZERS, tokenizer
from lstmkit.data.vocab import Vocabulary
from lstmkit.errors import DataError, ParameterError, TrainingError
from lstmkit.tasks.base import SequenceEstimator
from lstmkit.tasks.modules import CELLS, POOLINGS, ClassifierNet, SequenceEncoder
from lstmkit.trace import GateTrace

INFERENCE_BATCH = 256


def is_text(X) -> bool:
    """Whether ``X`` is a non-empty collection of strings (else it must be numeric sequences)."""
    return not isinstance(X, str) and len(X) > 0 and all(isinstance(x, str) for x in X)


class SequenceClassifier(ClassifierMixin, SequenceEstimator):
    """Classify whole sequences; see the module docstring.

    Fitted attributes: ``classes_`` (labels, sorted), ``input_kind_`` ("text" or "numeric"),
    ``vocabulary_`` (text) or ``standardizer_`` and ``n_channels_`` (numeric), ``model_`` (a
    ``ClassifierNet``), ``history_`` (one dict per epoch, with ``val_accuracy``), ``class_weight_`` (the
    cross-entropy weight of each class, or None).
    """

    kind = "SequenceClassifier"
    # Tuning minimizes the validation cross-entropy (the base's val_loss), not accuracy: on small validation parts
    # (27 utterances for JapaneseVowels) accuracy saturates at 1.0 and cannot rank settings (docs/tuning.md).

    def __init__(
        self,
        cell: str = "lstm",
        hidden_size: int = 64,
        num_layers: int = 1,
        bidirectional: bool = False,
        pooling: str = "last",
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        token_dropout: float = 0.0,
        embedding_dim: int = 64,
        tokenizer: str = "word",
        min_freq: int = 1,
        max_vocab: int | None = 20000,
        standardize: bool = True,
        frame_size: int = 1,
        class_weight: str | dict | None = None,
        val_fraction: float = 0.1,
        epochs: int = 30,
        batch_size: int = 32,
        lr: float = 3e-3,
        weight_decay: float = 0.0,
        patience: int | None = 10,
        seed: int = 0,
        progress: bool | None = False,
    ):
        self.cell = cell
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.pooling = pooling
        self.dropout = dropout
        self.recurrent_dropout = recurrent_dropout
        self.token_dropout = token_dropout
        self.embedding_dim = embedding_dim
        self.tokenizer = tokenizer
        self.min_freq = min_freq
        self.max_vocab = max_vocab
        self.standardize = standardize
        self.frame_size = frame_size
        self.class_weight = class_weight
        self.val_fraction = val_fraction
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.patience = patience
        self.seed = seed
        self.progress = progress

    # ---- checks ----------------------------------------------------------------------------------

    def check_params(self) -> None:
        check_choice("cell", self.cell, CELLS)
        check_choice("pooling", self.pooling, POOLINGS)
        check_choice("tokenizer", self.tokenizer, TOKENIZERS)
        check_integer("hidden_size", self.hidden_size, 1)
        check_integer("num_layers", self.num_layers, 1)
        check_integer("embedding_dim", self.embedding_dim, 1)
        check_integer("min_freq", self.min_freq, 1)
        check_integer("frame_size", self.frame_size, 1)
        check_integer("max_vocab", self.max_vocab, 5, optional=True)
        check_number("dropout", self.dropout, 0.0, 1.0, high_open=True)
        check_number("recurrent_dropout", self.recurrent_dropout, 0.0, 1.0, high_open=True)
        check_number("token_dropout", self.token_dropout, 0.0, 1.0, high_open=True)
        check_number("val_fraction", self.val_fraction, 0.0, 1.0, high_open=True)
        for name in ("bidirectional", "standardize"):
            if not isinstance(getattr(self, name), bool | np.bool_):
                raise ParameterError(f"expected {name} to be True or False, got {getattr(self, name)!r}")
        if not (self.class_weight in (None, "balanced") or isinstance(self.class_weight, dict)):
            raise ParameterError(f"expected class_weight None, 'balanced' or a dict, got {self.class_weight!r}")
        self._check_training_params()

    def _labels(self, y, n: int) -> np.ndarray:
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != n:
            raise DataError(f"expected y as {n} labels (one per case), got shape {y.shape}")
        try:
            self.classes_, encoded = np.unique(y, return_inverse=True)
        except TypeError as error:
            raise DataError(f"expected labels of one type (all strings or all numbers), got {error}") from None
        if y.dtype.kind == "f" and not np.isfinite(y).all():
            raise DataError("y holds NaN or infinite labels; expected a class for every case")
        if len(self.classes_) < 2:
            raise DataError(f"y has only one class ({self.classes_[0]!r}); expected at least two")
        return encoded.astype(np.int64)

    # ---- inputs --------------------------------------------------------------------------------

    def _tokens(self, X) -> list[list[str]]:
        tokenize = tokenizer(self.tokenizer)
        tokens = []
        for k, text in enumerate(X):
            if not isinstance(text, str):
                raise DataError(
                    f"X[{k}] is {type(text).__name__} but other cases are strings: expected one kind of input"
                )
            tokens.append(tokenize(text))
            if not tokens[-1]:
                raise DataError(f"X[{k}] is an empty text ({text!r}): expected at least one token per case")
        return tokens

    def _cases(self, X) -> list:
        """``X`` read and checked for this classifier: token lists for texts, (T_i, C) arrays for series."""
        if self.input_kind_ == "text":
            if not is_text(X):
                raise DataError("this classifier was fitted on texts: expected X as a list of strings")
            return self._tokens(X)
        if is_text(X):
            raise DataError("this classifier was fitted on numeric sequences: expected arrays, got strings")
        return as_sequences(X)

    def _tensors(self, cases: list) -> tuple[torch.Tensor, torch.Tensor]:
        """Checked cases as (padded tensor, lengths): (N, T) token ids or (N, T, C) standardized floats."""
        if self.input_kind_ == "text":
            padded, lengths = pad_sequences([np.array(self.vocabulary_.encode(t)) for t in cases], dtype=np.int64)
        else:
            if self.standardizer_ is not None:
                cases = self.standardizer_.transform(cases)
            padded, lengths = pad_sequences([stack_frames(s, self.frame_size) for s in cases])
        return torch.from_numpy(padded), torch.from_numpy(lengths)

    def _encode(self, X) -> tuple[torch.Tensor, torch.Tensor]:
        """New cases for the fitted classifier, checked (channels too) and as tensors."""
        cases = self._cases(X)
        if self.input_kind_ == "numeric" and cases[0].shape[1] != self.n_channels_:
            raise DataError(f"expected {self.n_channels_} channels per step, got {cases[0].shape[1]}")
        return self._tensors(cases)

    # ---- fitting -------------------------------------------------------------------------------

    def _build_model(self) -> ClassifierNet:
        text = self.input_kind_ == "text"
        encoder = SequenceEncoder(
            input_size=None if text else self.n_channels_ * self.frame_size,
            vocab_size=len(self.vocabulary_) if text else None,
            embedding_dim=self.embedding_dim,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            cell=self.cell,
            bidirectional=self.bidirectional,
            dropout=self.dropout,
            recurrent_dropout=self.recurrent_dropout,
            token_dropout=self.token_dropout,
        )
        return ClassifierNet(
            encoder=encoder, pooling=self.pooling, num_classes=len(self.classes_), dropout=self.dropout
        )

    def _loss_weights(self, encoded: np.ndarray) -> np.ndarray | None:
        """The cross-entropy weight of each class (order of ``classes_``): n / (K * n_k) for "balanced"."""
        if self.class_weight is None:
            return None
        if self.class_weight == "balanced":
            weights = compute_class_weight("balanced", classes=np.arange(len(self.classes_)), y=encoded)
        else:
            unknown = set(self.class_weight) - set(self.classes_.tolist())
            if unknown:
                raise ParameterError(
                    f"class_weight names {sorted(map(str, unknown))}, not among {self.classes_.tolist()}"
                )
            weights = np.array([float(self.class_weight.get(c, 1.0)) for c in self.classes_.tolist()])
        return np.asarray(weights, dtype=np.float32)

    def fit(self, X, y, checkpoint_dir=None, callbacks=()) -> SequenceClassifier:
        """Fit on cases ``X`` (texts or numeric sequences) and labels ``y``; with ``checkpoint_dir``, training
        checkpoints go there and a run interrupted earlier resumes from them; ``callbacks`` go to the Trainer."""
        self.check_params()
        if not isinstance(X, list | tuple | np.ndarray) or len(X) == 0:
            raise DataError(f"expected X as a non-empty list of texts or sequences, got {type(X).__name__}")
        encoded = self._labels(y, len(X))
        self.input_kind_ = "text" if is_text(X) else "numeric"
        if self.val_fraction > 0:
            train, val = stratified_split(encoded, self.val_fraction, self.seed)
        else:
            train, val = np.arange(len(encoded)), None
        cases = self._cases(X)
        if self.input_kind_ == "text":
            self.vocabulary_ = Vocabulary.build([cases[i] for i in train], self.min_freq, self.max_vocab)
        else:
            self.n_channels_ = cases[0].shape[1]
            fit_part = [cases[i] for i in train]
            self.standardizer_ = ChannelStandardizer.fit(fit_part) if self.standardize else None
        inputs, lengths = self._tensors(cases)
        targets = torch.from_numpy(encoded)
        torch.manual_seed(self.seed)
        model = self._build_model()
        self.class_weight_ = self._loss_weights(encoded[train])
        loss = torch.nn.CrossEntropyLoss(
            weight=None if self.class_weight_ is None else torch.tensor(self.class_weight_)
        )

        def part(index):
            return None if index is None else (inputs[index], targets[index], lengths[index])

        accuracy = {"accuracy": lambda logits, labels: (logits.argmax(-1) == labels).float().mean()}
        trainer = self.train(model, loss, part(train), part(val), checkpoint_dir, metrics=accuracy, callbacks=callbacks)
        self.model_, self.history_ = model, trainer.history_
        return self

    # ---- predicting ----------------------------------------------------------------------------

    @torch.no_grad()
    def decision_function(self, X) -> np.ndarray:
        """Logits (N, K), columns in the order of ``classes_``."""
        self._check_fitted()
        inputs, lengths = self._encode(X)
        self.model_.eval()
        chunks = [
            self.model_(
                inputs[s : s + INFERENCE_BATCH, : int(lengths[s : s + INFERENCE_BATCH].max())],
                lengths[s : s + INFERENCE_BATCH],
            )
            for s in range(0, len(inputs), INFERENCE_BATCH)
        ]
        logits = torch.cat(chunks).numpy()
        if not np.isfinite(logits).all():
            raise TrainingError("the model's outputs are not finite (NaN or infinite weights?); refit it")
        return logits

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (N, K), columns in the order of ``classes_``."""
        logits = self.decision_function(X)
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        """The most probable class of each case."""
        logits = self.decision_function(X)
        return self.classes_[logits.argmax(axis=1)]

    @torch.no_grad()
    def trace(self, x) -> GateTrace:
        """The GateTrace (every gate, cell and hidden state) of the encoder on one case ``x``."""
        self._check_fitted()
        inputs, lengths = self._encode([x])
        self.model_.eval()
        _, _, trace = self.model_.encoder(inputs, lengths, return_gates=True)
        return trace

    @torch.no_grad()
    def attention(self, x) -> np.ndarray:
        """The attention weights (T,) over the steps of one case ``x`` (pooling="attention" only)."""
        self._check_fitted()
        if self.pooling != "attention":
            raise ParameterError(f"attention weights need pooling='attention', this classifier pools {self.pooling!r}")
        inputs, lengths = self._encode([x])
        self.model_.eval()
        _, weights = self.model_.summarize(inputs, lengths)
        return weights[0].numpy()

    # ---- persistence ---------------------------------------------------------------------------

    def _fitted_state(self) -> dict:
        text = self.input_kind_ == "text"
        return {
            "classes": self.classes_.tolist(),
            "input_kind": self.input_kind_,
            "vocabulary": self.vocabulary_.tokens if text else None,
            "n_channels": None if text else self.n_channels_,
            "standardizer": None if text or self.standardizer_ is None else asdict(self.standardizer_),
            "history": self.history_,
            "class_weight": None if self.class_weight_ is None else self.class_weight_.tolist(),
        }

    def _restore_fitted(self, state: dict) -> None:
        self.classes_ = np.array(state["classes"])
        self.input_kind_ = state["input_kind"]
        check_choice("input_kind", self.input_kind_, ("text", "numeric"))
        if self.input_kind_ == "text":
            self.vocabulary_ = Vocabulary(state["vocabulary"])
        else:
            self.n_channels_ = int(state["n_channels"])
            scaling = state["standardizer"]
            self.standardizer_ = None if scaling is None else ChannelStandardizer(**scaling)
        self.history_ = state["history"]
        weights = state["class_weight"]
        self.class_weight_ = None if weights is None else np.asarray(weights, dtype=np.float32)
