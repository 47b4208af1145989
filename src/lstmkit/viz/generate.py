"""Pictures of generative models: a piano roll, and a text coloured by what one cell of a language model holds
(Karpathy, Johnson & Fei-Fei 2015, fig. 2: a cell that tracks quotes, line length or indentation)."""

from __future__ import annotations

import html

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import Normalize, to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from lstmkit.errors import ShapeError

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
LOWEST_NOTE = 21  # piano-roll column 0: A0 (MIDI 21)
COLOURS = "RdBu_r"  # blue: negative, red: positive, white: zero


def note_name(midi: int) -> str:
    """MIDI note number -> its name with the octave (60 -> C4)."""
    return f"{NOTE_NAMES[midi % 12]}{midi // 12 - 1}"


def plot_piano_roll(roll, title: str = "Piano roll") -> Figure:
    """A (T, 88) roll (column i: MIDI note 21 + i) drawn as time across, pitch up, over the keys it uses."""
    roll = np.asarray(roll)
    if roll.ndim != 2 or roll.shape[1] != 88:
        raise ShapeError(f"expected a piano roll of shape (T, 88), got {roll.shape}")
    used = np.flatnonzero(roll.any(axis=0))
    low, high = (used.min(), used.max()) if len(used) else (39, 51)  # an empty roll: the octave above middle C
    figure = Figure(figsize=(max(5.0, 0.12 * len(roll) + 1.5), 4.0), layout="constrained")
    axes = figure.subplots()
    axes.imshow(
        roll[:, low : high + 1].T,
        origin="lower",
        aspect="auto",
        cmap="Greys",
        vmin=0,
        vmax=1,
        interpolation="nearest",
        extent=(-0.5, len(roll) - 0.5, low - 0.5, high + 0.5),
    )
    ticks = [k for k in range(low, high + 1) if (k + LOWEST_NOTE) % 12 == 0] or [low]
    axes.set_yticks(ticks, [note_name(k + LOWEST_NOTE) for k in ticks])
    axes.set_xlabel("step (a quarter note)")
    axes.set_ylabel("pitch")
    axes.set_title(title)
    return figure


def _colours(values: np.ndarray) -> list[str]:
    """A colour per value, on a scale symmetric about 0 (the largest magnitude at full strength)."""
    scale = float(np.abs(values).max()) or 1.0
    colormap = colormaps[COLOURS]
    return [to_hex(colormap(Normalize(-scale, scale)(v))) for v in values]


def _check_text(text: str, values) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    if values.shape != (len(text),):
        raise ShapeError(f"expected one value per character ({len(text)},), got {values.shape}")
    return values


def plot_text_activation(text: str, values, title: str = "", columns: int = 80) -> Figure:
    """``text`` drawn character by character on a grid, each on the colour of its value (blue negative, red
    positive); line breaks start a new row, long lines wrap at ``columns``."""
    values = _check_text(text, values)
    colours = _colours(values)
    cells, row, column = [], 0, 0
    for k, character in enumerate(text):
        if character == "\n" or column == columns:
            row, column = row + 1, 0
            if character == "\n":
                continue
        cells.append((row, column, character, colours[k]))
        column += 1
    rows = row + 1
    figure = Figure(figsize=(0.11 * columns + 0.4, 0.2 * rows + 0.6), layout="constrained")
    axes = figure.subplots()
    for row, column, character, colour in cells:
        axes.add_patch(Rectangle((column, -row - 1), 1, 1, color=colour, linewidth=0))
        axes.text(column + 0.5, -row - 0.5, character, ha="center", va="center", family="monospace", fontsize=8)
    axes.set_xlim(0, columns)
    axes.set_ylim(-rows, 0)
    axes.set_axis_off()
    axes.set_title(title)
    return figure


def text_activation_html(text: str, values) -> str:
    """``text`` as an HTML fragment, each character on the colour of its value (for ``viz.report.html_report``)."""
    values = _check_text(text, values)
    spans = [
        f'<span style="background:{colour}" title="{value:.3f}">{html.escape(character)}</span>'
        if character != "\n"
        else "<br>"
        for character, value, colour in zip(text, values, _colours(values), strict=True)
    ]
    return '<p style="font-family:monospace;white-space:pre-wrap;line-height:1.6">' + "".join(spans) + "</p>"
