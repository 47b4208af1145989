"""Sliding windows over a multivariate series, for direct multi-step forecasting."""

from __future__ import annotations

import numpy as np


def make_windows(values: np.ndarray, lookback: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (n, lookback, C) and targets (n, horizon) of column 0, for every start where both fit.

    values (T, C) -> n = T - lookback - horizon + 1 windows; window k reads rows k .. k+lookback-1 and
    predicts column 0 at rows k+lookback .. k+lookback+horizon-1.
    """
    T = len(values)
    n = T - lookback - horizon + 1
    if n < 1:
        raise ValueError(f"{T} rows make no window of lookback {lookback} + horizon {horizon}")
    starts = np.arange(n)[:, None]
    inputs = values[starts + np.arange(lookback)]  # (n, lookback, C)
    targets = values[starts + lookback + np.arange(horizon), 0]  # (n, horizon)
    return inputs, targets
