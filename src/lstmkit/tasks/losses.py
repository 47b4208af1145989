"""Losses the tasks train with, beyond torch's own."""

from __future__ import annotations

import torch
from torch import nn


class PinballLoss(nn.Module):
    """Mean over steps and quantiles of max(q (y - f), (q - 1) (y - f)); minimized by the q-quantile.

    prediction (N, horizon, Q), target (N, horizon) -> scalar.
    """

    def __init__(self, quantiles):
        super().__init__()
        self.register_buffer("quantiles", torch.tensor(list(quantiles), dtype=torch.float32))

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        diff = target[..., None] - prediction  # (N, horizon, Q)
        return torch.maximum(self.quantiles * diff, (self.quantiles - 1) * diff).mean()


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
