"""Losses over padded sequences that torch does not have in this form."""

from __future__ import annotations

import torch
from torch import nn


class MaskedBernoulliNLL(nn.Module):
    """Negative log-likelihood of K independent yes/no outcomes per step (the keys sounding at the next step of a
    piano roll; the symbols a grammar allows next): logits (N, T, K), targets (N, T, K) in {0, 1} with -1 at
    padded steps -> the sum over the K outcomes, averaged over the valid steps (each step weighs the same,
    whatever the length of its sequence)."""

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        valid = targets[..., 0] >= 0  # (N, T)
        outcomes = nn.functional.binary_cross_entropy_with_logits(logits[valid], targets[valid], reduction="none")
        return outcomes.sum(dim=-1).mean()


class TokenCrossEntropy(nn.Module):
    """Cross-entropy over the tokens of padded target sequences: logits (N, T, V), targets (N, T) ids with
    ``ignore_id`` (padding) at the steps that do not count -> the mean over the counted tokens. With
    ``label_smoothing`` eps, the target distribution is (1 - eps) on the token and eps / V everywhere
    (Szegedy et al. 2016). Equal to ``cross_entropy(..., ignore_index=ignore_id)``, without the softmax over the
    ignored steps."""

    def __init__(self, ignore_id: int = 0, label_smoothing: float = 0.0):
        super().__init__()
        self.ignore_id, self.label_smoothing = ignore_id, label_smoothing

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        counted = targets != self.ignore_id  # (N, T): the softmax runs over these rows only
        return nn.functional.cross_entropy(logits[counted], targets[counted], label_smoothing=self.label_smoothing)
