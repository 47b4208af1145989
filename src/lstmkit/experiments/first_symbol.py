"""Remember the first symbol across T >= 100 steps, and the gradient flow of the trained nets, measured.

The first step shows one of K symbols, every later step a distractor (``data.synthetic.first_symbol``); the class,
read at the last step, is the first symbol. An LSTM, a GRU and a vanilla RNN (lstmkit.nn layers of the same width
with a linear output on the last step) are trained by the Trainer on the same sequences with the same budget and
judged on held-out ones (chance: 1/K). Then, through each trained net, the gradient of the held-out loss with
respect to every step's hidden (and cell) state is measured by backprop (``nn.gradients.state_gradients``): the
guides' vanishing-gradient plot, from real models instead of a simulated product of factors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from lstmkit.data.synthetic import first_symbol
from lstmkit.errors import ParameterError
from lstmkit.experiments.nets import LastStepNet
from lstmkit.experiments.runs import check_settings, fit
from lstmkit.nn.gradients import gradient_norms, state_gradients

CELLS = ("lstm", "gru", "rnn")


@dataclass(frozen=True)
class FirstSymbolConfig:
    """One comparison's settings; the defaults are the full run's (docs/experiments.md)."""

    length: int = 100  # T
    num_symbols: int = 4  # K
    num_distractors: int = 0  # M: 0 draws the distractors from the K symbols themselves (no channel tells them)
    hidden_size: int = 32
    train_sequences: int = 2000
    test_sequences: int = 500
    epochs: int = 30
    batch_size: int = 32
    lr: float = 1e-2  # Adam
    forget_bias: float = 5.0  # added to the LSTM's initial forget-gate bias: keep the first step
    input_bias: float = -3.0  # added to its input-gate bias: store nothing from the distractors
    seeds: tuple[int, ...] = (0, 1, 2)

    def __post_init__(self):
        check_settings(self, ("length", "hidden_size", "train_sequences", "test_sequences", "epochs", "batch_size"), 2)


@dataclass(frozen=True)
class FirstSymbolTrial:
    cell: str
    seed: int
    accuracy: float  # held-out sequences whose first symbol is named right
    grad_h: tuple[float, ...]  # (T,) mean ||dL/dh_t|| on the held-out sequences, the loss at the last step
    grad_c: tuple[float, ...] | None  # (T,) mean ||dL/dc_t||, LSTM only
    seconds: float

    @property
    def gradient_ratio(self) -> float:
        """||dL/dh_0|| / ||dL/dh_{T-1}||: the share of the error signal that reaches the first step."""
        return self.grad_h[0] / self.grad_h[-1] if self.grad_h[-1] > 0 else float("nan")


@dataclass(frozen=True)
class FirstSymbolResult:
    config: FirstSymbolConfig
    chance: float
    trials: tuple[FirstSymbolTrial, ...]


def _data(config: FirstSymbolConfig, n: int, rng: np.random.Generator):
    x, labels = first_symbol(n, config.length, config.num_symbols, config.num_distractors, rng)  # (T, N, C)
    return torch.tensor(x.swapaxes(0, 1), dtype=torch.float32), torch.from_numpy(labels)


def run_trial(config: FirstSymbolConfig, cell: str, seed: int) -> FirstSymbolTrial:
    """Train one net of ``cell`` on the seed's sequences, judge it, and measure its gradient flow."""
    if cell not in CELLS:
        raise ParameterError(f"unknown cell {cell!r}; expected one of {', '.join(CELLS)}")
    rng = np.random.default_rng(seed)
    (x, y), (x_test, y_test) = _data(config, config.train_sequences, rng), _data(config, config.test_sequences, rng)
    lengths = torch.full((len(x),), config.length)
    torch.manual_seed(seed)
    inputs = config.num_symbols + config.num_distractors
    model = LastStepNet(
        cell,
        inputs,
        config.hidden_size,
        config.num_symbols,
        forget_bias=config.forget_bias,
        input_bias=config.input_bias,
    )
    loss = nn.CrossEntropyLoss()
    budget = {"epochs": config.epochs, "batch_size": config.batch_size, "lr": config.lr, "seed": seed}
    seconds = fit(model, loss, (x, y, lengths), **budget)
    model.eval()
    with torch.no_grad():
        accuracy = float((model(x_test, lengths[: len(x_test)]).argmax(-1) == y_test).float().mean())
    gradients = state_gradients(
        model.rnn, x_test.transpose(0, 1), lambda out: loss(model.output(out[-1]), y_test)
    )  # time-first in, the loss at the last step
    grad_c = tuple(gradient_norms(gradients["dc"][0]).tolist()) if "dc" in gradients else None
    return FirstSymbolTrial(cell, seed, accuracy, tuple(gradient_norms(gradients["dh"][0]).tolist()), grad_c, seconds)


def first_symbol_experiment(config: FirstSymbolConfig | None = None, cells=CELLS) -> FirstSymbolResult:
    """Every cell in ``cells`` on every seed of ``config`` (the same sequences and budget for each)."""
    config = FirstSymbolConfig() if config is None else config
    trials = tuple(run_trial(config, cell, seed) for cell in cells for seed in config.seeds)
    return FirstSymbolResult(config, 1.0 / config.num_symbols, trials)
