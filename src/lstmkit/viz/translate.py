"""The alignment a translation model learned: its attention matrix as a heat map (Bahdanau et al. 2015, fig. 3)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from lstmkit.errors import ShapeError


def plot_alignment(weights, source_tokens, target_tokens, title: str = "Attention") -> Figure:
    """Attention weights (T, S): row t the distribution over the S source tokens (columns) while the decoder wrote
    target token t (rows); darker is more weight."""
    weights = np.asarray(weights, dtype=float)
    if weights.ndim != 2 or weights.shape != (len(target_tokens), len(source_tokens)):
        raise ShapeError(
            f"expected weights of shape ({len(target_tokens)}, {len(source_tokens)}) (target x source tokens), got "
            f"{weights.shape}"
        )
    S, T = len(source_tokens), len(target_tokens)
    figure = Figure(figsize=(max(3.5, 0.45 * S + 1.5), max(3.0, 0.4 * T + 1.2)), layout="constrained")
    axes = figure.subplots()
    image = axes.imshow(weights, cmap="Greys", vmin=0.0, vmax=1.0, aspect="auto")
    axes.set_xticks(range(S), [str(t) for t in source_tokens], rotation=60, ha="right")
    axes.set_yticks(range(T), [str(t) for t in target_tokens])
    axes.set_xlabel("source")
    axes.set_ylabel("translation")
    axes.set_title(title)
    figure.colorbar(image, ax=axes, shrink=0.8, label="weight")
    return figure
