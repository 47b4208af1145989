"""What a forecasting user would pick instead, scored beside the LSTM on the same folds.

Naive (the last value) and seasonal naive always; ETS and ARIMA with automatic order selection from
statsforecast (``pip install "lstmkit[stats]"``, imported lazily) whenever it is installed: ``AutoETS``
(error, trend and season chosen by AICc, damped trends included) and ``AutoARIMA`` (Hyndman-Khandakar
stepwise search), both with ``season_length`` = the seasonal period. A seasonal ARIMA with a long season
(weekly data: 52) takes minutes to search, so for periods above ``LONG_SEASON`` the ARIMA is a dynamic
harmonic regression instead (Hyndman & Athanasopoulos, fpp3 section 12.1): a non-seasonal AutoARIMA on the
errors of a regression on ``FOURIER_TERMS`` sine and cosine pairs of the season, known over the horizon.
"""

from __future__ import annotations

import importlib.util

import numpy as np

from lstmkit.tasks.metrics import naive_forecast, seasonal_naive_forecast

STATISTICAL = ("ets", "arima")
LONG_SEASON = 24  # above it, the ARIMA baseline models the season with Fourier terms
FOURIER_TERMS = 5
NAMES = {
    "lstm": "LSTM (lstmkit)",
    "naive": "naive (last value)",
    "seasonal_naive": "seasonal naive",
    "ets": "ETS (statsforecast AutoETS)",
    "arima": "ARIMA (statsforecast AutoARIMA)",
}


class BaselineError(Exception):
    """A statistical baseline that cannot be fitted to this history (statsforecast refuses it, or its forecast is
    not finite): the backtest leaves it out and says why."""


def statistical_available() -> bool:
    """Whether statsforecast is installed (the ``stats`` extra)."""
    return importlib.util.find_spec("statsforecast") is not None


def baseline_names() -> tuple[str, ...]:
    """The baselines a backtest scores here: naive and seasonal naive, then ETS and ARIMA with the extra."""
    return ("naive", "seasonal_naive", *(STATISTICAL if statistical_available() else ()))


def baseline_forecast(name: str, history: np.ndarray, horizon: int, period: int) -> np.ndarray:
    """The ``horizon``-step point forecast of baseline ``name`` fitted on ``history`` (T,)."""
    history = np.asarray(history, dtype=float)
    if name == "naive":
        return naive_forecast(history, horizon)
    if name == "seasonal_naive":
        return seasonal_naive_forecast(history, horizon, period)
    from statsforecast.models import AutoARIMA, AutoETS

    try:
        if name == "arima" and period > LONG_SEASON:
            steps = np.arange(len(history) + horizon)
            terms = fourier_terms(steps, period, min(FOURIER_TERMS, period // 2))
            forecast = AutoARIMA(season_length=1).forecast(
                y=history, h=horizon, X=terms[: len(history)], X_future=terms[len(history) :]
            )
        else:
            model = {"ets": AutoETS, "arima": AutoARIMA}[name](season_length=period)
            forecast = model.forecast(y=history, h=horizon)
    except (NotImplementedError, ValueError, ArithmeticError, np.linalg.LinAlgError) as error:
        raise BaselineError(f"{NAMES[name]} cannot fit {len(history)} values: {error}") from None
    values = np.asarray(forecast["mean"], dtype=float)
    if not np.isfinite(values).all():
        raise BaselineError(f"{NAMES[name]} gave a forecast that is not finite on {len(history)} values")
    return values


def fourier_terms(steps: np.ndarray, period: int, pairs: int) -> np.ndarray:
    """(len(steps), 2 * pairs): sin(2 pi k t / m) and cos(2 pi k t / m) for k = 1..pairs, t = steps, m = period."""
    angles = 2 * np.pi * np.outer(steps, np.arange(1, pairs + 1)) / period
    return np.column_stack([np.sin(angles), np.cos(angles)])
