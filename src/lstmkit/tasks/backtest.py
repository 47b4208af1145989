"""Rolling-origin backtest: refit at each origin, forecast the next horizon, score against the baselines.

Fold k of K has its origin at T - (K - k) * horizon: it trains on everything before the origin and
forecasts the ``horizon`` steps after it, so the folds' forecast windows tile the end of the series
without overlap. The baselines (naive, seasonal naive, and ETS and ARIMA when statsforecast is installed;
``lstmkit.tasks.forecast_baselines``) are scored on the same folds, with MASE scaled by each fold's own
in-sample seasonal-naive error (as in the M4 competition).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone

from lstmkit.errors import DataError, ParameterError
from lstmkit.files import write_atomically
from lstmkit.tasks.forecast_baselines import BaselineError, baseline_forecast, baseline_names
from lstmkit.tasks.forecaster import Forecaster
from lstmkit.tasks.metrics import all_metrics


@dataclass
class BacktestResult:
    scores: pd.DataFrame  # one row per (fold, model): MAE, RMSE, sMAPE, MASE
    forecasts: pd.DataFrame  # one row per forecast step: fold, actual, lstm, lower, upper, then each baseline
    models: tuple[str, ...]  # "lstm", then the baselines scored
    skipped: dict[str, str] = field(default_factory=dict)  # baseline -> why it could not be fitted (e.g. too short)

    def summary(self) -> pd.DataFrame:
        """Each model's metrics averaged over the folds, in ``models`` order."""
        return self.scores.groupby("model").mean(numeric_only=True).drop(columns="fold").loc[list(self.models)]


def _fold(template: Forecaster, frame: pd.DataFrame, origin: int, workdir: Path | None) -> pd.DataFrame:
    """The LSTM's forecast of the ``horizon`` steps after ``origin``, fitted on the rows before it; the future
    covariates' actual values are given to it (they are known in advance by definition)."""
    horizon = template.horizon
    forecaster = clone(template)
    forecaster.fit(frame.iloc[:origin], checkpoint_dir=None if workdir is None else workdir / "checkpoint")
    future = frame.iloc[origin : origin + horizon][list(template.future_covariates)]
    predicted = forecaster.predict(horizon, future=future if template.future_covariates else None)
    return pd.DataFrame(
        {
            "actual": frame.iloc[origin : origin + horizon, 0].to_numpy(),
            "lstm": predicted["forecast"].to_numpy(),
            "lower": predicted["lower"].to_numpy(),
            "upper": predicted["upper"].to_numpy(),
        },
        index=frame.index[origin : origin + horizon],
    )


FOLD_COLUMNS = ("actual", "lstm", "lower", "upper")  # what a fold keeps on disk; the baselines are recomputed


def _read_fold(file: Path, index: pd.Index) -> pd.DataFrame:
    """A finished fold's forecasts as written by ``backtest``; a DataError naming the file if they are not."""
    try:
        payload = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(f"{file}: not a readable JSON file ({error}); delete it to redo the fold") from None
    ok = isinstance(payload, dict) and set(payload) == set(FOLD_COLUMNS)
    ok = ok and all(
        isinstance(v, list) and len(v) == len(index) and all(isinstance(x, int | float) for x in v)
        for v in payload.values()
    )
    if not ok:
        raise DataError(
            f"{file}: expected {len(index)} numbers under each of {', '.join(FOLD_COLUMNS)}; delete it to redo the fold"
        )
    return pd.DataFrame(payload, index=index)[list(FOLD_COLUMNS)]


def backtest(
    template: Forecaster,
    series,
    folds: int = 3,
    workdir: str | Path | None = None,
    on_fold: Callable[[int], None] | None = None,
) -> BacktestResult:
    """Backtest ``template``'s settings on ``series`` over ``folds`` rolling origins.

    With ``workdir``, each finished fold's forecasts are kept there (and the fold in progress checkpoints
    there), so an interrupted backtest resumes where it stopped and ends as an uninterrupted one would.
    """
    if folds < 1:
        raise ParameterError(f"expected folds >= 1, got {folds}")
    template.check_params()
    prepared = template.prepare(series)
    frame, lookback, period, horizon = prepared.frame, prepared.lookback, prepared.seasonal_period, template.horizon
    first_origin = len(frame) - folds * horizon
    needed = lookback + horizon + 1
    if first_origin < needed + period:
        raise DataError(
            f"the series has {len(frame)} rows; {folds} folds of horizon {horizon} need at least "
            f"{needed + period + folds * horizon}"
        )
    origins = [first_origin + k * horizon for k in range(folds)]
    baselines, skipped = {}, {}
    for name in baseline_names():  # every fold's baselines first: one that cannot fit a fold is left out whole
        try:
            baselines[name] = [baseline_forecast(name, frame.iloc[:o, 0].to_numpy(), horizon, period) for o in origins]
        except BaselineError as error:
            skipped[name] = str(error)
    models = ("lstm", *baselines)
    pieces, scores = [], []
    for k, origin in enumerate(origins):
        fold_dir = None if workdir is None else Path(workdir) / f"fold{k + 1}"
        done = None if fold_dir is None else fold_dir / "forecasts.json"
        if done is not None and done.exists():  # a fold finished before an interruption
            forecasts = _read_fold(done, frame.index[origin : origin + horizon])
        else:
            forecasts = _fold(template, frame, origin, fold_dir)
            if done is not None:  # Python's float repr round-trips exactly, so a resume scores the same numbers
                write_atomically(
                    done, json.dumps({c: forecasts[c].tolist() for c in forecasts.columns}, allow_nan=False)
                )
        insample = frame.iloc[:origin, 0].to_numpy()
        for name, forecast in baselines.items():
            forecasts[name] = forecast[k]
        for model in models:
            scores.append(
                {"fold": k + 1, "model": model}
                | all_metrics(forecasts["actual"].to_numpy(), forecasts[model].to_numpy(), insample, period)
            )
        pieces.append(forecasts.assign(fold=k + 1))
        if on_fold is not None:
            on_fold(k + 1)
    return BacktestResult(pd.DataFrame(scores), pd.concat(pieces), models, skipped)


def coverage(forecasts: pd.DataFrame) -> float:
    """The share of actual values inside [lower, upper]."""
    inside = (forecasts["actual"] >= forecasts["lower"]) & (forecasts["actual"] <= forecasts["upper"])
    return float(np.mean(inside))
