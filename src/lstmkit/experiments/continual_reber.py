"""The continual embedded Reber grammar (Gers, Schmidhuber & Cummins 2000): LSTM with a forget gate against without.

Embedded Reber strings (``data.synthetic.embedded_reber_strings``) follow one another in one endless stream,
with no reset of the state between them: at every step the net predicts which symbols may come next (after a
string's E, the next string's B). Without a forget gate (f fixed at 1, Hochreiter & Schmidhuber 1997's cell)
nothing ever leaves a cell, so the cell states add up string after string; with one, the cell can learn to
empty itself at string ends. Gers et al. report that LSTM without forget gates failed this task in all trials,
LSTM with them solved it.

Both nets are the same lstmkit.nn LSTM (one layer, sigmoid outputs); "fixed at 1" has the forget gate's rows of
W_ih and W_hh set to 0 and its bias to ``FIXED_OPEN``, where sigmoid is exactly 1 in float32 and its derivative
exactly 0, so training never moves it. Trained by the Trainer with truncated backprop through time over
parallel streams, the state carried across chunks and epochs' chunks alike; judged on one long held-out stream
read from a zero state in one pass: the share of steps whose allowed symbols are all ranked above the others,
how many strings go by before the first wrong step, and how large the cell states grow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from lstmkit import nn as lnn
from lstmkit.data.synthetic import REBER_SYMBOLS, embedded_reber_strings, embedded_reber_successors
from lstmkit.errors import ParameterError
from lstmkit.experiments.nets import shift_gate_bias
from lstmkit.experiments.runs import check_settings, fit
from lstmkit.nn.losses import MaskedBernoulliNLL
from lstmkit.training import SequenceChunks

FORGET_GATES = ("learned", "fixed at 1")
FIXED_OPEN = 30.0  # sigmoid(30) is 1.0 in float32, and its derivative 0.0


@dataclass(frozen=True)
class ContinualReberConfig:
    """One comparison's settings; the defaults are the full run's (docs/experiments.md)."""

    hidden_size: int = 16
    streams: int = 32  # parallel training streams (the batch)
    strings_per_stream: int = 200  # about 5,000 symbols each
    chunk: int = 50  # truncated backprop through time: steps per chunk
    epochs: int = 20
    lr: float = 1e-2  # Adam
    forget_bias: float = 1.0  # added to the learned forget gate's initial bias
    test_strings: int = 4000  # one held-out stream of about 100,000 symbols
    picture_steps: int = 3000  # the cell states drawn: the first steps of the held-out stream
    seeds: tuple[int, ...] = (0, 1, 2)

    def __post_init__(self):
        check_settings(self, ("hidden_size", "streams", "strings_per_stream", "chunk", "epochs", "test_strings"))


@dataclass(frozen=True)
class ContinualReberTrial:
    forget_gate: str
    seed: int
    step_accuracy: float  # held-out steps with every allowed symbol ranked above every other
    strings_before_error: int  # whole strings read right before the first wrong step
    strings: int  # strings in the held-out stream
    mean_abs_cell: tuple[float, float]  # mean |c| over the first and the last tenth of the held-out stream
    seconds: float


@dataclass(frozen=True)
class ContinualReberResult:
    config: ContinualReberConfig
    trials: tuple[ContinualReberTrial, ...]
    cells: dict[str, np.ndarray]  # forget gate -> (picture_steps, H) cell states of the first seed's net


def continual_stream(strings: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Strings one after another -> (inputs (T, 7) one-hot, targets (T, 7) multi-hot of the symbols allowed next,
    ends (n,) the index of each string's last step). After a string's E only a B may come; the stream's last
    symbol is left out (nothing follows it)."""
    index = {s: k for k, s in enumerate(REBER_SYMBOLS)}
    symbols, allowed = [], []
    for string in strings:
        symbols += list(string)
        allowed += [*embedded_reber_successors(string), "B"]
    ends = np.cumsum([len(s) for s in strings]) - 1
    inputs = np.eye(len(REBER_SYMBOLS))[[index[s] for s in symbols[:-1]]]
    targets = np.array([[float(s in a) for s in REBER_SYMBOLS] for a in allowed[:-1]])
    return inputs, targets, ends[:-1]


