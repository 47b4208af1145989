"""The forecast figures plot exactly the values they are given."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd

from lstmkit.viz import plot_backtest, plot_forecast, plot_training_curves


def test_forecast_figure_draws_history_median_interval_and_actual():
    index = pd.date_range("2000-01-01", periods=10, freq="MS")
    history = pd.Series(np.arange(6.0), index=index[:6], name="sales")
    forecast = pd.DataFrame(
        {"forecast": [6.0, 7, 8, 9], "lower": [5.0, 6, 7, 8], "upper": [7.0, 8, 9, 10]}, index=index[6:]
    )
    actual = pd.Series([6.5, 7.5, 8.5, 9.5], index=index[6:])
    figure = plot_forecast(history, forecast, actual, title="T")
    axes = figure.axes[0]
    lines = {line.get_label(): line for line in axes.get_lines()}
    np.testing.assert_array_equal(lines["history"].get_ydata(), history.to_numpy())
    np.testing.assert_array_equal(lines["LSTM forecast (median)"].get_ydata(), forecast["forecast"].to_numpy())
    np.testing.assert_array_equal(lines["actual"].get_ydata(), actual.to_numpy())
    band = axes.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == 5.0 and band.max() == 10.0
    assert axes.get_ylabel() == "sales" and axes.get_title() == "T"


def test_backtest_figure_bars_are_the_scores():
    scores = pd.DataFrame(
        {
            "fold": [1, 1, 2, 2],
            "model": ["lstm", "naive"] * 2,
            "sMAPE": [5.0, 9.0, 6.0, 8.0],
            "MASE": [0.9, 1.5, 1.0, 1.4],
        }
    )
    figure = plot_backtest(scores)
    heights = [bar.get_height() for bar in figure.axes[0].patches]
    assert heights == [5.0, 6.0, 9.0, 8.0]
    assert [bar.get_height() for bar in figure.axes[1].patches] == [0.9, 1.0, 1.5, 1.4]


def test_training_curves_plot_both_losses():
    history = [{"epoch": 1, "train_loss": 1.0, "val_loss": 2.0}, {"epoch": 2, "train_loss": 0.5, "val_loss": 1.5}]
    axes = plot_training_curves(history).axes[0]
    assert [list(line.get_ydata()) for line in axes.get_lines()] == [[1.0, 0.5], [2.0, 1.5]]
