"""The cell family on equal terms: every lstmkit cell on four tasks, the same parameter budget, data and steps.

Greff et al. 2017 ("LSTM: A Search Space Odyssey") compared LSTM variants over many tasks and found the forget gate
and the output activation essential and the rest of the variants about equal; this is that comparison in small.
Each variant (``VARIANTS``: LSTM, peephole, coupled input-forget gate, layer-normalized, GRU, vanilla RNN, and the
LSTM with recurrent dropout) gets, per task, the width whose recurrent layer has as many parameters as an LSTM of
``budget_hidden`` units on that task's input (``hidden_for_budget``), then the same sequences, seed and number of
steps as every other variant:

- ``adding``: the adding problem as Hochreiter & Schmidhuber 1997 pose it (``experiments.adding``) at T = 50; the
  score is the share of held-out sums off by 0.04 or more (lower is better);
- ``temporal-order``: experiment 6a (``experiments.temporal_order``), held-out accuracy;
- ``japanese-vowels``: the UEA JapaneseVowels split (270 / 370 speakers' utterances, 12 cepstral channels, 9
  speakers), channels standardized on the training part, held-out accuracy;
- ``char-lm``: a character language model on the first ``char_lm_chars`` characters of Tiny Shakespeare, trained by
  truncated backprop over parallel streams, scored in nats per character on the last 10% read as one stream
  (lower is better).

The LSTM kinds start with the experiments' gate biases (forget +5, input -3 on adding and temporal order); the GRU
and the vanilla RNN with torch's initialization.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from lstmkit.data.datasets import load_sequence_dataset, load_tiny_shakespeare
from lstmkit.data.sequences import pad_sequences
from lstmkit.data.text import parallel_streams
from lstmkit.errors import ParameterError
from lstmkit.experiments import adding, temporal_order
from lstmkit.experiments.nets import LastStepNet, recurrent_layer
from lstmkit.experiments.runs import fit
from lstmkit.nn.losses import TokenCrossEntropy
from lstmkit.specs import RecurrentConfig
from lstmkit.training import SequenceChunks

VARIANTS = {  # name -> (cell, recurrent dropout)
    "lstm": ("lstm", 0.0),
    "peephole": ("peephole", 0.0),
    "coupled": ("coupled", 0.0),
    "layernorm": ("layernorm", 0.0),
    "gru": ("gru", 0.0),
    "rnn": ("rnn", 0.0),
    "lstm, recurrent dropout 0.25": ("lstm", 0.25),
}
TASKS = ("adding", "temporal-order", "japanese-vowels", "char-lm")
SCORES = {  # task -> (what the score is, whether higher is better)
    "adding": ("share of held-out sums wrong", False),
    "temporal-order": ("held-out accuracy", True),
    "japanese-vowels": ("held-out accuracy", True),
    "char-lm": ("held-out nats per character", False),
}


@dataclass(frozen=True)
class CompareConfig:
    """The comparison's settings; the defaults are the full run's (docs/experiments.md), ``quick()`` the test's."""

    budget_hidden: int = 32  # every variant's recurrent layer has about as many parameters as an LSTM this wide
    adding_length: int = 50
    adding_sequences: int = 4000
    adding_epochs: int = 8
    order_sequences: int = 1000
    order_epochs: int = 30
    vowels_epochs: int = 30
    char_lm_chars: int = 200_000
    char_lm_epochs: int = 3
    tasks: tuple[str, ...] = TASKS
    variants: tuple[str, ...] = tuple(VARIANTS)
    seeds: tuple[int, ...] = (0, 1, 2)

    def __post_init__(self):
        for name, known in (("tasks", TASKS), ("variants", tuple(VARIANTS))):
            unknown = [value for value in getattr(self, name) if value not in known]
            if unknown or not getattr(self, name):
                raise ParameterError(f"expected {name} among {', '.join(known)}, got {', '.join(getattr(self, name))}")
        if not self.seeds:
            raise ParameterError("expected at least one seed")

    @classmethod
    def quick(cls, **overrides) -> CompareConfig:
        """Seconds per variant: short sequences and budgets (what the tests run)."""
        small = dict(
            budget_hidden=16,
            adding_length=30,
            adding_sequences=1500,
            adding_epochs=6,
            order_sequences=300,
            order_epochs=4,
            vowels_epochs=15,
            char_lm_chars=20_000,
            char_lm_epochs=2,
            seeds=(0,),
        )
        return cls(**(small | overrides))


