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
