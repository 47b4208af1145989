"""The gate, saturation, hidden-state and gradient-flow figures show exactly the trace's values."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch

from lstmkit import nn as lnn
from lstmkit.viz import plot_gates, plot_gradient_flow, plot_hidden_states, plot_saturation
from lstmkit.viz.report import figure_png, html_report


@pytest.fixture(scope="module")
def trace():
    torch.manual_seed(0)
    layer = lnn.LSTM(3, 5, num_layers=2, bidirectional=True)
    _, _, trace = layer(torch.randn(8, 2, 3), lengths=[8, 6], return_gates=True)
    return trace


def test_heatmaps_hold_the_trace_values_units_by_time(trace):
    figure = plot_gates(trace, layer=1, direction=1, sample=1, inputs="abcdef", units=slice(1, 4))
    panels = [axes for axes in figure.axes if axes.get_images()]
    assert [axes.get_title(loc="left") for axes in panels] == [
        "input gate i",
        "forget gate f",
        "candidate g",
        "output gate o",
        "cell state c",
        "hidden state h",
    ]
    values = trace.layer(1, 1)
    for axes, part in zip(panels, ["i", "f", "g", "o", "c", "h"], strict=True):
        shown = np.asarray(axes.get_images()[0].get_array())
        np.testing.assert_array_equal(shown, values[part][:6, 1, 1:4].T)  # 6 valid steps of sequence 1
    gate_image, cell_image = panels[0].get_images()[0], panels[4].get_images()[0]
    assert gate_image.get_clim() == (0.0, 1.0)
    low, high = cell_image.get_clim()
    assert low == -high  # diverging, centred at 0
    texts = [text.get_text() for text in figure.axes[0].texts]
    assert texts == list("abcdef")


def test_saturation_is_the_share_of_time_beyond_the_thresholds(trace):
    saturation = trace.saturation(0, 0)
    f = trace.layer(0, 0)["f"]
    valid = trace.mask
    expected_left = ((f < 0.1) & valid[..., None]).sum((0, 1)) / valid.sum()
    np.testing.assert_allclose(saturation["f"][0], expected_left)
    figure = plot_saturation(trace, 0, 0)
    points = figure.axes[1].collections[0].get_offsets()
    np.testing.assert_allclose(points, np.column_stack(saturation["f"]))


def test_hidden_states_and_gradient_flow_figures():
    h = {"LSTM": np.arange(12.0).reshape(4, 3) - 5, "RNN": np.ones((4, 3))}
    figure = plot_hidden_states(h, inputs=np.arange(4.0))
    images = [axes.get_images()[0] for axes in figure.axes if axes.get_images()]
    np.testing.assert_array_equal(np.asarray(images[0].get_array()), h["LSTM"].T)
    curves = {"LSTM": np.array([1e-3, 1e-2, 1e-1]), "RNN": np.array([1e-30, 1e-10, 1e-1])}
    figure = plot_gradient_flow(curves, {"LSTM": np.array([1.0, 2.0, 3.0])})
    assert figure.axes[0].get_yscale() == "log"
    lines = figure.axes[0].get_lines()
    np.testing.assert_array_equal(lines[1].get_ydata(), curves["RNN"])
    assert figure.axes[1].get_title() == "cell state"


def test_report_is_self_contained_html():
    from html.parser import HTMLParser

    page = html_report(
        "R & D",
        [("Metrics", [{"model": "lstm", "MAE": 1.23456}], [figure_png(plot_hidden_states({"a": np.ones((3, 2))}))])],
    )
    tags = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.append((tag, dict(attrs)))

    Collector().feed(page)
    images = [attrs["src"] for tag, attrs in tags if tag == "img"]
    assert len(images) == 1 and images[0].startswith("data:image/png;base64,")
    assert "<title>R &amp; D</title>" in page and "<td>1.235</td>" in page
    assert "http://" not in page and "https://" not in page
    assert not any(tag in ("script", "link") for tag, _ in tags)
