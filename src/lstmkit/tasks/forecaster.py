"""Forecaster: an LSTM forecaster with the practices most tutorials skip.

- Windows of ``lookback`` steps predict the next ``horizon`` steps directly (a multi-output head);
  beyond the trained horizon, ``predict`` rolls out recursively on its own medians (univariate only).
- Level normalization: each window is expressed relative to its last observed target value and scaled by
  the training part's mean absolute step, so the model forecasts changes and can follow a trend past
  the training range. Covariates are standardized with training-part statistics only.
- Chronological split: the last ``val_fraction`` of the windows validate (early stopping with the best
  weights restored); nothing from the validation part leaks into the scaling.
- Prediction intervals from quantile outputs: the head predicts the ``quantiles`` (default 0.1, 0.5,
  0.9) of each future step, trained with the pinball loss; the median is the point forecast and the
  outer quantiles bound the interval (80% by default), widened (or narrowed) by a conformal adjustment
  measured on the validation windows, since quantile heads fit on a few windows are overconfident.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from lstmkit.checks import check_choice, check_integer, check_number
from lstmkit.data.scaling import WindowScaling
from lstmkit.data.series import index_frequency, to_frame, to_numeric
from lstmkit.data.series import seasonal_period as infer_seasonal_period
from lstmkit.data.windows import make_windows
from lstmkit.errors import DataError, ParameterError, TrainingError
from lstmkit.tasks.base import SequenceEstimator
from lstmkit.tasks.losses import PinballLoss
from lstmkit.tasks.metrics import all_metrics
from lstmkit.tasks.modules import CELLS, QuantileNet


@dataclass(frozen=True)
class PreparedSeries:
    """A series read and checked for forecasting: the frame (target first) and the settled window sizes."""

    frame: pd.DataFrame
    lookback: int
    seasonal_period: int
    step: str | int  # the time step: a pandas frequency ("MS", "D", ...) for dates, the index step for integers


def prepare_series(
    series,
    target=None,
    time=None,
    fill: bool = False,
    *,
    horizon: int = 1,
    lookback: int | None = None,
    seasonal_period: int | None = None,
) -> PreparedSeries:
    """Read and check ``series`` as ``Forecaster.fit`` would (target first, numeric, sorted) and settle the
    lookback (default: two seasons, or 24 steps without seasonality, at least the horizon) and the seasonal
    period (default: from the index frequency). Every problem is a DataError, raised before anything is
    trained or written."""
    frame = to_numeric(
        to_frame(series, target, time),
        fill=fill,
        source=str(series) if isinstance(series, str | Path) else "the data",
    )
    source = str(series) if isinstance(series, str | Path) else "the data"
    step = time_step(frame.index, source)
    with np.errstate(over="ignore", invalid="ignore"):
        changes = np.diff(frame.to_numpy(), axis=0)
        scale = np.abs(frame.to_numpy()).max() ** 2
    if not np.isfinite(changes).all() or not np.isfinite(scale):
        raise DataError(
            f"{source}: values up to {np.abs(frame.to_numpy()).max():.3g} are too large to difference and square "
            "in float64; rescale the series (e.g. divide by a power of ten)"
        )
    period = seasonal_period or infer_seasonal_period(frame.index)
    lookback = lookback or max(2 * period if period > 1 else 24, horizon)
    needed = lookback + horizon + 1
    if len(frame) < needed:
        raise DataError(
            f"the series has {len(frame)} rows; lookback {lookback} + horizon {horizon} needs at "
            f"least {needed} (one window to train on and one to validate)"
        )
    return PreparedSeries(frame, lookback, period, step)


def time_step(index: pd.Index, source: str = "the data") -> str | int:
    """The series' time step, read once from its whole index: a DataError for dates at no regular frequency."""
    if isinstance(index, pd.DatetimeIndex):
        freq = index_frequency(index)
        if freq is None:
            gaps = pd.Series(index[1:] - index[:-1]).value_counts()
            raise DataError(
                f"{source}: cannot tell the time step of the dates (steps seen: "
                f"{', '.join(str(g) for g in gaps.index[:3])}); give dates at a regular frequency"
            )
        return freq.freqstr
    return int(index[1] - index[0]) if len(index) > 1 else 1


