"""The classifier figures draw exactly the counts and weights they are given."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np

from lstmkit.viz import plot_attention, plot_confusion_matrix


def test_confusion_matrix_writes_every_count_and_shades_by_recall():
    matrix = np.array([[8, 2, 0], [1, 9, 0], [0, 5, 5]])
    figure = plot_confusion_matrix(matrix, ["walk", "run", "sit"])
    axes = figure.axes[0]
    texts = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in axes.texts}
    assert texts == {(i, j): str(matrix[i, j]) for i in range(3) for j in range(3)}
    shading = axes.images[0].get_array()
    np.testing.assert_allclose(shading, matrix / matrix.sum(axis=1, keepdims=True))
    assert [t.get_text() for t in axes.get_yticklabels()] == ["walk", "run", "sit"]


def test_attention_bars_are_the_weights_with_their_tokens():
    weights = np.array([0.1, 0.6, 0.3])
    figure = plot_attention(weights, tokens=["not", "bad", "!"])
    axes = figure.axes[0]
    np.testing.assert_allclose([bar.get_height() for bar in axes.patches], weights)
    assert [t.get_text() for t in axes.get_xticklabels()] == ["not", "bad", "!"]
