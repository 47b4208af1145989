"""Scalers fit on the training part only, then applied unchanged to validation, test and new data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class ChannelStandardizer:
    """Per-channel z-scores, x' = (x - mean) / std, with statistics over every step of the training sequences.

    A channel that is constant in training keeps std 1 (it is shifted, never divided by zero).
    """

    mean: list[float]
    std: list[float]

    @classmethod
    def fit(cls, sequences: list[np.ndarray]) -> ChannelStandardizer:
        steps = np.concatenate(sequences)  # (sum T_i, C)
        std = steps.std(axis=0)
        return cls(mean=steps.mean(axis=0).tolist(), std=np.where(std > 0, std, 1.0).tolist())

    def transform(self, sequences: list[np.ndarray]) -> list[np.ndarray]:
        mean, std = np.array(self.mean), np.array(self.std)
        return [(s - mean) / std for s in sequences]


@dataclass
class WindowScaling:
    """Forecast windows: the target relative to the window's last value over the training part's mean absolute
    step; covariates standardized with the training part's mean and std."""

    step: float
    mean: list[float]
    std: list[float]

    @classmethod
    def fit(cls, train_rows: np.ndarray) -> WindowScaling:
        """From the rows (n, C) the training windows see; column 0 is the target."""
        steps = np.abs(np.diff(train_rows[:, 0]))
        std = train_rows.std(axis=0)
        return cls(
            step=float(steps.mean()) if steps.mean() > 0 else 1.0,
            mean=train_rows.mean(axis=0).tolist(),
            std=np.where(std > 0, std, 1.0).tolist(),
        )

    def inputs(self, windows: np.ndarray) -> np.ndarray:
        """(n, lookback, C) raw -> scaled: target relative to the window's last value, covariates standardized."""
        scaled = (windows - np.array(self.mean)) / np.array(self.std)
        scaled[..., 0] = (windows[..., 0] - windows[:, -1:, 0]) / self.step
        return scaled.astype(np.float32)
