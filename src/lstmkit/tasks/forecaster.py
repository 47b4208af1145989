"""Forecaster: an ensemble of LSTM forecasters with the practices most tutorials skip.

- Windows of ``lookback`` steps predict the next ``horizon`` steps directly (a multi-output head);
  beyond the trained horizon, ``predict`` rolls out block by block on its own medians.
- The target on the log scale when it is positive and its spread grows with its level (``transform``,
  judged on the training part only with Guerrero's method; ``lstmkit.data.transforms``), inverted exactly.
- The network learns the residual over the seasonal-naive forecast (``residual_of``): the window is
  expressed relative to its last value and scaled by the training part's mean absolute step, and the
  target is (y[t+k] - seasonal naive[t+k]) / step. Covariates are standardized with training-part
  statistics only. Past covariates are read in the lookback window; known-future covariates also over
  the horizon (the network then reads a timeline of lookback + horizon rows, see ``_model_inputs``).
- Chronological split: the last ``val_fraction`` of the windows validate (early stopping with the best
  weights restored); nothing from the validation part leaks into the scaling or the transform.
- An ensemble of ``ensemble`` members trained from independent seeds; each quantile of the forecast is
  the median of the members' (robust to one member that trained badly, and the honest answer to the
  spread between seeds).
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
from lstmkit.data.series import index_frequency, shorten, to_frame, to_numeric
from lstmkit.data.series import seasonal_period as infer_seasonal_period
from lstmkit.data.transforms import TRANSFORMS, wants_log
from lstmkit.data.windows import make_windows
from lstmkit.errors import DataError, ParameterError, ParameterTypeError, TrainingError
from lstmkit.tasks.base import SequenceEstimator, member_seeds
from lstmkit.tasks.losses import PinballLoss
from lstmkit.tasks.metrics import all_metrics
from lstmkit.tasks.modules import CELLS, ForecastEnsemble, QuantileNet

RESIDUAL_OF = ("seasonal_naive", "last_value")
DEFAULT_SEASONS = 4  # the default lookback, in seasons (chosen on the forecast panel without airline)


@dataclass(frozen=True)
class PreparedSeries:
    """A series read and checked for forecasting: the frame (target, past covariates, future covariates), the
    settled window sizes, and the columns of the data that are not used."""

    frame: pd.DataFrame
    lookback: int
    seasonal_period: int
    step: str | int  # the time step: a pandas frequency ("MS", "D", ...) for dates, the index step for integers
    unused: tuple[str, ...] = ()


def check_columns(covariates, future_covariates) -> None:
    """Covariate names: tuples (or lists) of distinct strings, no column in both."""
    for name, columns in (("covariates", covariates), ("future_covariates", future_covariates)):
        if not isinstance(columns, list | tuple) or not all(isinstance(c, str) and c for c in columns):
            raise ParameterTypeError(f"expected {name} as a tuple of column names, got {columns!r}")
        if len(set(columns)) != len(columns):
            raise ParameterError(f"expected distinct {name}, got {list(columns)}")
    both = sorted(set(covariates) & set(future_covariates))
    if both:
        raise ParameterError(f"columns {both} are named both as past and as future covariates")


def prepare_series(
    series,
    target=None,
    time=None,
    fill: bool = False,
    *,
    horizon: int = 1,
    lookback: int | None = None,
    seasonal_period: int | None = None,
    covariates: tuple[str, ...] = (),
    future_covariates: tuple[str, ...] = (),
) -> PreparedSeries:
    """Read and check ``series`` as ``Forecaster.fit`` would (the target, then the named covariates; numeric,
    sorted) and settle the lookback (default: ``DEFAULT_SEASONS`` seasons, or 24 steps without seasonality,
    at least the horizon) and the seasonal period (default: from the index frequency). Every problem is a
    DataError, raised before anything is trained or written."""
    source = str(series) if isinstance(series, str | Path) else "the data"
    check_columns(covariates, future_covariates)
    raw = to_frame(series, target, time, source=source)
    names = {str(c): c for c in raw.columns}
    target_name = str(raw.columns[0])
    wanted = [*covariates, *future_covariates]
    absent = [c for c in wanted if c not in names]
    if absent:
        raise DataError(f"{source}: covariate columns {absent} not found; columns are {shorten(', '.join(names))}")
    if target_name in wanted:
        raise DataError(f"{source}: {target_name!r} is the target; it cannot also be a covariate")
    used = [raw.columns[0], *(names[c] for c in wanted)]
    frame = to_numeric(raw[used], fill=fill, source=source)
    frame.columns = [target_name, *wanted]
    unused = tuple(str(c) for c in raw.columns if c not in used)
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
    lookback = lookback or max(DEFAULT_SEASONS * period if period > 1 else 24, horizon)
    needed = lookback + horizon + 1
    if len(frame) < needed:
        raise DataError(
            f"the series has {len(frame)} rows; lookback {lookback} + horizon {horizon} needs at "
            f"least {needed} (one window to train on and one to validate)"
        )
    return PreparedSeries(frame, lookback, period, step, unused)


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
    """Forecast a series from its past with an ensemble of LSTMs (scikit-learn style: ``fit`` then ``predict``).

    Fitted attributes: ``model_`` (a ``ForecastEnsemble``), ``lookback_``, ``seasonal_period_``, ``log_``
    (whether the target is modelled on the log scale), ``scaling_``, ``columns_`` (target, past covariates,
    future covariates), ``history_`` (each member's training history), ``tail_`` (the last rows, from which
    ``predict`` starts), ``insample_scale_`` (the in-sample seasonal-naive MAE, for MASE),
    ``interval_adjustment_`` (the conformal widening of the interval, on the model's scale),
    ``validation_loss_`` (the ensemble's pinball loss on the validation windows).
    """

    kind = "Forecaster"

    def __init__(
        self,
        horizon: int = 1,
        lookback: int | None = None,  # None: DEFAULT_SEASONS seasons, or 24 steps without seasonality (>= horizon)
        seasonal_period: int | None = None,  # None: inferred from the index frequency
        covariates: tuple[str, ...] = (),  # past covariates: columns read in the lookback window only
        future_covariates: tuple[str, ...] = (),  # known-future covariates: also read over the horizon
        transform: str = "auto",  # "auto": log when positive and the spread grows with the level; "log"; "none"
        residual_of: str = "seasonal_naive",  # the forecast the network corrects: "seasonal_naive" or "last_value"
        ensemble: int = 5,  # members trained from different seeds; the forecast is their median
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
        self.covariates = covariates
        self.future_covariates = future_covariates
        self.transform = transform
        self.residual_of = residual_of
        self.ensemble = ensemble
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
        check_columns(self.covariates, self.future_covariates)
        check_choice("transform", self.transform, TRANSFORMS)
        check_choice("residual_of", self.residual_of, RESIDUAL_OF)
        check_integer("ensemble", self.ensemble, 1)
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

    @property
    def _future_columns(self) -> list[int]:
        """Where the future covariates sit among the columns (after the target and the past covariates)."""
        return list(range(1 + len(self.covariates), 1 + len(self.covariates) + len(self.future_covariates)))

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
        """Fit on ``series`` (a CSV path, Series, DataFrame or array; see ``lstmkit.data.series``); columns other
        than the target and the named covariates are not read.

        With ``checkpoint_dir``, training checkpoints go there (one folder per member) and a run interrupted
        earlier resumes from them; ``callbacks`` go to the first member's Trainer.
        """
        self.check_params()
        prepared = self.prepare(series, target, time, fill)
        frame, self.lookback_, self.seasonal_period_ = prepared.frame, prepared.lookback, prepared.seasonal_period
        self.step_ = prepared.step
        values = frame.to_numpy()
        n_windows = len(values) - self.lookback_ - self.horizon + 1
        n_val = max(1, int(round(self.val_fraction * n_windows)))
        n_train = n_windows - n_val
        if n_train < 1:
            raise DataError(
                f"the series has {len(frame)} rows: too few for lookback {self.lookback_}, horizon "
                f"{self.horizon} and a validation part"
            )
        train_rows = n_train + self.lookback_ + self.horizon - 1  # the rows the training windows see
        self.log_ = self._choose_log(values[:train_rows, 0])
        z = self._model_scale(values)
        windows, targets = make_windows(z, self.lookback_, self.horizon)
        self.scaling_ = WindowScaling.fit(z[:train_rows])
        future = self._future_rows(z, np.arange(n_windows) + self.lookback_)
        self.columns_ = [str(c) for c in frame.columns]
        x = torch.from_numpy(self._model_inputs(windows, future))
        y = torch.from_numpy(((targets - self._base(windows)) / self.scaling_.step).astype(np.float32))
        members, self.history_ = [], []
        for k, seed in enumerate(member_seeds(self.seed, self.ensemble)):
            torch.manual_seed(seed)
            member = self._build_member()
            trainer = self.train(
                member,
                PinballLoss(self.quantiles),
                (x[:n_train], y[:n_train]),
                (x[n_train:], y[n_train:]),
                None if checkpoint_dir is None else Path(checkpoint_dir) / f"member{k}",
                callbacks=callbacks if k == 0 else (),
                seed=seed,
            )
            members.append(member)
            self.history_.append(trainer.history_)
        self.model_ = ForecastEnsemble(members).eval()
        self.tail_ = frame.iloc[-self.lookback_ :]
        self.insample_scale_ = _seasonal_naive_mae(values[:, 0], self.seasonal_period_)
        with torch.no_grad():
            combined = self.model_(x[n_train:]).median(dim=0).values
            self.validation_loss_ = float(PinballLoss(self.quantiles)(combined, y[n_train:]))
        self.interval_adjustment_ = 0.0
        val_future = None if future is None else future[n_train:]
        self.interval_adjustment_ = self._conformal_adjustment(windows[n_train:], val_future, targets[n_train:])
        return self

    def prepare(self, series, target: str | None = None, time: str | None = None, fill: bool = False) -> PreparedSeries:
        """``series`` read and checked with this forecaster's window sizes and covariates (``prepare_series``)."""
        return prepare_series(
            series,
            target,
            time,
            fill,
            horizon=self.horizon,
            lookback=self.lookback,
            seasonal_period=self.seasonal_period,
            covariates=self.covariates,
            future_covariates=self.future_covariates,
        )

    def _choose_log(self, train_target: np.ndarray) -> bool:
        if self.transform == "log":
            if (train_target <= 0).any():
                raise DataError(
                    f"transform='log' needs a positive target; its training part reaches {train_target.min():.6g}"
                )
            return True
        return self.transform == "auto" and wants_log(train_target, self.seasonal_period_)

    def _build_member(self) -> QuantileNet:
        future = len(self.future_covariates)
        return QuantileNet(
            input_size=len(self.columns_) + (1 if future else 0),  # + the "observed" flag over the timeline
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            dropout=self.dropout,
            horizon=self.horizon,
            num_quantiles=len(self.quantiles),
            cell=self.cell,
            future_steps=self.horizon if future else 0,
        )

    def _build_model(self) -> ForecastEnsemble:
        return ForecastEnsemble([self._build_member() for _ in range(self.ensemble)])

    def validation_score(self) -> float:
        """The ensemble's pinball loss on the validation windows (what tuning minimizes)."""
        self._check_fitted()
        return self.validation_loss_

    # ---- the model's scale and inputs ---------------------------------------------------------------

    def _model_scale(self, values: np.ndarray) -> np.ndarray:
        """Rows (T, C) in the series' units -> the model's scale: the target's log if ``log_``."""
        z = np.array(values, dtype=float)
        if self.log_:
            if (z[:, 0] <= 0).any():
                raise DataError(
                    f"this model forecasts the log of {self.columns_[0]!r}; got values down to {z[:, 0].min():.6g}"
                )
            z[:, 0] = np.log(z[:, 0])
        return z

    def _series_units(self, quantiles: np.ndarray) -> np.ndarray:
        """The model's scale -> the series' units (the exact inverse of ``_model_scale`` for the target)."""
        return np.exp(quantiles) if self.log_ else quantiles

    def _future_rows(self, z: np.ndarray, starts: np.ndarray) -> np.ndarray | None:
        """The future covariates over the ``horizon`` steps from each start, (n, horizon, F); rows past the end of
        ``z`` are the training mean (they feed only steps after the ones forecast, which cannot read them)."""
        if not self.future_covariates:
            return None
        columns = self._future_columns
        padding = np.tile(np.array(self.scaling_.mean)[columns], (self.horizon, 1))
        return np.concatenate([z[:, columns], padding])[starts[:, None] + np.arange(self.horizon)]

    def _base(self, windows: np.ndarray) -> np.ndarray:
        """The forecast the network corrects, (n, lookback, C) -> (n, horizon) on the model's scale: the seasonal
        naive y[t + 1 + k - m ceil((k + 1) / m)] (when a season fits in the lookback), else the last value."""
        m, lookback = self.seasonal_period_, self.lookback_
        if self.residual_of == "seasonal_naive" and 1 < m <= lookback:
            return windows[:, lookback - m + np.arange(self.horizon) % m, 0]
        return np.repeat(windows[:, -1:, 0], self.horizon, axis=1)

    def _model_inputs(self, windows: np.ndarray, future: np.ndarray | None) -> np.ndarray:
        """The network's input, float32: (n, lookback, C) scaled windows, and with future covariates the timeline
        (n, lookback + horizon, C + 1): the horizon rows carry only the standardized future covariates, and the
        last channel flags the observed (lookback) rows."""
        x = self.scaling_.inputs(windows)
        if future is None:
            return x
        n, columns = len(windows), self._future_columns
        ahead = np.zeros((n, self.horizon, x.shape[2] + 1), dtype=np.float32)
        mean, std = np.array(self.scaling_.mean)[columns], np.array(self.scaling_.std)[columns]
        ahead[:, :, columns] = (future - mean) / std
        observed = np.concatenate([x, np.ones((n, self.lookback_, 1), dtype=np.float32)], axis=2)
        return np.concatenate([observed, ahead], axis=1)

    def network_input(self, history=None) -> np.ndarray:
        """What each member reads to forecast after ``history`` (default: the fitted tail), float32
        (1, lookback, C), or the timeline (1, lookback + horizon, C + 1) with future covariates (their future
        rows at the training mean: ``predict`` replaces them with the given values)."""
        self._check_fitted()
        tail = self.tail_ if history is None else self._history(history)
        z = self._model_scale(tail.to_numpy())
        return self._model_inputs(z[None, -self.lookback_ :], self._future_rows(z, np.array([len(z)])))

    # ---- forecasting -------------------------------------------------------------------------------

    def _conformal_adjustment(self, windows: np.ndarray, future: np.ndarray | None, targets: np.ndarray) -> float:
        """How much to widen the interval so that it covers its nominal share of the validation windows.

        Conformalized quantile regression (Romano, Patterson & Candes 2019): with scores
        s = max(lower - y, y - upper) over every validation window and step (on the model's scale), the
        adjustment is the ceil((1 - a)(n + 1))-th smallest score, a = the nominal miss rate (0.2 for
        quantiles 0.1 and 0.9). Negative when the raw interval is too wide.
        """
        bounds = self._quantiles(windows, future)  # (n, horizon, Q)
        scores = np.maximum(bounds[..., 0] - targets, targets - bounds[..., -1]).ravel()
        miss = 1.0 - (self.quantiles[-1] - self.quantiles[0])
        rank = int(np.ceil((1 - miss) * (len(scores) + 1)))
        return max(0.0, float(np.sort(scores)[min(rank, len(scores)) - 1]))

    @torch.no_grad()
    def _quantiles(self, windows: np.ndarray, future: np.ndarray | None = None) -> np.ndarray:
        """Windows (n, lookback, C) on the model's scale -> forecast quantiles on that scale, (n, horizon, Q),
        sorted: the median over the members of each quantile, added to the base forecast."""
        members = self.model_(torch.from_numpy(self._model_inputs(windows, future)))  # (E, n, horizon, Q)
        scaled = members.median(dim=0).values.numpy()
        if not np.isfinite(scaled).all():
            raise TrainingError("the model's forecast is not finite (NaN or infinite weights?); refit it")
        quantiles = np.sort(self._base(windows)[..., None] + scaled * self.scaling_.step, axis=-1)
        median = quantiles[..., [self._median]]
        quantiles[..., 0] = np.minimum(quantiles[..., 0] - self.interval_adjustment_, median[..., 0])
        quantiles[..., -1] = np.maximum(quantiles[..., -1] + self.interval_adjustment_, median[..., 0])
        return quantiles

    def _history(self, history) -> pd.DataFrame:
        """``history`` as rows of the fitted columns (a one-column history of a univariate model takes its name)."""
        frame = to_numeric(to_frame(history))
        if len(self.columns_) == 1 and frame.shape[1] == 1:
            frame.columns = self.columns_
        missing = [c for c in self.columns_ if c not in map(str, frame.columns)]
        if missing or len(frame) < self.lookback_:
            raise DataError(
                f"expected a history of at least {self.lookback_} rows with columns {self.columns_}, "
                f"got {len(frame)} rows with {list(frame.columns)}"
            )
        frame.columns = [str(c) for c in frame.columns]
        return frame[self.columns_]

    def _given_future(self, future, horizon: int) -> np.ndarray:
        """The future covariates' values for the ``horizon`` steps ahead, (horizon, F), from a DataFrame with those
        columns or an array; a DataError saying what is missing."""
        names = list(self.future_covariates)
        if future is None:
            raise DataError(
                f"this model reads the future covariates {names} over the horizon: pass future= with their "
                f"values for the {horizon} steps to forecast"
            )
        if isinstance(future, pd.DataFrame):
            absent = [c for c in names if c not in map(str, future.columns)]
            if absent:
                raise DataError(f"future: columns {absent} not found; columns are {list(future.columns)}")
            future = future.rename(columns=str)[names]
        array = to_numeric(pd.DataFrame(np.asarray(future, dtype=object).reshape(len(future), -1)), source="future")
        array = array.to_numpy()
        if array.shape[1] != len(names) or len(array) < horizon:
            raise DataError(
                f"future: expected at least {horizon} rows of the {len(names)} future covariates {names}, "
                f"got shape {array.shape}"
            )
        return array[:horizon]

    def predict(self, horizon: int | None = None, history=None, future=None) -> pd.DataFrame:
        """Forecast ``horizon`` steps (default: the trained one) after the fitted series, or after ``history``.

        ``future``: the future covariates' values over those steps (a DataFrame with their columns, or an
        array (horizon, F)), required when the model has future covariates. Returns a DataFrame indexed by
        the future time steps with ``forecast`` (the median), ``lower`` and ``upper`` (the outer quantiles).
        Beyond the trained horizon the model is fed its own medians block by block (not possible with past
        covariates, whose future is unknown), and the interval of those steps is the model's for that
        block, which is narrower than the truth.
        """
        self._check_fitted()
        horizon = self.horizon if horizon is None else horizon
        check_integer("horizon", horizon, 1)
        tail = self.tail_ if history is None else self._history(history)
        if horizon > self.horizon and self.covariates:
            raise ParameterError(
                f"this model forecasts {self.horizon} steps; rolling out {horizon} needs the future values of "
                f"its past covariates {list(self.covariates)}: fit with horizon={horizon} instead"
            )
        columns, blocks_needed = self._future_columns, -(-horizon // self.horizon)
        given = np.tile(np.array(self.scaling_.mean)[columns], (blocks_needed * self.horizon, 1))
        if columns:  # the steps after the last one asked for only feed steps after it: the training mean
            given[:horizon] = self._given_future(future, horizon)
        z, blocks = self._model_scale(tail.to_numpy()), []
        for start in range(0, horizon, self.horizon):
            ahead = given[None, start : start + self.horizon] if columns else None  # (1, horizon, F)
            block = self._quantiles(z[None, -self.lookback_ :], ahead)[0]  # (horizon, Q)
            blocks.append(block)
            rows = np.zeros((self.horizon, z.shape[1]))  # the block's medians (and covariates) extend the history
            rows[:, 0], rows[:, columns] = block[:, self._median], given[start : start + self.horizon]
            z = np.concatenate([z, rows])
        quantiles = self._series_units(np.concatenate(blocks)[:horizon])
        return pd.DataFrame(
            {"forecast": quantiles[:, self._median], "lower": quantiles[:, 0], "upper": quantiles[:, -1]},
            index=_future_index(tail.index, horizon, self.step_),
        )

    def one_step_ahead(self, series, start: int) -> pd.DataFrame:
        """Forecasts of each step from ``start`` on, each made from the actual values before it (a rolling origin,
        the future covariates read from ``series``): ``forecast``, ``lower``, ``upper`` as in ``predict``."""
        self._check_fitted()
        frame = self._history(series) if len(self.columns_) > 1 else to_numeric(to_frame(series)).iloc[:, :1]
        if not self.lookback_ <= start < len(frame):
            raise ParameterError(f"expected start in [{self.lookback_}, {len(frame)}), got {start}")
        z = self._model_scale(frame.to_numpy())
        origins = np.arange(start, len(frame))
        windows = z[origins[:, None] - self.lookback_ + np.arange(self.lookback_)]
        quantiles = self._series_units(self._quantiles(windows, self._future_rows(z, origins))[:, 0])  # (n, Q)
        return pd.DataFrame(
            {"forecast": quantiles[:, self._median], "lower": quantiles[:, 0], "upper": quantiles[:, -1]},
            index=frame.index[start:],
        )

    def score(self, actual, future=None) -> dict[str, float]:
        """MAE, RMSE, sMAPE and MASE of ``predict(len(actual), future=future)`` against the actual continuation."""
        self._check_fitted()
        actual = np.asarray(actual, dtype=float).reshape(-1)
        forecast = self.predict(len(actual), future=future)["forecast"].to_numpy()
        metrics = all_metrics(actual, forecast, np.zeros(2), 1)
        metrics["MASE"] = metrics["MAE"] / self.insample_scale_
        return metrics

    # ---- persistence -------------------------------------------------------------------------------

    def _fitted_state(self) -> dict:
        return {
            "lookback": self.lookback_,
            "seasonal_period": self.seasonal_period_,
            "step": self.step_,
            "log": self.log_,
            "scaling": asdict(self.scaling_),
            "columns": self.columns_,
            "tail": {
                "index": [str(i) for i in self.tail_.index],
                "index_kind": _index_kind(self.tail_.index),
                "values": self.tail_.to_numpy().tolist(),
            },
            "insample_scale": self.insample_scale_,
            "interval_adjustment": self.interval_adjustment_,
            "validation_loss": self.validation_loss_,
            "history": self.history_,
        }

    def _restore_fitted(self, state: dict) -> None:
        self.quantiles = tuple(self.quantiles)
        self.covariates, self.future_covariates = tuple(self.covariates), tuple(self.future_covariates)
        self.lookback_, self.seasonal_period_, self.step_ = state["lookback"], state["seasonal_period"], state["step"]
        if not isinstance(self.step_, str | int) or isinstance(self.step_, bool):
            raise DataError(f"expected the time step as a frequency or an integer, got {self.step_!r}")
        self.log_ = bool(state["log"])
        self.scaling_ = WindowScaling(**state["scaling"])
        self.columns_, self.history_ = state["columns"], state["history"]
        self.insample_scale_ = state["insample_scale"]
        self.interval_adjustment_ = state["interval_adjustment"]
        self.validation_loss_ = state["validation_loss"]
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
