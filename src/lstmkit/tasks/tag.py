"""SequenceTagger: one tag per step, for named entities in token lists or labels along numeric signals.

Text: each token is its lower-cased word (embedding, singletons kept, word dropout), its casing class
(``casing``), its characters (a character CNN, so unseen words still have features) and, with ``lexicons``, its
lexical classes (``lstmkit.data.lexicon``: word frequencies, places, person names); a bidirectional
recurrent layer of any lstmkit cell reads the sentence, and a linear layer gives each step's tag scores.
With ``crf=True`` a linear-chain CRF scores whole tag paths (``lstmkit.tasks.crf``) and Viterbi decodes; without
it, the softmax scores are decoded by Viterbi under the BIO constraints when the tags are BIO (so both ways
yield well-formed sequences: no I-X after O or after another type), else step by step.

``score`` is the entity-level F1 (as conlleval computes it) for BIO/BIOES tags, else the per-step accuracy.
Training stops early on the validation cases' ``score`` (``ValidationScore``), and keeps the best epoch's
weights; the loss is the CRF's negative log-likelihood, or the cross-entropy. ``refit=True`` then trains again
on the training and validation cases together for the best epoch count; ``ensemble=N`` trains N members from
independent seeds and scores every tag path by their mean score (``TaggerEnsemble``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from lstmkit.checks import check_choice, check_integer, check_number
from lstmkit.data.lexicon import check_lexicons, lexicon_columns, lexicon_shape
from lstmkit.data.sequences import as_sequences, pad_sequences
from lstmkit.data.tags import PREFIXES, split_tag
from lstmkit.data.vocab import Vocabulary
from lstmkit.errors import DataError, ParameterError
from lstmkit.tasks.base import SequenceEstimator, ValidationScore, member_seeds
from lstmkit.tasks.crf import CRF, bio_constraints
from lstmkit.tasks.metrics import entity_scores
from lstmkit.tasks.modules import CELLS, TaggerEnsemble, TaggerNet

MAX_WORD = 20  # characters read of each word
CASES = ("pad", "lower", "upper", "title", "digits", "has digit", "mention or hashtag", "link", "other")
INFERENCE_BATCH = 256
OUTSIDE_BIASES = tuple(0.5 * k for k in range(11))  # candidates for the O-tag bias 0..5, in log-score units
IGNORED = -100  # the target of padding steps


def casing(word: str) -> int:
    """The casing class of ``word``: an index into CASES."""
    if word.startswith(("http", "www.")):
        return CASES.index("link")
    if word[:1] in ("@", "#") and len(word) > 1:
        return CASES.index("mention or hashtag")
    if word.isdigit():
        return CASES.index("digits")
    if any(c.isdigit() for c in word):
        return CASES.index("has digit")
    if word.islower():
        return CASES.index("lower")
    if word.isupper():
        return CASES.index("upper")
    if word[:1].isupper():
        return CASES.index("title")
    return CASES.index("other")


def is_entity_scheme(tags) -> bool:
    """Whether every tag is O or B-/I-/E-/S-TYPE (a BIO or BIOES scheme)."""
    return all(tag == "O" or (split_tag(tag)[0] in PREFIXES and split_tag(tag)[1]) for tag in tags)


def is_bio(tags) -> bool:
    return is_entity_scheme(tags) and all(split_tag(tag)[0] in ("O", "B", "I") for tag in tags)


class SequenceTagger(SequenceEstimator):
    """Tag every step of a sequence (scikit-learn style). ``X``: a list of token lists, or of (T_i, C) arrays;
    ``y``: the matching lists of tags.

    Fitted attributes: ``classes_`` (the tags), ``input_kind_`` ("text" or "numeric"), ``vocabulary_`` and
    ``characters_`` (text), ``n_channels_`` (numbers), ``outside_bias_``, ``model_``, ``history_``,
    ``refit_epochs_`` (each member's, empty without a refit) and ``refit_history_``.
    """

    kind = "SequenceTagger"
    validation_metric = ("val_score", "maximize")  # ``score`` on the validation cases: entity F1 or accuracy

    def validation_score(self) -> float:
        """The best validation ``score`` of the fit (the epoch whose weights were kept; in an ensemble, the mean
        of the members' best)."""
        self._check_fitted()
        best = {}
        for row in self.history_:
            if "val_score" in row:
                member = row.get("member", 0)
                best[member] = max(best.get(member, -math.inf), row["val_score"])
        if not best:
            raise ParameterError("SequenceTagger logged no val_score: a validation part is needed (val_fraction > 0)")
        return float(np.mean(list(best.values())))

    def __init__(
        self,
        cell: str = "lstm",
        hidden_size: int = 100,
        num_layers: int = 1,
        bidirectional: bool = True,
        crf: bool = True,
        embedding_dim: int = 100,
        char_dim: int = 25,
        char_filters: int = 50,
        dropout: float = 0.5,
        recurrent_dropout: float = 0.0,
        token_dropout: float = 0.1,
        lexicons: tuple[str, ...] = (),  # lexical features (``lstmkit.data.lexicon``; ``lstmkit[tag]``)
        tune_outside: bool = True,  # choose the O-tag bias on the validation entity F1 (``_choose_outside_bias``)
        refit: bool = False,  # train again on the training and validation cases together (``_train``)
        ensemble: int = 1,  # members from independent seeds, their scores averaged (``TaggerEnsemble``)
        epochs: int = 30,
        batch_size: int = 16,
        lr: float = 2e-3,
        weight_decay: float = 0.0,
        patience: int | None = 4,
        val_fraction: float = 0.1,  # used when fit gets no validation set
        seed: int = 0,
        progress: bool | None = False,
    ):
        self.cell = cell
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.crf = crf
        self.embedding_dim = embedding_dim
        self.char_dim = char_dim
        self.char_filters = char_filters
        self.dropout = dropout
        self.recurrent_dropout = recurrent_dropout
        self.token_dropout = token_dropout
        self.lexicons = lexicons
        self.tune_outside = tune_outside
        self.refit = refit
        self.ensemble = ensemble
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.patience = patience
        self.val_fraction = val_fraction
        self.seed = seed
        self.progress = progress

    def check_params(self) -> None:
        check_choice("cell", self.cell, CELLS)
        for name in ("hidden_size", "num_layers", "embedding_dim", "char_dim", "char_filters", "ensemble"):
            check_integer(name, getattr(self, name), 1)
        check_choice("bidirectional", self.bidirectional, (True, False))
        check_choice("crf", self.crf, (True, False))
        check_choice("tune_outside", self.tune_outside, (True, False))
        check_choice("refit", self.refit, (True, False))
        check_lexicons(self.lexicons)
        for name in ("dropout", "recurrent_dropout", "token_dropout"):
            check_number(name, getattr(self, name), 0.0, 1.0, high_open=True)
        check_number("val_fraction", self.val_fraction, 0.0, 1.0, high_open=True)
        self._check_training_params()

    # ---- inputs --------------------------------------------------------------------------------

    def _cases(self, X, name: str = "X") -> list:
        """``X`` checked: token lists (text) or (T_i, C) float arrays (numbers), none empty."""
        if not isinstance(X, list | tuple) or not X:
            raise DataError(f"expected {name} as a non-empty list of token lists or arrays, got {type(X).__name__}")
        text = all(isinstance(x, list | tuple) and all(isinstance(t, str) for t in x) for x in X)
        kind = getattr(self, "input_kind_", "text" if text else "numeric")
        if kind == "text":
            if not text:
                raise DataError(f"expected {name} as lists of token strings, as the tagger was fitted on")
            for k, tokens in enumerate(X):
                if not tokens:
                    raise DataError(f"{name}[{k}] is an empty sentence: expected at least one token")
            return [list(x) for x in X]
        if text:
            raise DataError(f"expected {name} as numeric (T, C) arrays, as the tagger was fitted on; got tokens")
        return as_sequences(X)

    def _tensors(self, cases: list) -> tuple[torch.Tensor, torch.Tensor]:
        """Checked cases -> (inputs, lengths): (N, T, 2 + W) ids for text, (N, T, C) floats for numbers."""
        if self.input_kind_ == "numeric":
            padded, lengths = pad_sequences(cases)
            return torch.from_numpy(padded), torch.from_numpy(lengths)
        rows = []
        for tokens in cases:
            columns = [self.vocabulary_.encode([t.lower() for t in tokens]), [casing(t) for t in tokens]]
            columns += lexicon_columns(tokens, self.lexicons)
            row = np.zeros((len(tokens), len(columns) + MAX_WORD), dtype=np.int64)
            row[:, : len(columns)] = np.array(columns).T
            for k, token in enumerate(tokens):
                chars = self.characters_.encode(list(token[:MAX_WORD]))
                row[k, len(columns) : len(columns) + len(chars)] = chars
            rows.append(row)
        padded, lengths = pad_sequences(rows, dtype=np.int64)
        return torch.from_numpy(padded), torch.from_numpy(lengths)

    def _targets(self, y, cases: list) -> torch.Tensor:
        if not isinstance(y, list | tuple) or len(y) != len(cases):
            raise DataError(f"expected y as {len(cases)} lists of tags, one per case")
        index = {tag: k for k, tag in enumerate(self.classes_)}
        targets = np.full((len(cases), max(len(c) for c in cases)), IGNORED, dtype=np.int64)
        for k, (case, tags) in enumerate(zip(cases, y, strict=True)):
            if len(tags) != len(case):
                raise DataError(f"y[{k}] has {len(tags)} tags for {len(case)} steps; expected one tag per step")
            unknown = [t for t in tags if t not in index]
            if unknown:
                raise DataError(f"y[{k}] has the tag {unknown[0]!r}, not seen in training")
            targets[k, : len(tags)] = [index[t] for t in tags]
        return torch.from_numpy(targets)

    # ---- fitting -------------------------------------------------------------------------------

    def _build_model(self) -> TaggerNet | TaggerEnsemble:
        return self._joined([self._build_member() for _ in range(self.ensemble)])

    def _joined(self, members: list[TaggerNet]) -> TaggerNet | TaggerEnsemble:
        """The fitted model: the one member, or the members scored together."""
        return members[0] if self.ensemble == 1 else TaggerEnsemble(members)

    def _marked(self, history: list[dict], k: int) -> list[dict]:
        """A member's history rows, marked with its index in an ensemble."""
        return [{**row, "member": k} for row in history] if self.ensemble > 1 else history

    def _build_member(self) -> TaggerNet:
        text = self.input_kind_ == "text"
        return TaggerNet(
            vocab_size=len(self.vocabulary_) if text else None,
            num_chars=len(self.characters_) if text else None,
            num_cases=len(CASES),
            lexicon_classes=lexicon_shape(self.lexicons),
            input_size=None if text else self.n_channels_,
            embedding_dim=self.embedding_dim,
            char_dim=self.char_dim,
            char_filters=self.char_filters,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            cell=self.cell,
            bidirectional=self.bidirectional,
            dropout=self.dropout,
            recurrent_dropout=self.recurrent_dropout,
            token_dropout=self.token_dropout,
            num_tags=len(self.classes_),
            crf=self.crf,
        )

    def fit(self, X, y, validation=None, checkpoint_dir=None, callbacks=()) -> SequenceTagger:
        """Fit on cases ``X`` and their tags ``y``; ``validation`` = (X_dev, y_dev) for early stopping (else the
        last ``val_fraction`` of the cases)."""
        self.check_params()
        stale = ("input_kind_", "vocabulary_", "characters_", "n_channels_", "outside_bias_", "refit_epochs_")
        for name in (*stale, "refit_history_"):
            self.__dict__.pop(name, None)
        cases = self._cases(X)
        self.input_kind_ = "text" if isinstance(cases[0], list) else "numeric"
        if not isinstance(y, list | tuple) or len(y) != len(cases):
            raise DataError(f"expected y as {len(cases)} lists of tags, one per case")
        if validation is None and self.val_fraction > 0:
            n_val = max(1, int(round(self.val_fraction * len(cases))))
            train, val = (cases[:-n_val], list(y[:-n_val])), (cases[-n_val:], list(y[-n_val:]))
        else:
            train, val = (cases, list(y)), None if validation is None else (self._cases(validation[0]), validation[1])
        self.classes_ = sorted({tag for split in (train, val) if split for tags in split[1] for tag in tags})
        if self.input_kind_ == "numeric":
            self.n_channels_ = cases[0].shape[1]
        seeds = [self.seed] if self.ensemble == 1 else member_seeds(self.seed, self.ensemble)
        members, self.history_ = [], []
        for k, seed in enumerate(seeds):
            stopping = [] if val is None else [ValidationScore(self, *val)]
            folder = self._member_folder(checkpoint_dir, k)
            member, history = self._train(train, val, folder, [*callbacks, *stopping], seed)
            members.append(member)
            self.history_ += self._marked(history, k)
        self.model_ = self._joined(members)
        entities = val is not None and is_entity_scheme(self.classes_) and "O" in self.classes_
        self.outside_bias_ = self._choose_outside_bias(*val) if entities and self.tune_outside else 0.0
        self.refit_epochs_, self.refit_history_ = [], []
        if self.refit and val is not None:
            both = (train[0] + val[0], train[1] + list(val[1]))
            for k, seed in enumerate(seeds):
                scores = [row["val_score"] for row in self.history_ if row.get("member", 0) == k]
                self.refit_epochs_.append(scores.index(max(scores)) + 1)
                folder = self._member_folder(None if checkpoint_dir is None else Path(checkpoint_dir) / "refit", k)
                members[k], history = self._train(both, None, folder, callbacks, seed, self.refit_epochs_[k])
                self.refit_history_ += self._marked(history, k)
            self.model_ = self._joined(members)
        return self

    def _member_folder(self, checkpoint_dir, k: int) -> Path | None:
        if checkpoint_dir is None:
            return None
        return Path(checkpoint_dir) if self.ensemble == 1 else Path(checkpoint_dir) / f"member{k}"

    def _train(self, train, val, checkpoint_dir, callbacks, seed: int, epochs: int | None = None):
        """A new model (vocabularies from the ``train`` cases) trained on them from ``seed``: (model, history).

        With ``refit`` the first fit stops early on the validation cases; then a new model is trained on the
        training and validation cases together for the epoch count that scored best (more data, and on WNUT17 the
        validation sentences come from the sources the test sentences come from), keeping the O-tag bias chosen
        for the first fit's model (no held-out cases are left to choose another; on WNUT17 with half of the dev
        set held out, it carried over: docs/tagging.md). ``history_`` keeps the first fit's epochs,
        ``refit_history_`` the refit's (rows marked with their ``member`` in an ensemble)."""
        if self.input_kind_ == "text":
            self.vocabulary_ = Vocabulary.build([[t.lower() for t in s] for s in train[0]])
            self.characters_ = Vocabulary.build([list(t) for s in train[0] for t in s])
        torch.manual_seed(seed)
        model = self._build_member()

        def part(data):
            if data is None:
                return None
            inputs, lengths = self._tensors(data[0])
            return inputs, self._targets(data[1], data[0]), lengths

        trainer = self.train(
            model,
            TaggingLoss(model.crf),
            part(train),
            part(val),
            checkpoint_dir,
            callbacks=callbacks,
            seed=seed,
            monitor=("val_score", "max") if val is not None else ("val_loss", "min"),
            epochs=epochs,
        )
        return model, trainer.history_

    # ---- predicting ----------------------------------------------------------------------------

    @torch.no_grad()
    def _scores(self, X) -> tuple[torch.Tensor, torch.Tensor]:
        self._check_fitted()
        cases = self._cases(X)
        inputs, lengths = self._tensors(cases)
        self.model_.eval()
        parts = []
        for s in range(0, len(inputs), INFERENCE_BATCH):
            longest = int(lengths[s : s + INFERENCE_BATCH].max())
            scores = self.model_(inputs[s : s + INFERENCE_BATCH, :longest], lengths[s : s + INFERENCE_BATCH])
            parts.append(torch.nn.functional.pad(scores, (0, 0, 0, inputs.shape[1] - longest)))
        return torch.cat(parts), lengths

    def _decode(self, scores: torch.Tensor, lengths: torch.Tensor, outside_bias: float) -> list[list[str]]:
        """Tag paths from step scores (N, T, K): the CRF's best path, or constrained (BIO) / per-step best softmax
        tags; ``outside_bias`` is taken off the O tag's scores first (log-probabilities without the CRF)."""
        mask = torch.arange(scores.shape[1])[None] < lengths[:, None]
        scores = scores if self.model_.crf is not None else torch.log_softmax(scores, dim=-1)
        if outside_bias and "O" in self.classes_:
            scores = scores.clone()
            scores[..., self.classes_.index("O")] -= outside_bias
        if self.model_.crf is not None:
            paths = self.model_.crf.decode(scores, mask)
        elif is_bio(self.classes_):
            paths = CRF(len(self.classes_), bio_constraints(self.classes_)).decode(scores, mask)
        else:
            paths = [row[:length].tolist() for row, length in zip(scores.argmax(-1), lengths.tolist(), strict=True)]
        return [[self.classes_[k] for k in path] for path in paths]

    def predict(self, X) -> list[list[str]]:
        """The tags of each case (see ``_decode``), with the fitted ``outside_bias_``."""
        scores, lengths = self._scores(X)
        return self._decode(scores, lengths, getattr(self, "outside_bias_", 0.0))

    def _choose_outside_bias(self, X, y) -> float:
        """The O-tag bias in OUTSIDE_BIASES that gives the validation cases the best entity F1 (0 on ties).

        Entities are rare (WNUT17: 1 token in 12), so a tagger trained on the likelihood says O too readily: high
        precision, low recall. Lowering O's score by a constant chosen on the validation sentences trades
        precision for recall where that raises F1; the test sentences never take part."""
        scores, lengths = self._scores(X)
        results = [(entity_scores(list(y), self._decode(scores, lengths, b))["f1"], -b) for b in OUTSIDE_BIASES]
        return -max(results)[1]

    def predict_proba(self, X) -> list[np.ndarray]:
        """Per-step tag probabilities (T_i, K) of each case, columns in the order of ``classes_``: the CRF's
        marginals (forward-backward through autograd of log Z), or the softmax."""
        scores, lengths = self._scores(X)
        mask = torch.arange(scores.shape[1])[None] < lengths[:, None]
        if self.model_.crf is None:
            probabilities = torch.softmax(scores, dim=-1)
        else:
            emissions = scores.clone().requires_grad_(True)
            with torch.enable_grad():
                self.model_.crf.log_partition(emissions, mask).sum().backward()
            probabilities = emissions.grad  # d log Z / d e[t, k] = p(y_t = k)
        return [p[:length].numpy() for p, length in zip(probabilities, lengths.tolist(), strict=True)]

    def score(self, X, y) -> float:
        """Entity-level F1 (conlleval) for BIO/BIOES tags, else the per-step accuracy."""
        predicted = self.predict(X)
        if is_entity_scheme(self.classes_):
            return entity_scores(list(y), predicted)["f1"]
        steps = [(p == g) for ps, gs in zip(predicted, y, strict=True) for p, g in zip(ps, gs, strict=True)]
        return float(np.mean(steps))

    # ---- persistence ---------------------------------------------------------------------------

    def _fitted_state(self) -> dict:
        text = self.input_kind_ == "text"
        return {
            "classes": self.classes_,
            "input_kind": self.input_kind_,
            "vocabulary": self.vocabulary_.tokens if text else None,
            "characters": self.characters_.tokens if text else None,
            "n_channels": None if text else self.n_channels_,
            "outside_bias": self.outside_bias_,
            "refit_epochs": self.refit_epochs_,
            "refit_history": self.refit_history_,
            "history": self.history_,
        }

    def _restore_fitted(self, state: dict) -> None:
        self.classes_ = list(state["classes"])
        self.input_kind_ = state["input_kind"]
        check_choice("input_kind", self.input_kind_, ("text", "numeric"))
        if self.input_kind_ == "text":
            self.vocabulary_ = Vocabulary(state["vocabulary"])
            self.characters_ = Vocabulary(state["characters"])
        else:
            self.n_channels_ = int(state["n_channels"])
        self.outside_bias_ = float(state["outside_bias"])
        self.refit_epochs_, self.refit_history_ = state["refit_epochs"], state["refit_history"]
        self.history_ = state["history"]


class TaggingLoss(torch.nn.Module):
    """scores (N, T, K), targets (N, T) with IGNORED at padding -> the CRF's mean negative log-likelihood per
    sentence, or the cross-entropy per step."""

    def __init__(self, crf: CRF | None):
        super().__init__()
        self.crf = crf

    def forward(self, scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if self.crf is None:
            return torch.nn.functional.cross_entropy(scores.transpose(1, 2), targets, ignore_index=IGNORED)
        mask = targets != IGNORED
        return self.crf.nll(scores, targets.clamp(min=0), mask)
