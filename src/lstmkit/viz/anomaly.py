"""Anomaly pictures: the series with its labelled and flagged steps, and the scores against the threshold."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure


def _shade(axes, mask: np.ndarray, color: str, label: str) -> None:
    """Shade the runs of True in ``mask`` (by step position) on ``axes``."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    for k, (first, last) in enumerate(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True)):
        axes.axvspan(first, last - 1, color=color, alpha=0.25, label=label if k == 0 else None)


def plot_anomalies(
    values: np.ndarray,
    scores: np.ndarray,
    flagged: np.ndarray,
    threshold: float,
    labels: np.ndarray | None = None,
    title: str = "Anomaly scores",
) -> Figure:
    """Top: the series, labelled windows shaded orange, flagged steps red. Bottom: the scores and the threshold."""
    figure = Figure(figsize=(11, 5.5), layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True)
    steps = np.arange(len(values))
    top.plot(steps, values, color="0.25", linewidth=0.8)
    if labels is not None:
        _shade(top, np.asarray(labels).astype(bool), "tab:orange", "labelled window")
    _shade(top, np.asarray(flagged).astype(bool), "tab:red", "flagged")
    top.set_title(title)
    top.set_ylabel("value")
    top.legend(loc="upper left")
    bottom.plot(steps, scores, color="tab:blue", linewidth=0.8, label="score")
    if np.isfinite(threshold):
        bottom.axhline(threshold, color="tab:red", linestyle="--", label="threshold")
    bottom.set_xlabel("step")
    bottom.set_ylabel("score (training sds)")
    bottom.legend(loc="upper left")
    for axes in (top, bottom):
        axes.grid(alpha=0.3)
    return figure
