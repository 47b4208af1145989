"""Forecast, backtest and training-curve figures."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure


def plot_forecast(
    history: pd.Series,
    forecast: pd.DataFrame,
    actual: pd.Series | None = None,
    title: str = "Forecast",
    level: str = "80%",
) -> Figure:
    """The history, the forecast (median) with its interval (``lower``..``upper``), and the actual values if known."""
    figure = Figure(figsize=(10, 4.5), layout="constrained")
    axes = figure.subplots()
    axes.plot(history.index, history.to_numpy(), color="0.25", linewidth=1.4, label="history")
    axes.fill_between(
        forecast.index, forecast["lower"], forecast["upper"], color="tab:blue", alpha=0.25, label=f"{level} interval"
    )
    axes.plot(forecast.index, forecast["forecast"], color="tab:blue", linewidth=2, label="LSTM forecast (median)")
    if actual is not None:
        axes.plot(actual.index, actual.to_numpy(), color="tab:orange", linewidth=1.4, linestyle="--", label="actual")
    axes.set_title(title)
    axes.set_xlabel(history.index.name or "time")
    axes.set_ylabel(history.name or "value")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left")
    return figure


def plot_backtest(scores: pd.DataFrame, metrics: tuple[str, ...] = ("sMAPE", "MASE")) -> Figure:
    """Per fold, each model's error, one panel per metric (lower is better)."""
    figure = Figure(figsize=(10, 4), layout="constrained")
    panels = figure.subplots(1, len(metrics))
    panels = panels if len(metrics) > 1 else [panels]
    models = list(dict.fromkeys(scores["model"]))
    folds = sorted(scores["fold"].unique())
    width = 0.8 / len(models)
    for axes, metric in zip(panels, metrics, strict=True):
        for k, model in enumerate(models):
            rows = scores[scores["model"] == model].set_index("fold").loc[folds]
            axes.bar([f + (k - (len(models) - 1) / 2) * width for f in folds], rows[metric], width, label=model)
        axes.set_xticks(folds, [f"fold {f}" for f in folds])
        axes.set_ylabel(metric + (" (%)" if metric == "sMAPE" else ""))
        axes.set_title(f"Backtest {metric} by fold (lower is better)")
        axes.grid(axis="y", alpha=0.3)
    panels[0].legend()
    return figure


def plot_training_curves(history: list[dict], title: str = "Training") -> Figure:
    """Train and validation loss per epoch from a Trainer's ``history_``."""
    figure = Figure(figsize=(7, 4), layout="constrained")
    axes = figure.subplots()
    epochs = [row["epoch"] for row in history]
    axes.plot(epochs, [row["train_loss"] for row in history], label="train")
    if history and "val_loss" in history[0]:
        axes.plot(epochs, [row["val_loss"] for row in history], label="validation")
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss")
    axes.set_yscale("log")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend()
    return figure
