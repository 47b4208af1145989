"""Inside the cell: gate heatmaps, gate saturation, hidden-state pictures and measured gradient flow."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from lstmkit.trace import GateTrace

GATE_NAMES = {
    "i": "input gate i",
    "f": "forget gate f",
    "g": "candidate g",
    "o": "output gate o",
    "r": "reset gate r",
    "z": "update gate z",
    "n": "candidate n",
    "c": "cell state c",
    "h": "hidden state h",
}
BOUNDED = {"i", "f", "o", "r", "z"}  # sigmoid gates: 0..1


def _input_panel(axes, inputs, T: int) -> None:
    """The input over the same time axis: characters for text, a line (or lines) for numbers."""
    if isinstance(inputs, str):
        axes.set_xlim(-0.5, T - 0.5)
        for t, char in enumerate(inputs[:T]):
            axes.text(t, 0.5, repr(char)[1:-1], ha="center", va="center", fontsize=8, family="monospace")
        axes.set_yticks([])
    else:
        values = np.asarray(inputs, dtype=float).reshape(T, -1)
        if values.shape[1] <= 8:
            for column in range(values.shape[1]):
                axes.plot(np.arange(T), values[:, column], linewidth=1)
            axes.set_xlim(-0.5, T - 0.5)
        else:
            axes.imshow(values.T, aspect="auto", cmap="Greys", interpolation="nearest")
        axes.set_ylabel("input")
    axes.set_title("input")


def plot_gates(
    trace: GateTrace,
    layer: int = -1,
    direction: int = 0,
    sample: int = 0,
    inputs=None,
    units: slice | Sequence[int] = slice(None),
    parts: Sequence[str] | None = None,
) -> Figure:
    """Heatmaps (units x time) of every gate, c and h of one sequence, with the input above.

    Gates on a fixed 0..1 scale; c, h and candidates on a diverging scale centred at 0. ``inputs``:
    the sequence's input, (T,) or (T, C) numbers or a string of T characters.
    """
    values, valid = trace.layer(layer, direction), trace.mask[:, sample]
    T = int(valid.sum())
    parts = list(parts or [*trace.gates, *(["c"] if "c" in values else []), "h"])
    rows = len(parts) + (inputs is not None)
    figure = Figure(figsize=(11, 1.3 + 1.5 * rows), layout="constrained")
    panels = figure.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    if inputs is not None:
        _input_panel(panels[0], inputs, T)
    for axes, part in zip(panels[inputs is not None :], parts, strict=True):
        data = values[part][:T, sample][:, units].T  # (units, T)
        if part in BOUNDED:
            image = axes.imshow(data, aspect="auto", cmap="viridis", vmin=0.0, vmax=1.0, interpolation="nearest")
        else:
            limit = max(float(np.abs(data).max()), 1e-6)
            image = axes.imshow(
                data, aspect="auto", cmap="RdBu_r", norm=TwoSlopeNorm(0.0, -limit, limit), interpolation="nearest"
            )
        axes.set_title(GATE_NAMES.get(part, part), loc="left", fontsize=10)
        axes.set_ylabel("unit")
        figure.colorbar(image, ax=axes, pad=0.01, fraction=0.03)
    panels[-1].set_xlabel("time step t")
    where = f"layer {layer % trace.num_layers}" + (", backward direction" if direction else "")
    figure.suptitle(f"{trace.kind}: gates and states over time ({where}, sequence {sample})")
    return figure


def plot_saturation(trace: GateTrace, layer: int = -1, direction: int = 0) -> Figure:
    """Per gate, each unit's share of time left-saturated (< 0.1) against right-saturated (> 0.9)."""
    saturation = trace.saturation(layer, direction)
    figure = Figure(figsize=(3.2 * len(saturation) + 0.5, 3.6), layout="constrained")
    panels = figure.subplots(1, len(saturation), squeeze=False)[0]
    for axes, (gate, (left, right)) in zip(panels, saturation.items(), strict=True):
        axes.plot([0, 1], [1, 0], color="0.8", linewidth=1)
        axes.scatter(left, right, s=14, alpha=0.7)
        axes.set_xlim(0, 1)
        axes.set_ylim(0, 1)
        axes.set_aspect("equal")
        axes.set_title(GATE_NAMES.get(gate, gate), fontsize=10)
        axes.set_xlabel("fraction of time < 0.1")
    panels[0].set_ylabel("fraction of time > 0.9")
    figure.suptitle(f"{trace.kind}: gate saturation per unit (Karpathy et al. 2015)")
    return figure