class StreamNet(nn.Module):
    """One-hot symbols (T, N, 7) and the state -> (logits (T, N, 7) of the symbols allowed next, the state)."""

    def __init__(self, hidden_size: int, forget_gate: str, forget_bias: float):
        super().__init__()
        if forget_gate not in FORGET_GATES:
            raise ParameterError(f"unknown forget gate {forget_gate!r}; expected one of {', '.join(FORGET_GATES)}")
        self.rnn = lnn.LSTM(len(REBER_SYMBOLS), hidden_size)
        if forget_gate == "learned":
            shift_gate_bias(self.rnn, "f", forget_bias)
        else:  # gates i, f, g, o: f's rows fixed so that f = 1 exactly, always
            rows = slice(hidden_size, 2 * hidden_size)
            with torch.no_grad():
                for name in ("weight_ih_l0", "weight_hh_l0", "bias_hh_l0"):
                    getattr(self.rnn, name)[rows] = 0.0
                self.rnn.bias_ih_l0[rows] = FIXED_OPEN
        self.output = nn.Linear(hidden_size, len(REBER_SYMBOLS))

    def forward(self, inputs: torch.Tensor, state=None):
        outputs, state = self.rnn(inputs, state)
        return self.output(outputs), state


def _stream(strings: list[str]):
    inputs, targets, ends = continual_stream(strings)
    return torch.tensor(inputs, dtype=torch.float32), torch.tensor(targets, dtype=torch.float32), ends


def run_trial(config: ContinualReberConfig, forget_gate: str, seed: int):
    """Train one net on the seed's streams, read the held-out stream; the trial and the net's cell states (T, H)."""
    rng = np.random.default_rng(seed)
    parts = [_stream(embedded_reber_strings(config.strings_per_stream, rng)) for _ in range(config.streams)]
    steps = min(len(inputs) for inputs, _, _ in parts)  # parallel streams cut to the shortest
    inputs = torch.stack([p[0][:steps] for p in parts], dim=1)  # (T, N, 7)
    targets = torch.stack([p[1][:steps] for p in parts], dim=1)
    test_inputs, test_targets, ends = _stream(embedded_reber_strings(config.test_strings, rng))
    torch.manual_seed(seed)
    model = StreamNet(config.hidden_size, forget_gate, config.forget_bias)
    chunks = SequenceChunks(inputs, targets, config.chunk)
    seconds = fit(model, MaskedBernoulliNLL(), chunks, epochs=config.epochs, lr=config.lr, seed=seed)
    model.eval()
    with torch.no_grad():
        outputs, _, trace = model.rnn(test_inputs[:, None], return_gates=True)
        logits = model.output(outputs)[:, 0]  # (T, 7)
    cells = trace.layer(0)["c"][:, 0]  # (T, H)
    allowed = test_targets > 0
    lowest_allowed = logits.masked_fill(~allowed, torch.inf).min(dim=-1).values
    highest_other = logits.masked_fill(allowed, -torch.inf).max(dim=-1).values
    right = (lowest_allowed > highest_other).numpy()
    wrong = np.flatnonzero(~right)
    before = len(ends) + 1 if len(wrong) == 0 else int(np.searchsorted(ends, wrong[0]))
    tenth = max(1, len(cells) // 10)
    trial = ContinualReberTrial(
        forget_gate=forget_gate,
        seed=seed,
        step_accuracy=float(right.mean()),
        strings_before_error=before,
        strings=len(ends) + 1,
        mean_abs_cell=(float(np.abs(cells[:tenth]).mean()), float(np.abs(cells[-tenth:]).mean())),
        seconds=seconds,
    )
    return trial, cells


def continual_reber(config: ContinualReberConfig | None = None) -> ContinualReberResult:
    """Both forget gates on every seed of ``config`` (the same streams and budget for each)."""
    config = ContinualReberConfig() if config is None else config
    trials, cells = [], {}
    for forget_gate in FORGET_GATES:
        for seed in config.seeds:
            trial, states = run_trial(config, forget_gate, seed)
            trials.append(trial)
            cells.setdefault(forget_gate, states[: config.picture_steps])
    return ContinualReberResult(config, tuple(trials), cells)
