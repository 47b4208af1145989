"""MusicGenerator: polyphonic music as a piano roll, one frame of 88 keys per step, judged by its held-out NLL.

A roll (T, 88) holds 1 where a key sounds at a step. The model (``tasks.language_models.PianoRollModel``) reads
frames 1..T-1 and gives, at each step t, the probability p_t,k that key k sounds at step t + 1; the keys are
independent given the state (Boulanger-Lewandowski et al. 2012's RNN baseline; Bai et al. 2018's LSTM and GRU).

The negative log-likelihood of a roll is -sum_t sum_k [y_t,k log p_t,k + (1 - y_t,k) log(1 - p_t,k)] over its
predicted steps t = 2..T (the first frame is context only), and ``nll`` is the total over every roll divided by
the number of predicted steps: each step weighs the same, so long chorales count more. That is how Bai et al.
2018's code scores JSB Chorales (per chorale ``-trace(y log p^T + (1 - y) log(1 - p)^T)``, summed, divided by
the summed lengths), whose table reports LSTM 8.45, GRU 8.43 and TCN 8.10.

``generate`` samples each key of the next frame from its Bernoulli, one frame at a time with the state carried,
after a prime (by default one of the training rolls' opening chords, drawn with the seed).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from lstmkit.checks import check_choice, check_integer, check_number
from lstmkit.data.datasets import PIANO_KEYS
from lstmkit.errors import DataError
from lstmkit.nn.losses import MaskedBernoulliNLL
from lstmkit.tasks.base import SequenceEstimator
from lstmkit.tasks.language_models import PianoRollModel
from lstmkit.tasks.modules import CELLS

SCORE_BATCH = 64


def _roll(roll, name: str, min_steps: int) -> np.ndarray:
    """``roll`` checked as a (T >= min_steps, 88) array of 0s and 1s, as float32."""
    roll = np.asarray(roll)
    if roll.ndim != 2 or roll.shape[1] != PIANO_KEYS or roll.shape[0] < min_steps:
        raise DataError(f"{name} has shape {roll.shape}; expected (T >= {min_steps}, {PIANO_KEYS}): a step per row")
    if not np.isin(roll, (0, 1)).all():
        raise DataError(f"{name} holds values other than 0 and 1; expected a piano roll (1: the key sounds)")
    return roll.astype(np.float32)


def _rolls(rolls, name: str) -> list[np.ndarray]:
    """``rolls`` checked: a non-empty list of (T >= 2, 88) piano rolls."""
    if isinstance(rolls, np.ndarray) or not isinstance(rolls, list | tuple) or not rolls:
        raise DataError(f"expected {name} as a non-empty list of (T, 88) piano rolls, got {type(rolls).__name__}")
    return [_roll(roll, f"{name}[{k}]", 2) for k, roll in enumerate(rolls)]


def padded_pairs(rolls: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(inputs (N, T_max, 88), targets (N, T_max, 88), lengths (N,)): frames 1..T-1 and 2..T of each roll, padded
    (inputs with 0, targets with -1, which the loss skips)."""
    lengths = torch.tensor([len(roll) - 1 for roll in rolls])
    inputs = torch.zeros(len(rolls), int(lengths.max()), PIANO_KEYS)
    targets = torch.full_like(inputs, -1.0)
    for n, roll in enumerate(rolls):
        inputs[n, : lengths[n]] = torch.from_numpy(roll[:-1])
        targets[n, : lengths[n]] = torch.from_numpy(roll[1:])
    return inputs, targets, lengths