def plot_hidden_states(states: dict[str, np.ndarray], inputs=None, title: str = "Hidden states") -> Figure:
    """Heatmaps (units x time) of the hidden states of several models on the same sequence: {name: (T, H)}."""
    T = len(next(iter(states.values())))
    rows = len(states) + (inputs is not None)
    figure = Figure(figsize=(11, 1.3 + 1.7 * rows), layout="constrained")
    panels = figure.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    if inputs is not None:
        _input_panel(panels[0], inputs, T)
    for axes, (name, h) in zip(panels[inputs is not None :], states.items(), strict=True):
        limit = max(float(np.abs(h).max()), 1e-6)
        image = axes.imshow(
            np.asarray(h).T,
            aspect="auto",
            cmap="RdBu_r",
            norm=TwoSlopeNorm(0.0, -limit, limit),
            interpolation="nearest",
        )
        axes.set_title(f"{name}: hidden state h", loc="left", fontsize=10)
        axes.set_ylabel("unit")
        figure.colorbar(image, ax=axes, pad=0.01, fraction=0.03)
    panels[-1].set_xlabel("time step t")
    figure.suptitle(title)
    return figure


def plot_gradient_flow(
    curves: dict[str, np.ndarray],
    cell_curves: dict[str, np.ndarray] | None = None,
    title: str = "Gradient flow, measured by backprop",
) -> Figure:
    """||dL/dh_t|| (and ||dL/dc_t||) against t for several models, on a log scale: {name: (T,)}."""
    panels_wanted = 1 + bool(cell_curves)
    figure = Figure(figsize=(6 * panels_wanted, 4), layout="constrained")
    panels = figure.subplots(1, panels_wanted, squeeze=False)[0]
    for axes, (data, label) in zip(panels, ((curves, "||dL/dh_t||"), (cell_curves, "||dL/dc_t||")), strict=False):
        for name, norms in data.items():
            axes.semilogy(np.arange(len(norms)), np.maximum(norms, 1e-45), label=name, linewidth=1.6)
        axes.set_xlabel("time step t (the loss is at the last step)")
        axes.set_ylabel(label + " (mean over sequences)")
        axes.grid(alpha=0.3, which="both")
        axes.legend()
    panels[0].set_title("hidden state")
    if cell_curves:
        panels[1].set_title("cell state")
    figure.suptitle(title)
    return figure


def plot_cell_states(
    states: dict[str, np.ndarray], title: str = "Cell states over a stream", ylabel: str = "cell state c_t"
) -> Figure:
    """Every unit's state against t, one panel per net: {name: (T, H)}; panels share the time axis, each keeps
    its own scale (a cell that never forgets can reach values far beyond the others')."""
    figure = Figure(figsize=(10, 2.6 * len(states)), layout="constrained")
    panels = figure.subplots(len(states), 1, squeeze=False, sharex=True)[:, 0]
    for axes, (name, values) in zip(panels, states.items(), strict=True):
        values = np.asarray(values, dtype=float)
        axes.plot(np.arange(len(values)), values, linewidth=0.7)
        axes.set_title(f"{name}: largest |c| {np.abs(values).max():.1f}")
        axes.set_ylabel(ylabel)
        axes.grid(alpha=0.3)
    panels[-1].set_xlabel("time step t")
    figure.suptitle(title)
    return figure


def plot_comparison(
    scores: dict[str, dict[str, list[float]]],
    labels: dict[str, tuple[str, bool]],
    title: str = "The cell family on equal terms",
) -> Figure:
    """One panel per task: each variant's mean score over seeds as a bar, the seeds as dots, the spread (sample
    sd) as an error bar. ``scores``: task -> variant -> per-seed scores; ``labels``: task -> (what the score is,
    whether higher is better)."""
    height = 0.45 * max(len(v) for v in scores.values()) + 1.8
    figure = Figure(figsize=(4.2 * len(scores), height), layout="constrained")
    panels = figure.subplots(1, len(scores), squeeze=False)[0]
    for axes, (task, by_variant) in zip(panels, scores.items(), strict=True):
        names = list(by_variant)
        values = [np.asarray(by_variant[name], dtype=float) for name in names]
        means = [v.mean() for v in values]
        spreads = [v.std(ddof=1) if len(v) > 1 else 0.0 for v in values]
        rows = np.arange(len(names))
        axes.barh(rows, means, xerr=spreads, color="#9ecae1", edgecolor="#3182bd", capsize=3)
        for row, v in zip(rows, values, strict=True):
            axes.plot(v, np.full(len(v), row), "o", color="#08519c", markersize=3)
        axes.set_yticks(rows, names if axes is panels[0] else [""] * len(names))
        axes.invert_yaxis()
        what, higher = labels[task]
        axes.set_title(task)
        axes.set_xlabel(f"{what} ({'higher' if higher else 'lower'} is better)")
        axes.grid(alpha=0.3, axis="x")
    figure.suptitle(title)
    return figure
