"""Finite-difference gradient checks: the first link in lstmkit's chain of trust."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_gradient(loss: Callable[[], float], array: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences dL/da ~ (L(a + eps) - L(a - eps)) / (2 eps), entry by entry.

    ``loss()`` must read ``array`` (it is perturbed in place, then restored exactly).
    """
    grad = np.zeros_like(array, dtype=np.float64)
    flat, flat_grad = array.reshape(-1), grad.reshape(-1)
    for k in range(flat.size):
        original = flat[k]
        flat[k] = original + eps
        plus = loss()
        flat[k] = original - eps
        minus = loss()
        flat[k] = original
        flat_grad[k] = (plus - minus) / (2 * eps)
    return grad


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """||a - n|| / max(||a||, ||n||), 0 when both are zero."""
    scale = max(float(np.linalg.norm(analytic)), float(np.linalg.norm(numeric)))
    return 0.0 if scale == 0.0 else float(np.linalg.norm(analytic - numeric)) / scale


def check_gradients(
    loss: Callable[[], float], arrays: dict[str, np.ndarray], analytic: dict[str, np.ndarray], eps: float = 1e-6
) -> dict[str, float]:
    """The relative error of each analytic gradient against central differences of ``loss``."""
    return {name: relative_error(analytic[name], numerical_gradient(loss, arrays[name], eps)) for name in arrays}
