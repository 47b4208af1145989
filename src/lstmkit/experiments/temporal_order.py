"""The temporal order problem (Hochreiter & Schmidhuber 1997, experiments 6a and 6b), LSTM against the vanilla RNN.

Sequences of 100-110 symbols hold two (6a) or three (6b) relevant symbols, each X or Y, at widely separated
positions among random distractors (``data.synthetic.temporal_order``); the class, read at the last step, is their
order (4 or 8 classes). The net must keep what it saw at step 10-20 across about 90 steps of noise, and combine
it with what comes later. Both nets are lstmkit.nn layers of the same width with a linear output on the last
valid step, trained by the Trainer with cross-entropy on the same sequences; judged by the accuracy on held-out
sequences (chance: 1/4 or 1/8), a trial solved when every held-out sequence is classified right.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from lstmkit.data.synthetic import TEMPORAL_ORDER_SYMBOLS, TEMPORAL_ORDER_WINDOWS, temporal_order
from lstmkit.errors import ParameterError
from lstmkit.experiments.nets import LastStepNet
from lstmkit.experiments.runs import check_settings, fit

CELLS = ("lstm", "rnn")


@dataclass(frozen=True)
class TemporalOrderConfig:
    """One comparison's settings; the defaults are the full run's (docs/experiments.md)."""

    relevant: int = 2  # 2: experiment 6a (4 classes), 3: 6b (8 classes)
    hidden_size: int = 32
    train_sequences: int = 2000
    test_sequences: int = 1000
    epochs: int = 60
    batch_size: int = 32
    lr: float = 1e-2  # Adam
    forget_bias: float = 5.0  # added to the LSTM's initial forget-gate bias: start remembering (at 1: chance)
    input_bias: float = -3.0  # added to its input-gate bias (the paper's cells: negative; at 0, 2 seeds of 3 solve)
    recurrent_dropout: float = 0.0  # lstmkit's per-sequence masks on h_{t-1}, while training
    seeds: tuple[int, ...] = (0, 1, 2)

    def __post_init__(self):
        if self.relevant not in TEMPORAL_ORDER_WINDOWS:
            raise ParameterError(f"expected relevant to be 2 (experiment 6a) or 3 (6b), got {self.relevant!r}")
        check_settings(self, ("hidden_size", "train_sequences", "test_sequences", "epochs", "batch_size"))


@dataclass(frozen=True)
class TemporalOrderTrial:
    cell: str
    seed: int
    accuracy: float  # held-out sequences classified right
    solved: bool  # all of them
    seconds: float


@dataclass(frozen=True)
class TemporalOrderResult:
    config: TemporalOrderConfig
    chance: float
    trials: tuple[TemporalOrderTrial, ...]


def _data(n: int, relevant: int, rng: np.random.Generator):
    x, lengths, labels = temporal_order(n, relevant, rng)
    return torch.tensor(x, dtype=torch.float32), torch.from_numpy(labels), torch.from_numpy(lengths)


def run_trial(config: TemporalOrderConfig, cell: str, seed: int) -> TemporalOrderTrial:
    """Train one net of ``cell`` (any of ``experiments.nets.CELLS``) on the seed's sequences and judge it on held-out
    ones."""
    rng = np.random.default_rng(seed)
    train = _data(config.train_sequences, config.relevant, rng)
    test = _data(config.test_sequences, config.relevant, rng)
    torch.manual_seed(seed)
    model = LastStepNet(
        cell,
        len(TEMPORAL_ORDER_SYMBOLS),
        config.hidden_size,
        2**config.relevant,
        forget_bias=config.forget_bias,
        input_bias=config.input_bias,
        recurrent_dropout=config.recurrent_dropout,
    )
    budget = {"epochs": config.epochs, "batch_size": config.batch_size, "lr": config.lr, "seed": seed}
    seconds = fit(model, nn.CrossEntropyLoss(), train, **budget)
    model.eval()
    with torch.no_grad():
        right = (model(test[0], test[2]).argmax(dim=-1) == test[1]).numpy()
    return TemporalOrderTrial(cell, seed, float(right.mean()), bool(right.all()), seconds)


def temporal_order_experiment(config: TemporalOrderConfig | None = None, cells=CELLS) -> TemporalOrderResult:
    """Every cell in ``cells`` on every seed of ``config`` (the same sequences and budget for each cell)."""
    config = TemporalOrderConfig() if config is None else config
    trials = tuple(run_trial(config, cell, seed) for cell in cells for seed in config.seeds)
    return TemporalOrderResult(config, 1.0 / 2**config.relevant, trials)
