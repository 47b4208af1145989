"""The classic long-time-lag problems (Hochreiter & Schmidhuber 1997), as batches of NumPy arrays.

Each returns ``x`` (T, N, C) time-first, like every sequence in lstmkit, and the targets.
"""

from __future__ import annotations

import numpy as np

from lstmkit.errors import ParameterError


def _check(name: str, value: int, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ParameterError(f"expected {name} to be an integer >= {low}, got {value!r}")


def first_symbol(
    n: int, length: int, num_symbols: int = 4, num_distractors: int = 4, rng: np.random.Generator | None = None
):
    """ "Remember the first symbol" (Hochreiter & Schmidhuber 1997, experiment 2a, with random noise).

    Step 0 is a one-hot symbol out of K; every later step is a random distractor, so the label, the
    first symbol, must be kept across ``length - 1`` steps of noise. Chance is 1/K. With M =
    ``num_distractors`` > 0 the distractors come from M symbols of their own; with M = 0 they are drawn
    from the K symbols themselves, so the input gate cannot tell them apart by channel: only by time.

    Returns x (T, N, K + M) float64 one-hot and labels (N,) int64 in [0, K).
    """
    _check("n", n, 1)
    _check("length", length, 1)
    _check("num_symbols", num_symbols, 2)
    _check("num_distractors", num_distractors, 0)
    rng = np.random.default_rng(rng)
    labels = rng.integers(0, num_symbols, size=n)
    if num_distractors:
        symbols = num_symbols + rng.integers(0, num_distractors, size=(length, n))
    else:
        symbols = rng.integers(0, num_symbols, size=(length, n))
    symbols[0] = labels
    return np.eye(num_symbols + num_distractors)[symbols], labels


def adding_problem(n: int, length: int, rng: np.random.Generator | None = None):
    """The adding problem: two channels, values ~ U[0, 1] and a marker with one 1 in each half.

    The target is the sum of the two marked values; always guessing its mean, 1, scores MSE 1/6.

    Returns x (T, N, 2) float64 and targets (N, 1).
    """
    _check("n", n, 1)
    _check("length", length, 2)
    rng = np.random.default_rng(rng)
    values = rng.uniform(0.0, 1.0, size=(length, n))
    half = length // 2
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, length, size=n)
    marker = np.zeros((length, n))
    columns = np.arange(n)
    marker[first, columns] = 1.0
    marker[second, columns] = 1.0
    target = values[first, columns] + values[second, columns]
    return np.stack([values, marker], axis=-1), target[:, None]
