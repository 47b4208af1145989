"""The alignment picture draws the attention matrix it is given, labelled by both sentences' tokens."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from lstmkit.errors import ShapeError
from lstmkit.viz import plot_alignment


def test_the_alignment_is_the_weights_with_source_columns_and_target_rows():
    weights = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.0, 0.0, 1.0]])
    figure = plot_alignment(weights, ["i", "am", "cold"], ["j'ai", "froid", "<eos>"])
    axes = figure.axes[0]
    np.testing.assert_allclose(axes.images[0].get_array(), weights)
    assert [t.get_text() for t in axes.get_xticklabels()] == ["i", "am", "cold"]
    assert [t.get_text() for t in axes.get_yticklabels()] == ["j'ai", "froid", "<eos>"]
    with pytest.raises(
        ShapeError, match=r"expected weights of shape \(2, 3\) \(target x source tokens\), got \(3, 3\)"
    ):
        plot_alignment(weights, ["i", "am", "cold"], ["a", "b"])
