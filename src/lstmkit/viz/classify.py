"""Pictures of a classifier: the confusion matrix and the attention over one sequence."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure


def plot_confusion_matrix(matrix, classes, title: str = "Confusion matrix (test)") -> Figure:
    """``matrix[i, j]``: cases of true class i predicted as j; each cell shows its count, rows shaded by recall."""
    matrix = np.asarray(matrix)
    size = max(4.0, 0.55 * len(classes) + 2.5)
    figure = Figure(figsize=(size + 1, size), layout="constrained")
    axes = figure.subplots()
    totals = matrix.sum(axis=1, keepdims=True)
    share = np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)
    image = axes.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            axes.text(
                j, i, str(matrix[i, j]), ha="center", va="center", color="white" if share[i, j] > 0.5 else "black"
            )
    labels = [str(c) for c in classes]
    axes.set_xticks(range(len(labels)), labels, rotation=45 if max(map(len, labels)) > 3 else 0)
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title)
    figure.colorbar(image, ax=axes, label="share of the true class")
    return figure


def plot_attention(weights, tokens=None, title: str = "Attention over the steps") -> Figure:
    """Attention weights (T,) over one sequence, labelled by its ``tokens`` when given."""
    weights = np.asarray(weights)
    figure = Figure(figsize=(max(5.0, 0.35 * len(weights) + 1), 3), layout="constrained")
    axes = figure.subplots()
    axes.bar(range(len(weights)), weights, color="tab:blue")
    if tokens is not None:
        axes.set_xticks(range(len(weights)), [str(t) for t in tokens], rotation=60)
    else:
        axes.set_xlabel("step")
    axes.set_ylabel("weight")
    axes.set_title(title)
    return figure
