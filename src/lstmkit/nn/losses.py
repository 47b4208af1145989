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
