"""Task metrics: point-forecast errors as the M4 competition defines them (and the baselines they are compared
with), classification accuracy and macro F1."""

from __future__ import annotations

import numpy as np


def mae(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(np.asarray(actual) - np.asarray(forecast))))


def rmse(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Root mean squared error."""
    return float(np.sqrt(np.mean((np.asarray(actual) - np.asarray(forecast)) ** 2)))


def smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Symmetric MAPE in percent: 200/h * sum |y - f| / (|y| + |f|) (terms with y = f = 0 count 0)."""
    actual, forecast = np.asarray(actual, float), np.asarray(forecast, float)
    denominator = np.abs(actual) + np.abs(forecast)
    terms = np.divide(2 * np.abs(actual - forecast), denominator, out=np.zeros_like(denominator), where=denominator > 0)
    return float(100 * np.mean(terms))


def mase(actual: np.ndarray, forecast: np.ndarray, insample: np.ndarray, period: int = 1) -> float:
    """MAE scaled by the in-sample MAE of the seasonal-naive forecast: mean |y_t - y_{t-m}| over the history."""
    insample = np.asarray(insample, float)
    if len(insample) <= period:
        raise ValueError(f"MASE needs more than {period} in-sample values, got {len(insample)}")
    scale = np.mean(np.abs(insample[period:] - insample[:-period]))
    return float(mae(actual, forecast) / scale) if scale > 0 else float("nan")


def all_metrics(actual, forecast, insample, period: int) -> dict[str, float]:
    return {
        "MAE": mae(actual, forecast),
        "RMSE": rmse(actual, forecast),
        "sMAPE": smape(actual, forecast),
        "MASE": mase(actual, forecast, insample, period),
    }


def naive_forecast(history: np.ndarray, horizon: int) -> np.ndarray:
    """The last value, repeated."""
    return np.full(horizon, float(np.asarray(history)[-1]))


def seasonal_naive_forecast(history: np.ndarray, horizon: int, period: int) -> np.ndarray:
    """The value one season earlier: f_{T+j} = y_{T+j-m*ceil(j/m)} (the naive forecast when m = 1)."""
    history = np.asarray(history, float)
    last_season = history[-period:]
    return np.array([last_season[j % period] for j in range(horizon)])


def classification_scores(actual, predicted) -> dict[str, float]:
    """Accuracy and macro-averaged F1 (every class weighs the same, however rare), as scikit-learn computes them."""
    from sklearn.metrics import accuracy_score, f1_score

    return {
        "accuracy": float(accuracy_score(actual, predicted)),
        "macro_f1": float(f1_score(actual, predicted, average="macro", zero_division=0)),
    }