@dataclass(frozen=True)
class CompareResult:
    config: CompareConfig
    hidden: dict[str, dict[str, int]]  # task -> variant -> width
    parameters: dict[str, dict[str, int]]  # task -> variant -> the recurrent layer's parameters
    scores: dict[str, dict[str, list[float]]]  # task -> variant -> one score per seed
    seconds: float

    def summary(self, task: str) -> dict[str, tuple[float, float]]:
        """variant -> (mean, sample sd over seeds; 0 with one seed)."""
        return {
            variant: (float(np.mean(values)), float(np.std(values, ddof=1)) if len(values) > 1 else 0.0)
            for variant, values in self.scores[task].items()
        }

    def beyond_spread(self, task: str, reference: str = "lstm") -> dict[str, bool]:
        """variant -> whether its mean differs from ``reference``'s by more than the two seed spreads together
        (nothing with a single seed: no spread to compare with)."""
        if len(self.config.seeds) < 2:
            return {}
        stats = self.summary(task)
        mean0, sd0 = stats[reference]
        return {v: abs(mean - mean0) > sd + sd0 for v, (mean, sd) in stats.items() if v != reference}


def recurrent_parameters(cell: str, input_size: int, hidden_size: int) -> int:
    """The parameters of a one-layer ``cell`` layer, counted from the cell table's shapes."""
    shapes = RecurrentConfig(cell, input_size, hidden_size).expected_shapes().values()
    return sum(math.prod(shape) for shape in shapes)


def hidden_for_budget(cell: str, input_size: int, budget_hidden: int) -> int:
    """The width whose recurrent layer of ``cell`` comes closest to an LSTM's of ``budget_hidden`` units."""
    budget = recurrent_parameters("lstm", input_size, budget_hidden)
    widths = range(1, 8 * budget_hidden + 1)
    return min(widths, key=lambda h: abs(recurrent_parameters(cell, input_size, h) - budget))


INPUT_SIZES = {"adding": 2, "temporal-order": 8, "japanese-vowels": 12}  # char-lm: the alphabet


def _adding(config: CompareConfig, cell: str, dropout: float, hidden: int, seed: int) -> float:
    settings = adding.AddingConfig(
        length=config.adding_length,
        hidden_size=hidden,
        train_sequences=config.adding_sequences,
        test_sequences=1000,
        epochs=config.adding_epochs,
        recurrent_dropout=dropout,
        seeds=(seed,),
    )
    return adding.run_trial(settings, cell, seed).wrong / settings.test_sequences


def _temporal_order(config: CompareConfig, cell: str, dropout: float, hidden: int, seed: int) -> float:
    settings = temporal_order.TemporalOrderConfig(
        hidden_size=hidden,
        train_sequences=config.order_sequences,
        test_sequences=500,
        epochs=config.order_epochs,
        input_bias=-3.0,
        recurrent_dropout=dropout,
        seeds=(seed,),
    )
    return temporal_order.run_trial(settings, cell, seed).accuracy


@lru_cache(maxsize=1)
def _vowels_data():
    """JapaneseVowels as (x (N, T, 12), labels (N,), lengths (N,)) for training and test, channels standardized on
    the training part; and the number of speakers. Read once per process."""
    splits = load_sequence_dataset("japanese_vowels")
    train_x = np.concatenate(splits.train.sequences)
    mean, std = train_x.mean(axis=0), train_x.std(axis=0)
    classes = {label: k for k, label in enumerate(splits.train.class_labels)}

    def tensors(part):
        x, lengths = pad_sequences([(s - mean) / std for s in part.sequences])
        labels = torch.tensor([classes[label] for label in part.labels])
        return torch.from_numpy(x), labels, torch.from_numpy(lengths)

    return tensors(splits.train), tensors(splits.test), len(classes)


