"""Elementwise nonlinearities shared by the cells, each with the derivative the backward pass uses."""

from __future__ import annotations

import numpy as np


def sigmoid(a: np.ndarray) -> np.ndarray:
    """sigma(a) = 1 / (1 + exp(-a)), written as (1 + tanh(a/2)) / 2 so it never overflows."""
    s = np.tanh(0.5 * a)
    s *= 0.5
    s += 0.5
    return s


def dsigmoid(s: np.ndarray) -> np.ndarray:
    """sigma'(a) from s = sigma(a): s (1 - s)."""
    return s * (1.0 - s)


def dtanh(y: np.ndarray) -> np.ndarray:
    """tanh'(a) from y = tanh(a): 1 - y^2."""
    return 1.0 - y * y