class Forecaster(SequenceEstimator):
    """Forecast a series from its past with an LSTM (scikit-learn style: ``fit`` then ``predict``).

    Fitted attributes: ``model_``, ``lookback_``, ``seasonal_period_``, ``scaling_``, ``columns_``,
    ``history_`` (the training history), ``tail_`` (the last rows, from which ``predict`` starts),
    ``insample_scale_`` (the in-sample seasonal-naive MAE, for MASE), ``interval_adjustment_`` (the
    conformal widening of the interval, in the series' units).
    """

    kind = "Forecaster"

    def __init__(
        self,
        horizon: int = 1,
        lookback: int | None = None,  # None: two seasons, or 24 steps without seasonality (at least the horizon)
        seasonal_period: int | None = None,  # None: inferred from the index frequency
        hidden_size: int = 32,
        num_layers: int = 1,
        dropout: float = 0.0,
        cell: str = "lstm",
        epochs: int = 300,
        batch_size: int = 16,
        lr: float = 3e-3,
        patience: int | None = 40,  # epochs without validation improvement before stopping
        val_fraction: float = 0.2,
        quantiles: tuple[float, ...] = (0.1, 0.5, 0.9),
        seed: int = 0,
        progress: bool | None = False,
    ):
        self.horizon = horizon
        self.lookback = lookback
        self.seasonal_period = seasonal_period
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.cell = cell
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.patience = patience
        self.val_fraction = val_fraction
        self.quantiles = quantiles
        self.seed = seed
        self.progress = progress

    def check_params(self) -> None:
        check_integer("horizon", self.horizon, 1)
        check_integer("lookback", self.lookback, 1, optional=True)
        check_integer("seasonal_period", self.seasonal_period, 1, optional=True)
        check_integer("hidden_size", self.hidden_size, 1)
        check_integer("num_layers", self.num_layers, 1)
        check_number("dropout", self.dropout, 0.0, 1.0, high_open=True)
        check_choice("cell", self.cell, CELLS)
        check_number("val_fraction", self.val_fraction, 0.0, 1.0, low_open=True, high_open=True)
        q = self.quantiles
        if (
            not isinstance(q, list | tuple)
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in q)
            or sorted(q) != list(q)
            or 0.5 not in q
            or not all(0 < v < 1 for v in q)
        ):
            raise ParameterError(f"expected increasing quantiles in (0, 1) that include 0.5, got {q!r}")
        self._check_training_params()

    @property
    def _median(self) -> int:
        return list(self.quantiles).index(0.5)

    # ---- fitting -----------------------------------------------------------------------------------

    def fit(
        self,
        series,
        target: str | None = None,
        time: str | None = None,
        fill: bool = False,
        checkpoint_dir: str | Path | None = None,
        callbacks=(),
    ) -> Forecaster:
        """Fit on ``series`` (a CSV path, Series, DataFrame or array; see ``lstmkit.data.series``).

        With ``checkpoint_dir``, training checkpoints go there and a run interrupted earlier resumes from them;
        ``callbacks`` go to the Trainer.
        """
        self.check_params()
        prepared = prepare_series(
            series,
            target,
            time,
            fill,
            horizon=self.horizon,
            lookback=self.lookback,
            seasonal_period=self.seasonal_period,
        )
        frame, self.lookback_, self.seasonal_period_ = prepared.frame, prepared.lookback, prepared.seasonal_period
        self.step_ = prepared.step
        values = frame.to_numpy()
        windows, targets = make_windows(values, self.lookback_, self.horizon)
        n_val = max(1, int(round(self.val_fraction * len(windows))))
        n_train = len(windows) - n_val
        if n_train < 1:
            raise DataError(
                f"the series has {len(frame)} rows: too few for lookback {self.lookback_}, horizon "
                f"{self.horizon} and a validation part"
            )
        self.scaling_ = WindowScaling.fit(values[: n_train + self.lookback_ + self.horizon - 1])
        x = torch.from_numpy(self.scaling_.inputs(windows))
        y = torch.from_numpy(((targets - windows[:, -1:, 0]) / self.scaling_.step).astype(np.float32))
        self.columns_ = [str(c) for c in frame.columns]
        torch.manual_seed(self.seed)
        model = self._build_model()
        trainer = self.train(
            model,
            PinballLoss(self.quantiles),
            (x[:n_train], y[:n_train]),
            (x[n_train:], y[n_train:]),
            checkpoint_dir,
            callbacks=callbacks,
        )
        self.model_, self.history_ = model, trainer.history_
        self.tail_ = frame.iloc[-self.lookback_ :]
        self.insample_scale_ = _seasonal_naive_mae(values[:, 0], self.seasonal_period_)
        self.interval_adjustment_ = 0.0
        self.interval_adjustment_ = self._conformal_adjustment(windows[n_train:], targets[n_train:])
        return self

    def _build_model(self) -> QuantileNet:
        return QuantileNet(
            input_size=len(self.columns_),
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            dropout=self.dropout,
            horizon=self.horizon,
            num_quantiles=len(self.quantiles),
            cell=self.cell,
        )

    # ---- forecasting -------------------------------------------------------------------------------

    def _conformal_adjustment(self, windows: np.ndarray, targets: np.ndarray) -> float:
        """How much to widen the interval so that it covers its nominal share of the validation windows.

        Conformalized quantile regression (Romano, Patterson & Candes 2019): with scores
        s = max(lower - y, y - upper) over every validation window and step, the adjustment is the
        ceil((1 - a)(n + 1))-th smallest score, a = the nominal miss rate (0.2 for quantiles 0.1 and 0.9).
        Negative when the raw interval is too wide.
        """
        bounds = self._quantiles(windows)  # (n, horizon, Q)
        scores = np.maximum(bounds[..., 0] - targets, targets - bounds[..., -1]).ravel()
        miss = 1.0 - (self.quantiles[-1] - self.quantiles[0])
        rank = int(np.ceil((1 - miss) * (len(scores) + 1)))
        return float(np.sort(scores)[min(rank, len(scores)) - 1])

    @torch.no_grad()
    def _quantiles(self, windows: np.ndarray) -> np.ndarray:
        """Raw windows (n, lookback, C) -> forecast quantiles in the series' units, (n, horizon, Q), sorted."""
        scaled = self.model_(torch.from_numpy(self.scaling_.inputs(windows))).numpy()
        if not np.isfinite(scaled).all():
            raise TrainingError("the model's forecast is not finite (NaN or infinite weights?); refit it")
        quantiles = np.sort(windows[:, -1:, 0:1] + scaled * self.scaling_.step, axis=-1)
        median = quantiles[..., [self._median]]
        quantiles[..., 0] = np.minimum(quantiles[..., 0] - self.interval_adjustment_, median[..., 0])
        quantiles[..., -1] = np.maximum(quantiles[..., -1] + self.interval_adjustment_, median[..., 0])
        return quantiles

    def predict(self, horizon: int | None = None, history=None) -> pd.DataFrame:
        """Forecast ``horizon`` steps (default: the trained one) after the fitted series, or after ``history``.

        Returns a DataFrame indexed by the future time steps with ``forecast`` (the median), ``lower`` and
        ``upper`` (the outer quantiles). Beyond the trained horizon the model is fed its own medians
        (univariate series only), and the interval of those steps is the model's for that block, which is
        narrower than the truth.
        """
        self._check_fitted()
        horizon = self.horizon if horizon is None else horizon
        check_integer("horizon", horizon, 1)
        tail = self.tail_ if history is None else to_numeric(to_frame(history)).iloc[-self.lookback_ :]
        if len(tail) < self.lookback_ or list(map(str, tail.columns)) != self.columns_:
            raise DataError(
                f"expected a history of at least {self.lookback_} rows with columns {self.columns_}, "
                f"got {len(tail)} rows with {list(tail.columns)}"
            )
        if horizon > self.horizon and len(self.columns_) > 1:
            raise ParameterError(
                f"this model forecasts {self.horizon} steps; rolling out {horizon} needs the future "
                f"covariates {self.columns_[1:]}: fit with horizon={horizon} instead"
            )
        values, blocks = tail.to_numpy(), []
        while True:
            block = self._quantiles(values[None, -self.lookback_ :])[0]  # (horizon, Q)
            blocks.append(block)
            if sum(len(b) for b in blocks) >= horizon:
                break
            values = np.concatenate([values, block[:, [self._median]]])  # univariate: the medians feed the next block
        quantiles = np.concatenate(blocks)[:horizon]
        return pd.DataFrame(
            {"forecast": quantiles[:, self._median], "lower": quantiles[:, 0], "upper": quantiles[:, -1]},
            index=_future_index(tail.index, horizon, self.step_),
        )

    def one_step_ahead(self, series, start: int) -> pd.DataFrame:
        """Forecasts of each step from ``start`` on, each made from the actual values before it (a rolling origin):
        ``forecast``, ``lower``, ``upper`` as in ``predict``."""
        self._check_fitted()
        frame = to_numeric(to_frame(series))
        if not self.lookback_ <= start < len(frame):
            raise ParameterError(f"expected start in [{self.lookback_}, {len(frame)}), got {start}")
        values = frame.to_numpy()
        windows = values[
            np.arange(start - self.lookback_, len(frame) - self.lookback_)[:, None] + np.arange(self.lookback_)
        ]
        quantiles = self._quantiles(windows)[:, 0]  # (n, Q)
        return pd.DataFrame(
            {
                "forecast": quantiles[:, self._median],
                "lower": quantiles[:, 0],
                "upper": quantiles[:, -1],
            },
            index=frame.index[start:],
        )

    def score(self, actual) -> dict[str, float]:
        """MAE, RMSE, sMAPE and MASE of ``predict(len(actual))`` against the actual continuation."""
        self._check_fitted()
        actual = np.asarray(actual, dtype=float).reshape(-1)
        forecast = self.predict(len(actual))["forecast"].to_numpy()
        metrics = all_metrics(actual, forecast, np.zeros(2), 1)
        metrics["MASE"] = metrics["MAE"] / self.insample_scale_
        return metrics

    # ---- persistence -------------------------------------------------------------------------------

    def _fitted_state(self) -> dict:
        return {
            "lookback": self.lookback_,
            "seasonal_period": self.seasonal_period_,
            "step": self.step_,
            "scaling": asdict(self.scaling_),
            "columns": self.columns_,
            "tail": {
                "index": [str(i) for i in self.tail_.index],
                "index_kind": _index_kind(self.tail_.index),
                "values": self.tail_.to_numpy().tolist(),
            },
            "insample_scale": self.insample_scale_,
            "interval_adjustment": self.interval_adjustment_,
            "history": self.history_,
        }

    def _restore_fitted(self, state: dict) -> None:
        self.quantiles = tuple(self.quantiles)
        self.lookback_, self.seasonal_period_, self.step_ = state["lookback"], state["seasonal_period"], state["step"]
        if not isinstance(self.step_, str | int) or isinstance(self.step_, bool):
            raise DataError(f"expected the time step as a frequency or an integer, got {self.step_!r}")
        self.scaling_ = WindowScaling(**state["scaling"])
        self.columns_, self.history_ = state["columns"], state["history"]
        self.insample_scale_ = state["insample_scale"]
        self.interval_adjustment_ = state["interval_adjustment"]
        tail = state["tail"]
        index = (
            pd.DatetimeIndex(pd.to_datetime(tail["index"]), freq=self.step_)
            if tail["index_kind"] == "datetime"
            else pd.Index([int(i) for i in tail["index"]])
        )
        self.tail_ = pd.DataFrame(tail["values"], index=index, columns=state["columns"])


def _seasonal_naive_mae(values: np.ndarray, period: int) -> float:
    period = period if len(values) > period else 1
    scale = float(np.mean(np.abs(values[period:] - values[:-period])))
    return scale if scale > 0 else 1.0


def _index_kind(index: pd.Index) -> str:
    return "datetime" if isinstance(index, pd.DatetimeIndex) else "integer"


def _future_index(index: pd.Index, horizon: int, step: str | int) -> pd.Index:
    """The ``horizon`` time steps after ``index``, at the series' ``step`` (settled when it was fitted)."""
    if isinstance(index, pd.DatetimeIndex):
        if not isinstance(step, str):
            raise DataError("the model was fitted on a series indexed by integers, got a history indexed by dates")
        return pd.date_range(index[-1], periods=horizon + 1, freq=step)[1:]
    if isinstance(step, str):
        raise DataError(f"the model was fitted on dates at frequency {step}, got a history without dates")
    return pd.RangeIndex(int(index[-1]) + step, int(index[-1]) + step * (horizon + 1), step)
