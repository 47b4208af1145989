"""Which cells of a language model track what: each unit's activation over a text against a property of each
character (``data.text.text_features``), as Karpathy, Johnson & Fei-Fei (2015) found quote, line-length and
bracket cells in char-rnn LSTMs.

A 0/1 property is scored by the area under the ROC curve of the unit's activation as a detector of it
(0.5: no better than chance; below 0.5: the unit detects it by going down, reported as 1 - AUC with
``sign=-1``); a graded one (position in the line) by the Pearson correlation, reported as |r| with its sign.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

from lstmkit.errors import ShapeError


@dataclass(frozen=True)
class CellMatch:
    feature: str
    layer: int
    unit: int
    measure: str  # "AUC" (0/1 property) or "correlation" (graded property)
    value: float  # AUC in [0.5, 1] or |r| in [0, 1]: higher tracks the property better
    sign: int  # +1: the unit goes up with the property, -1: down


def unit_aucs(activations: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(U,) AUC of each column of ``activations`` (T, U) as a score for ``labels`` (T,) in {0, 1}: the
    Mann-Whitney statistic, P(score of a positive > score of a negative), ties counted half."""
    positive = labels.astype(bool)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    ranks = rankdata(activations, axis=0)  # (T, U), average ranks for ties
    return (ranks[positive].sum(axis=0) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def unit_correlations(activations: np.ndarray, values: np.ndarray) -> np.ndarray:
    """(U,) Pearson correlation of each column of ``activations`` (T, U) with ``values`` (T,) (0 for a constant
    column)."""
    centred = activations - activations.mean(axis=0)
    target = values - values.mean()
    norms = np.sqrt((centred**2).sum(axis=0) * (target**2).sum())
    return np.divide(centred.T @ target, norms, out=np.zeros(activations.shape[1]), where=norms > 0)


def find_cells(states: np.ndarray, features: dict[str, np.ndarray], top: int = 3) -> list[CellMatch]:
    """The ``top`` units of ``states`` (T, L, H) that track each feature (T,) best, best first, feature by
    feature."""
    states = np.asarray(states, dtype=float)
    if states.ndim != 3:
        raise ShapeError(f"expected states of shape (T, L, H), got {states.shape}")
    T, L, H = states.shape
    flat = states.reshape(T, L * H)
    matches = []
    for name, values in features.items():
        values = np.asarray(values, dtype=float)
        if values.shape != (T,):
            raise ShapeError(f"feature {name!r} has shape {values.shape}; expected one value per step ({T},)")
        binary = set(np.unique(values)) <= {0.0, 1.0}
        signed = (unit_aucs(flat, values) - 0.5) if binary else unit_correlations(flat, values)
        for unit in np.argsort(-np.abs(signed))[:top]:
            strength = float(abs(signed[unit]))
            matches.append(
                CellMatch(
                    name,
                    int(unit // H),
                    int(unit % H),
                    "AUC" if binary else "correlation",
                    0.5 + strength if binary else strength,
                    1 if signed[unit] >= 0 else -1,
                )
            )
    return matches