def _vowels(config: CompareConfig, cell: str, dropout: float, hidden: int, seed: int) -> float:
    train, test, classes = _vowels_data()
    torch.manual_seed(seed)
    model = LastStepNet(cell, train[0].shape[2], hidden, classes, recurrent_dropout=dropout)
    fit(model, nn.CrossEntropyLoss(), train, epochs=config.vowels_epochs, batch_size=32, lr=1e-2, seed=seed)
    model.eval()
    with torch.no_grad():
        return float((model(test[0], test[2]).argmax(-1) == test[1]).float().mean())


class CharNet(nn.Module):
    """Characters (T, N) as ids and the state -> (logits (T, N, V) of the next character, the state)."""

    def __init__(self, cell: str, vocabulary: int, hidden: int, dropout: float):
        super().__init__()
        self.vocabulary = vocabulary
        self.rnn = recurrent_layer(cell, vocabulary, hidden, dropout, batch_first=False)
        self.output = nn.Linear(hidden, vocabulary)

    def forward(self, ids: torch.Tensor, state=None):
        outputs, state = self.rnn(nn.functional.one_hot(ids, self.vocabulary).float(), state)
        return self.output(outputs), state


@lru_cache(maxsize=1)
def _char_data(chars: int):
    """The first ``chars`` characters of Tiny Shakespeare as ids: the first 90% as 32 parallel streams (L, 32), the
    rest as one stream (T, 1); and the alphabet's size. Read once per process."""
    text = load_tiny_shakespeare()[:chars]
    index = {c: k for k, c in enumerate(sorted(set(text)))}
    ids = np.array([index[c] for c in text])
    cut = int(0.9 * len(ids))
    return torch.from_numpy(parallel_streams(ids[:cut], 32)), torch.from_numpy(ids[cut:])[:, None], len(index)


def _char_lm(config: CompareConfig, cell: str, dropout: float, hidden: int, seed: int) -> float:
    streams, held_out, vocabulary = _char_data(config.char_lm_chars)
    loss = TokenCrossEntropy(ignore_id=-1)  # every character counts
    torch.manual_seed(seed)
    model = CharNet(cell, vocabulary, hidden, dropout)
    chunks = SequenceChunks(streams[:-1], streams[1:], 64)
    fit(model, loss, chunks, epochs=config.char_lm_epochs, lr=3e-3, seed=seed)
    model.eval()
    with torch.no_grad():
        logits, _ = model(held_out[:-1])  # one stream from a zero state
    return float(loss(logits, held_out[1:]))


RUNNERS = {"adding": _adding, "temporal-order": _temporal_order, "japanese-vowels": _vowels, "char-lm": _char_lm}


def compare(config: CompareConfig | None = None, progress=None) -> CompareResult:
    """Every variant on every task and seed of ``config``; ``progress(task, variant, seed, score)`` after each."""
    config = CompareConfig() if config is None else config
    started = time.perf_counter()
    hidden, parameters, scores = {}, {}, {}
    for task in config.tasks:
        input_size = INPUT_SIZES.get(task) or _char_data(config.char_lm_chars)[2]
        hidden[task], parameters[task], scores[task] = {}, {}, {}
        for variant in config.variants:
            cell, dropout = VARIANTS[variant]
            width = hidden_for_budget(cell, input_size, config.budget_hidden)
            hidden[task][variant] = width
            parameters[task][variant] = recurrent_parameters(cell, input_size, width)
            scores[task][variant] = []
            for seed in config.seeds:
                score = RUNNERS[task](config, cell, dropout, width, seed)
                scores[task][variant].append(score)
                if progress is not None:
                    progress(task, variant, seed, score)
    return CompareResult(config, hidden, parameters, scores, time.perf_counter() - started)
