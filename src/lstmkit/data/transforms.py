"""Variance-stabilizing transforms of a forecast target, chosen on the training part only.

A series whose seasonal swings grow with its level (airline passengers, sales) has multiplicative
structure: on the log scale the swings are constant and a seasonal-naive-plus-correction model fits it
with one set of weights at every level. Whether a series needs it is judged with Guerrero's (1993)
method, the default of R's ``forecast::BoxCox.lambda`` and of ``coreforecast``: split the series into
subseries of one season, and choose the Box-Cox lambda that makes std_i / mean_i^(1 - lambda) most nearly
constant across subseries (smallest coefficient of variation). lambda near 0 means the spread is
proportional to the level (log); near 1, independent of it (no transform).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar

TRANSFORMS = ("auto", "log", "none")


def guerrero_lambda(values: np.ndarray, period: int, lower: float = -1.0, upper: float = 2.0) -> float:
    """Guerrero's Box-Cox lambda in [lower, upper] for a positive series ``values`` (T,).

    The last ``T // p * p`` values form subseries of ``p = max(period, 2)`` consecutive steps; for each,
    the ratio r_i = sd_i / mean_i^(1 - lambda) (sd with ddof 1); the lambda minimizing sd(r) / mean(r).
    """
    p = max(int(period), 2)
    values = np.asarray(values, dtype=float)
    n = len(values) // p * p
    if n < 2 * p or (values <= 0).any():
        raise ValueError(f"expected at least {2 * p} positive values, got {len(values)} (min {values.min():.3g})")
    blocks = values[len(values) - n :].reshape(-1, p)
    means, sds = blocks.mean(axis=1), blocks.std(axis=1, ddof=1)

    def variation(lam: float) -> float:
        ratio = sds / means ** (1.0 - lam)
        return float(ratio.std(ddof=1) / ratio.mean()) if ratio.mean() > 0 else np.inf

    return float(minimize_scalar(variation, bounds=(lower, upper), method="bounded").x)


def wants_log(values: np.ndarray, period: int) -> bool:
    """Whether ``transform="auto"`` takes the log of ``values``: all positive, at least two seasons long, and
    Guerrero's lambda below 0.5 (the spread grows with the level: nearer the log than no transform)."""
    values = np.asarray(values, dtype=float)
    p = max(int(period), 2)
    if len(values) < 2 * p or (values <= 0).any():
        return False
    if np.ptp(values) == 0:  # constant: nothing to stabilize
        return False
    return guerrero_lambda(values, period) < 0.5