class MusicGenerator(SequenceEstimator):
    """A recurrent model of piano rolls (see the module docstring): ``num_layers`` layers of ``cell`` over the
    88-key frames and 88 sigmoid outputs, trained on the NLL per step with early stopping on the validation
    rolls' NLL."""

    kind = "MusicGenerator"

    def __init__(
        self,
        cell: str = "lstm",
        hidden_size: int = 256,
        num_layers: int = 1,
        dropout: float = 0.3,
        recurrent_dropout: float = 0.0,
        epochs: int = 150,
        batch_size: int = 8,
        lr: float = 1e-3,
        lr_schedule: str | None = None,
        clip_grad_norm: float | None = 1.0,
        weight_decay: float = 0.0,
        patience: int | None = 20,  # the validation NLL creeps down for ~90 epochs with long flat stretches
        val_fraction: float = 0.15,
        seed: int = 0,
        progress: bool | None = False,
    ):
        self.cell = cell
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.recurrent_dropout = recurrent_dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.clip_grad_norm = clip_grad_norm
        self.weight_decay = weight_decay
        self.patience = patience
        self.val_fraction = val_fraction
        self.seed = seed
        self.progress = progress

    def check_params(self) -> None:
        check_choice("cell", self.cell, CELLS)
        check_integer("hidden_size", self.hidden_size, 1)
        check_integer("num_layers", self.num_layers, 1)
        check_number("dropout", self.dropout, 0.0, 1.0, high_open=True)
        check_number("recurrent_dropout", self.recurrent_dropout, 0.0, 1.0, high_open=True)
        check_number("val_fraction", self.val_fraction, 0.0, 1.0, low_open=True, high_open=True)
        self._check_training_params()

    def fit(self, rolls, validation=None, checkpoint_dir=None) -> MusicGenerator:
        """Train on ``rolls`` (a list of (T, 88) arrays); the validation rolls are ``validation`` or, without
        them, a seeded ``val_fraction`` of ``rolls``."""
        self.check_params()
        rolls = _rolls(rolls, "rolls")
        if validation is None:
            if len(rolls) < 2:
                raise DataError("one roll cannot be split into training and validation; give validation rolls")
            order = np.random.default_rng(self.seed).permutation(len(rolls))
            held = max(1, round(self.val_fraction * len(rolls)))
            validation = [rolls[k] for k in order[:held]]
            rolls = [rolls[k] for k in order[held:]]
        validation = _rolls(validation, "validation")
        self.openings_ = sorted({tuple(np.flatnonzero(roll[0]).tolist()) for roll in rolls})
        torch.manual_seed(self.seed)
        self.model_ = self._build_model()
        trainer = self.train(
            self.model_, MaskedBernoulliNLL(), padded_pairs(rolls), padded_pairs(validation), checkpoint_dir
        )
        self.history_ = trainer.history_
        return self

    def _build_model(self) -> PianoRollModel:
        return PianoRollModel(
            keys=PIANO_KEYS,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            cell=self.cell,
            dropout=self.dropout,
            recurrent_dropout=self.recurrent_dropout,
        )

    def _fitted_state(self) -> dict:
        return {"openings": [list(chord) for chord in self.openings_], "history": self.history_}

    def _restore_fitted(self, state: dict) -> None:
        self.openings_ = [tuple(chord) for chord in state["openings"]]
        self.history_ = state["history"]

    @torch.no_grad()
    def nll(self, rolls) -> float:
        """Negative log-likelihood per predicted step, summed over the 88 keys (see the module docstring)."""
        self._check_fitted()
        rolls = _rolls(rolls, "rolls")
        self.model_.eval()
        total, steps = 0.0, 0
        loss = MaskedBernoulliNLL()
        for start in range(0, len(rolls), SCORE_BATCH):
            inputs, targets, lengths = padded_pairs(rolls[start : start + SCORE_BATCH])
            count = int(lengths.sum())
            total += loss(self.model_(inputs, lengths), targets).item() * count
            steps += count
        return total / steps

    def score(self, rolls) -> float:
        """Minus ``nll(rolls)``: greater is better, as scikit-learn's model selection expects."""
        return -self.nll(rolls)

    @torch.no_grad()
    def generate(self, length: int = 64, prime=None, temperature: float = 1.0, seed: int | None = None) -> np.ndarray:
        """(length, 88) uint8: the prime (default: a training roll's opening chord, drawn with ``seed``)
        followed by sampled frames, ``length`` rows in all. ``temperature`` divides the logits (below 1: surer)."""
        self._check_fitted()
        check_integer("length", length, 1)
        check_number("temperature", temperature, 0.0, math.inf, low_open=True, high_open=True)
        rng = np.random.default_rng(seed)
        if prime is None:
            prime = np.zeros((1, PIANO_KEYS), dtype=np.float32)
            prime[0, list(self.openings_[rng.integers(len(self.openings_))])] = 1.0
        else:
            prime = _roll(prime, "prime", 1)
        generator = torch.Generator().manual_seed(int(rng.integers(2**62)))
        self.model_.eval()
        frames = [torch.from_numpy(prime)]
        logits, state = self.model_.step(frames[0][None])  # the prime in one call: (1, T0, 88)
        logits, next_logits = logits[:, -1], self.model_.stream(state)  # then one frame per call
        while sum(len(f) for f in frames) < length:
            frame = torch.bernoulli(torch.sigmoid(logits / temperature), generator=generator)  # (1, 88)
            frames.append(frame)
            logits = next_logits(frame)
        return torch.cat(frames)[:length].numpy().astype(np.uint8)
