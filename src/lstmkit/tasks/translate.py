"""Seq2Seq: translation with a recurrent encoder-decoder, global attention, greedy and beam search.

Texts are normalized and tokenized (``lstmkit.data.translation.translation_tokens``: lower-cased words and
punctuation, non-breaking spaces and typographic apostrophes unified) and mapped through two ``Vocabulary``
objects built on the training part (tokens seen at least ``min_freq`` times; the rest is UNK). The network is
``tasks.encoder_decoder.TranslationNet`` (its docstring has the equations); it trains with teacher forcing on
token cross-entropy (label smoothing), with early stopping on the validation sentences' BLEU (greedy, against all
of each sentence's references), keeping the best epoch's weights: the validation loss starts rising epochs before
the BLEU stops climbing (the model grows over-confident on the words it gets wrong).

Decoding (``tasks.decoding``) is batched: greedy, or beam search with length normalization; a translation ends at
EOS or after ``max_length`` tokens (and never more than 2 * source tokens + 10). Unknown words: with
``unknown="copy"`` each UNK the decoder emits is replaced by the source token its attention weighted most (Luong
et al. 2015b's replacement, with the attention as the alignment) when that token is itself outside the source
vocabulary (a name or a number the training pairs never showed), and dropped otherwise: an UNK aligned with a
known English word stands for a rare French word, and copying the English word there cost 1.9 BLEU on the
held-out Tatoeba sentences. Without attention there is no alignment, and UNKs are dropped, as with ``"drop"``;
``"keep"`` leaves them as ``<unk>``.
Outputs are detokenized lower-case text; ``score`` and ``evaluate`` compare them case-insensitively.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from lstmkit.checks import check_choice, check_integer, check_number
from lstmkit.data.translation import detokenize, group_by_source, split_by_source, translation_tokens
from lstmkit.data.vocab import Vocabulary
from lstmkit.errors import DataError, ParameterError
from lstmkit.nn.losses import TokenCrossEntropy
from lstmkit.tasks.base import SequenceEstimator, ValidationScore
from lstmkit.tasks.decoding import Decoded, beam_search, greedy_search, select
from lstmkit.tasks.encoder_decoder import ATTENTIONS, TranslationNet
from lstmkit.tasks.metrics import TranslationScores, translation_scores
from lstmkit.tasks.modules import CELLS

INFERENCE_BATCH = 256
UNKNOWN = ("copy", "drop", "keep")


@dataclass(frozen=True)
class AttentionMap:
    """The attention of one translation: weights (T, S), row t the distribution over the source tokens when the
    decoder produced target token t (the last row: EOS)."""

    weights: np.ndarray
    source_tokens: list[str]
    target_tokens: list[str]


def _texts(texts, name: str) -> list[str]:
    if isinstance(texts, str) or not isinstance(texts, list | tuple) or not texts:
        raise DataError(f"expected {name} as a non-empty list of strings, got {type(texts).__name__}")
    for k, text in enumerate(texts):
        if not isinstance(text, str):
            raise DataError(f"{name}[{k}] is {type(text).__name__}; expected a string")
    return list(texts)


def _tokenized(texts: list[str], name: str) -> list[list[str]]:
    tokens = [translation_tokens(text) for text in texts]
    for k, sentence in enumerate(tokens):
        if not sentence:
            raise DataError(f"{name}[{k}] is empty ({texts[k]!r}); expected at least one word")
    return tokens


def _references(references, n: int) -> list[list[str]]:
    """One list of references per sentence, from strings (one reference each) or lists of strings."""
    if isinstance(references, str) or not isinstance(references, list | tuple) or len(references) != n:
        raise DataError(f"expected references as {n} strings or lists of strings, one per source sentence")
    lists = [[refs] if isinstance(refs, str) else list(refs) for refs in references]
    if any(not refs or not all(isinstance(r, str) for r in refs) for refs in lists):
        raise DataError("expected each sentence's references as a string or a non-empty list of strings")
    return lists


class Seq2Seq(SequenceEstimator):
    """Translate sentences; see the module docstring.

    Fitted attributes: ``source_vocabulary_``, ``target_vocabulary_`` (``Vocabulary``), ``model_`` (a
    ``TranslationNet``), ``history_`` (one dict per epoch).
    """

    kind = "Seq2Seq"
    validation_metric = ("val_score", "maximize")  # the validation sentences' BLEU (greedy), every reference

    def __init__(
        self,
        attention_kind: str = "general",
        cell: str = "lstm",
        hidden_size: int = 256,
        embedding_dim: int = 128,
        num_layers: int = 1,
        input_feeding: bool = True,
        dropout: float = 0.1,
        label_smoothing: float = 0.0,
        min_freq: int = 2,
        unknown: str = "copy",
        beam_size: int = 1,
        length_penalty: float = 0.5,
        max_length: int = 50,
        val_fraction: float = 0.05,
        epochs: int = 10,
        batch_size: int = 64,
        lr: float = 2e-3,
        lr_schedule: str | None = None,
        clip_grad_norm: float = 5.0,
        weight_decay: float = 0.0,
        patience: int | None = 3,
        seed: int = 0,
        progress: bool | None = False,
    ):
        self.attention_kind = attention_kind
        self.cell = cell
        self.hidden_size = hidden_size
        self.embedding_dim = embedding_dim
        self.num_layers = num_layers
        self.input_feeding = input_feeding
        self.dropout = dropout
        self.label_smoothing = label_smoothing
        self.min_freq = min_freq
        self.unknown = unknown
        self.beam_size = beam_size
        self.length_penalty = length_penalty
        self.max_length = max_length
        self.val_fraction = val_fraction
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.clip_grad_norm = clip_grad_norm
        self.weight_decay = weight_decay
        self.patience = patience
        self.seed = seed
        self.progress = progress

    # ---- checks ----------------------------------------------------------------------------------

    def check_params(self) -> None:
        check_choice("attention_kind", self.attention_kind, ATTENTIONS)
        check_choice("cell", self.cell, CELLS)
        check_choice("unknown", self.unknown, UNKNOWN)
        check_choice("lr_schedule", self.lr_schedule, (None, "cosine", "step", "plateau"))
        check_integer("hidden_size", self.hidden_size, 2)
        if self.hidden_size % 2:
            raise ParameterError(
                f"expected an even hidden_size (each encoder direction has hidden_size / 2), got {self.hidden_size}"
            )
        check_integer("embedding_dim", self.embedding_dim, 1)
        check_integer("num_layers", self.num_layers, 1)
        check_integer("min_freq", self.min_freq, 1)
        check_integer("max_length", self.max_length, 1)
        check_integer("beam_size", self.beam_size, 1)
        check_number("length_penalty", self.length_penalty, 0.0, 1.0)
        check_number("dropout", self.dropout, 0.0, 1.0, high_open=True)
        check_number("label_smoothing", self.label_smoothing, 0.0, 1.0, high_open=True)
        check_number("val_fraction", self.val_fraction, 0.0, 1.0, high_open=True)
        check_number("clip_grad_norm", self.clip_grad_norm, 0.0, math.inf, low_open=True, high_open=True)
        if not isinstance(self.input_feeding, bool | np.bool_):
            raise ParameterError(f"expected input_feeding to be True or False, got {self.input_feeding!r}")
        self._check_training_params()

    # ---- data ------------------------------------------------------------------------------------

    def _source_ids(self, tokens: list[list[str]]) -> torch.Tensor:
        """(N, S) source ids, PAD-padded."""
        ids = torch.zeros(len(tokens), max(map(len, tokens)), dtype=torch.long)
        for n, sentence in enumerate(tokens):
            ids[n, : len(sentence)] = torch.tensor(self.source_vocabulary_.encode(sentence))
        return ids

    def _pairs(self, sources: list[list[str]], targets: list[list[str]]):
        """(inputs (N, L, 2), targets (N, L), lengths (N,)): channel 0 the source, channel 1 BOS y_1 .. y_T, and
        the targets y_1 .. y_T EOS; L and lengths count the longer of source and target."""
        decoded = [self.target_vocabulary_.encode(t, eos=True) for t in targets]
        lengths = torch.tensor([max(len(s), len(y)) for s, y in zip(sources, decoded, strict=True)])
        L = int(lengths.max())
        inputs = torch.zeros(len(sources), L, 2, dtype=torch.long)
        outputs = torch.zeros(len(sources), L, dtype=torch.long)
        for n, (source, y) in enumerate(zip(sources, decoded, strict=True)):
            inputs[n, : len(source), 0] = torch.tensor(self.source_vocabulary_.encode(source))
            inputs[n, : len(y), 1] = torch.tensor([Vocabulary.bos_id, *y[:-1]])
            outputs[n, : len(y)] = torch.tensor(y)
        return inputs, outputs, lengths

    # ---- fitting ---------------------------------------------------------------------------------

    def _build_model(self) -> TranslationNet:
        return TranslationNet(
            source_vocab=len(self.source_vocabulary_),
            target_vocab=len(self.target_vocabulary_),
            embedding_dim=self.embedding_dim,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            cell=self.cell,
            attention=self.attention_kind,
            input_feeding=self.input_feeding,
            dropout=self.dropout,
        )

    def fit(self, sources, targets, validation=None, checkpoint_dir=None, callbacks=()) -> Seq2Seq:
        """Fit on parallel lists of source and target sentences. ``validation`` = (sources, targets) for early
        stopping; else ``val_fraction`` of the distinct source sentences (seeded; all translations of one source
        on the same side) is held out."""
        self.check_params()
        sources, targets = _texts(sources, "sources"), _texts(targets, "targets")
        if len(sources) != len(targets):
            raise DataError(f"got {len(sources)} sources but {len(targets)} targets; expected one target per source")
        source_tokens, target_tokens = _tokenized(sources, "sources"), _tokenized(targets, "targets")
        train, val = list(range(len(sources))), None
        if validation is not None:
            val_sources, val_targets = _texts(validation[0], "validation sources"), _texts(validation[1], "targets")
            if len(val_sources) != len(val_targets):
                raise DataError(f"validation has {len(val_sources)} sources but {len(val_targets)} targets")
            val = list(zip(val_sources, val_targets, strict=True))
        elif self.val_fraction > 0:
            distinct = len(set(sources))
            n_val = max(1, int(round(self.val_fraction * distinct)))
            if n_val >= distinct:
                raise DataError(f"{distinct} distinct source sentences are too few to hold {n_val} out for validation")
            split = split_by_source(list(zip(sources, train, strict=True)), n_val, val_sources=0, seed=self.seed)
            train = [k for _, k in split.train]
            val = [(sources[k], targets[k]) for _, held in split.test for k in held]
        train_sources, train_targets = [source_tokens[k] for k in train], [target_tokens[k] for k in train]
        self.source_vocabulary_ = Vocabulary.build(train_sources, self.min_freq)
        self.target_vocabulary_ = Vocabulary.build(train_targets, self.min_freq)
        torch.manual_seed(self.seed)
        model = self._build_model()
        val_part = None
        if val is not None:
            val_part = self._pairs(
                _tokenized([s for s, _ in val], "validation sources"),
                _tokenized([t for _, t in val], "validation targets"),
            )
            groups = group_by_source(val)
            judge = ValidationScore(self, [s for s, _ in groups], [refs for _, refs in groups])
            callbacks = [*callbacks, judge]
        trainer = self.train(
            model,
            TokenCrossEntropy(Vocabulary.pad_id, self.label_smoothing),
            self._pairs(train_sources, train_targets),
            val_part,
            checkpoint_dir,
            callbacks=callbacks,
            monitor=("val_score", "max") if val is not None else ("val_loss", "min"),
        )
        self.model_, self.history_ = model, trainer.history_
        return self

    # ---- translating -----------------------------------------------------------------------------

    @torch.no_grad()
    def _decode(self, sources: list[list[str]], beam_size: int) -> Decoded:
        self.model_.eval()
        tokens, positions = [], []
        for start in range(0, len(sources), INFERENCE_BATCH):
            chunk = sources[start : start + INFERENCE_BATCH]
            ids = self._source_ids(chunk)
            lengths = torch.tensor([len(s) for s in chunk])
            limits = (2 * lengths + 10).clamp(max=self.max_length)
            memory, carry = self.model_.encode(ids, lengths)
            bos, eos = Vocabulary.bos_id, Vocabulary.eos_id
            if beam_size == 1:
                result = greedy_search(
                    lambda y, c, m=memory: self.model_.step(y, c, m), carry, len(chunk), bos, eos, limits
                )
            else:
                memory = memory.repeat(beam_size)
                carry = select(carry, torch.arange(len(chunk)).repeat_interleave(beam_size))
                result = beam_search(
                    lambda y, c, m=memory: self.model_.step(y, c, m),
                    carry,
                    len(chunk),
                    bos,
                    eos,
                    limits,
                    beam_size,
                    self.length_penalty,
                )
            tokens += result.tokens
            positions += result.source_positions
        return Decoded(tokens, positions)

    def _words(self, ids: list[int], positions: list[int], source: list[str]) -> list[str]:
        """Target ids -> tokens, each UNK replaced as ``unknown`` says (see the module docstring)."""
        words = []
        for token, position in zip(self.target_vocabulary_.decode(ids, strip_special=False), positions, strict=True):
            if token != "<unk>" or self.unknown == "keep":
                words.append(token)
            elif self.unknown == "copy" and position >= 0 and source[position] not in self.source_vocabulary_:
                words.append(source[position])
        return words

    def translate_tokens(self, sources, beam_size: int | None = None) -> list[list[str]]:
        """The translation of each source sentence as tokens (lower-case, UNKs handled as ``unknown`` says)."""
        self._check_fitted()
        beam_size = self.beam_size if beam_size is None else beam_size
        check_integer("beam_size", beam_size, 1)
        tokens = _tokenized(_texts(sources, "sources"), "sources")
        decoded = self._decode(tokens, beam_size)
        return [
            self._words(ids, spots, source)
            for ids, spots, source in zip(decoded.tokens, decoded.source_positions, tokens, strict=True)
        ]

    def predict(self, sources, beam_size: int | None = None) -> list[str]:
        """The translation of each source sentence (detokenized, lower-case); ``beam_size`` 1 is greedy search,
        None the estimator's ``beam_size``."""
        return [detokenize(words) for words in self.translate_tokens(sources, beam_size)]

    def evaluate(self, sources, references, beam_size: int | None = None) -> TranslationScores:
        """Corpus BLEU and chrF (sacreBLEU, case-insensitive) of the translations of ``sources`` against
        ``references``: one string per source, or a list of every reference of each (multi-reference)."""
        sources = _texts(sources, "sources")
        references = _references(references, len(sources))
        return translation_scores(self.predict(sources, beam_size), references)

    def score(self, sources, references) -> float:
        """Corpus BLEU (0-100; see ``evaluate``): higher is better, as scikit-learn's ``score`` wants."""
        return self.evaluate(sources, references).bleu

    @torch.no_grad()
    def attention(self, source: str, target: str | None = None) -> AttentionMap:
        """The attention matrix of one pair: the decoder reads ``target`` (teacher forcing), or its own greedy
        translation of ``source`` when ``target`` is None."""
        self._check_fitted()
        if self.model_.attention is None:
            raise ParameterError("this Seq2Seq has attention_kind='none': there are no attention weights to show")
        source_tokens = _tokenized(_texts([source], "source"), "source")[0]
        target_tokens = self.translate_tokens([source], 1)[0] if target is None else None
        if target is not None:
            target_tokens = _tokenized(_texts([target], "target"), "target")[0]
        self.model_.eval()
        ids = self._source_ids([source_tokens])
        memory, carry = self.model_.encode(ids, torch.tensor([len(source_tokens)]))
        previous = [Vocabulary.bos_id, *self.target_vocabulary_.encode(target_tokens)]
        rows = []
        for token in previous:
            _, carry, weights = self.model_.step(torch.tensor([token]), carry, memory)
            rows.append(weights[0])
        return AttentionMap(torch.stack(rows).numpy(), source_tokens, [*target_tokens, "<eos>"])

    # ---- persistence -----------------------------------------------------------------------------

    def _fitted_state(self) -> dict:
        return {
            "source_vocabulary": self.source_vocabulary_.tokens,
            "target_vocabulary": self.target_vocabulary_.tokens,
            "history": self.history_,
        }

    def _restore_fitted(self, state: dict) -> None:
        self.source_vocabulary_ = Vocabulary(state["source_vocabulary"])
        self.target_vocabulary_ = Vocabulary(state["target_vocabulary"])
        self.history_ = state["history"]
