"""The embedded Reber grammar (Hochreiter & Schmidhuber 1997, experiment 1), LSTM against the vanilla RNN.

A net reads an embedded Reber string one symbol at a time and, at every step, predicts which symbols may come
next (``data.synthetic.embedded_reber_successors``): 7 sigmoid outputs trained on the yes/no of each symbol.
Most steps need only the last symbol or two; the second-to-last symbol needs the second one, remembered across
the whole inner string. As in the paper, a trial is solved when, on every step of every string of the training
and the test set, each allowed symbol's output is above every other symbol's; the paper's LSTM solved it in all
its trials. Both nets are lstmkit.nn layers with a linear output, trained by the Trainer with the same data,
budget and seed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from lstmkit import nn as lnn
from lstmkit.data.synthetic import REBER_SYMBOLS, embedded_reber_strings, embedded_reber_successors
from lstmkit.errors import ParameterError
from lstmkit.experiments.runs import check_settings, fit
from lstmkit.nn.losses import MaskedBernoulliNLL

CELLS = ("lstm", "rnn")


@dataclass(frozen=True)
class ReberConfig:
    """One comparison's settings; the defaults are what the full run uses (docs/experiments.md)."""

    hidden_size: int = 16
    train_strings: int = 256  # the paper's training and test sets hold 256 strings each
    test_strings: int = 256
    epochs: int = 400
    batch_size: int = 16
    lr: float = 1e-2  # Adam
    seeds: tuple[int, ...] = (0, 1, 2)

    def __post_init__(self):
        check_settings(self, ("hidden_size", "train_strings", "test_strings", "epochs", "batch_size"))


@dataclass(frozen=True)
class ReberTrial:
    cell: str
    seed: int
    solved: bool  # every step of every training and test string: the allowed symbols ranked first
    step_accuracy: float  # test steps with the allowed symbols ranked first
    second_to_last_accuracy: float  # test strings whose second-to-last symbol (T or P) is ranked above the other
    seconds: float


@dataclass(frozen=True)
class ReberResult:
    config: ReberConfig
    trials: tuple[ReberTrial, ...]
    memoryless_step_accuracy: float  # the best rule that sees only the current symbol (seed 0's strings)


class NextSymbolNet(nn.Module):
    """One-hot symbols (N, T, 7) and lengths -> logits (N, T, 7) of which symbols may come next."""

    def __init__(self, cell: str, hidden_size: int):
        super().__init__()
        layer = lnn.LSTM if cell == "lstm" else lnn.RNN
        self.rnn = layer(len(REBER_SYMBOLS), hidden_size, batch_first=True)
        self.output = nn.Linear(hidden_size, len(REBER_SYMBOLS))

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.output(self.rnn(inputs, lengths=lengths)[0])


def encode(strings: list[str]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(inputs (N, T, 7) one-hot of each string but its last symbol, targets (N, T, 7) multi-hot of the allowed
    next symbols with -1 at padding, lengths (N,))."""
    index = {s: k for k, s in enumerate(REBER_SYMBOLS)}
    lengths = torch.tensor([len(s) - 1 for s in strings])
    inputs = torch.zeros(len(strings), int(lengths.max()), len(REBER_SYMBOLS))
    targets = torch.full_like(inputs, -1.0)
    for n, string in enumerate(strings):
        for t, (symbol, allowed) in enumerate(zip(string[:-1], embedded_reber_successors(string), strict=True)):
            inputs[n, t, index[symbol]] = 1.0
            targets[n, t] = torch.tensor([float(s in allowed) for s in REBER_SYMBOLS])
    return inputs, targets, lengths


@torch.no_grad()
def judge(model: NextSymbolNet, data) -> tuple[np.ndarray, np.ndarray]:
    """(per valid step: the allowed symbols all ranked above the others, per string: its second-to-last symbol
    ranked above the other branch symbol)."""
    inputs, targets, lengths = data
    logits = model(inputs, lengths)
    allowed = targets > 0
    lowest_allowed = logits.masked_fill(~allowed, torch.inf).min(dim=-1).values  # (N, T)
    highest_other = logits.masked_fill(allowed, -torch.inf).max(dim=-1).values
    valid = targets[..., 0] >= 0
    steps_right = (lowest_allowed > highest_other)[valid].numpy()
    last = (lengths - 2)[:, None, None]  # the step after the inner E: its only allowed symbol is the branch
    branch_logits = logits.gather(1, last.expand(-1, 1, len(REBER_SYMBOLS)))[:, 0]  # (N, 7)
    t, p = REBER_SYMBOLS.index("T"), REBER_SYMBOLS.index("P")
    wanted_t = targets.gather(1, last.expand(-1, 1, len(REBER_SYMBOLS)))[:, 0, t] > 0
    branch_right = torch.where(
        wanted_t, branch_logits[:, t] > branch_logits[:, p], branch_logits[:, p] > branch_logits[:, t]
    )
    return steps_right, branch_right.numpy()


def memoryless_accuracy(train: list[str], test: list[str]) -> float:
    """Test steps right for the best rule that sees only the current symbol: the set of allowed next symbols
    most often seen after it in training (what a net without memory can reach at best)."""
    seen: dict[str, Counter] = {}
    for string in train:
        for symbol, allowed in zip(string, embedded_reber_successors(string), strict=False):
            seen.setdefault(symbol, Counter())[allowed] += 1
    guess = {symbol: counts.most_common(1)[0][0] for symbol, counts in seen.items()}
    steps = [
        guess.get(symbol) == allowed
        for string in test
        for symbol, allowed in zip(string, embedded_reber_successors(string), strict=False)
    ]
    return float(np.mean(steps))


def run_trial(config: ReberConfig, cell: str, seed: int) -> ReberTrial:
    """Train one net of ``cell`` on the seed's training strings and judge it."""
    if cell not in CELLS:
        raise ParameterError(f"unknown cell {cell!r}; expected one of {', '.join(CELLS)}")
    rng = np.random.default_rng(seed)
    train = encode(embedded_reber_strings(config.train_strings, rng))
    test = encode(embedded_reber_strings(config.test_strings, rng))
    torch.manual_seed(seed)
    model = NextSymbolNet(cell, config.hidden_size)
    budget = {"epochs": config.epochs, "batch_size": config.batch_size, "lr": config.lr, "seed": seed}
    seconds = fit(model, MaskedBernoulliNLL(), train, **budget)
    model.eval()
    train_steps, _ = judge(model, train)
    test_steps, branch = judge(model, test)
    return ReberTrial(
        cell=cell,
        seed=seed,
        solved=bool(train_steps.all() and test_steps.all()),
        step_accuracy=float(test_steps.mean()),
        second_to_last_accuracy=float(branch.mean()),
        seconds=seconds,
    )


def embedded_reber(config: ReberConfig | None = None, cells=CELLS) -> ReberResult:
    """Every cell in ``cells`` on every seed of ``config`` (same strings and budget for each cell)."""
    config = ReberConfig() if config is None else config
    rng = np.random.default_rng(config.seeds[0])
    train, test = embedded_reber_strings(config.train_strings, rng), embedded_reber_strings(config.test_strings, rng)
    trials = tuple(run_trial(config, cell, seed) for cell in cells for seed in config.seeds)
    return ReberResult(config, trials, memoryless_accuracy(train, test))
