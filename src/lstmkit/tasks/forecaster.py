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
from torch import nn

from lstmkit import nn as lnn
from lstmkit.data.series import index_frequency, seasonal_period, to_frame, to_numeric
from lstmkit.data.windows import make_windows
from lstmkit.errors import CheckpointError, DataError, NotFittedError, ParameterError
from lstmkit.tasks.metrics import all_metrics
from lstmkit.training import TrainConfig, Trainer
from lstmkit.training.checkpoint import load_checkpoint, save_checkpoint


class QuantileLSTM(nn.Module):
    """x (N, lookback, C) -> quantiles of the next ``horizon`` scaled changes, (N, horizon, Q)."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int,
        dropout: float,
        horizon: int,
        num_quantiles: int,
        cell: str,
    ):
        super().__init__()
        self.horizon, self.num_quantiles = horizon, num_quantiles
        self.lstm = lnn.LSTM(
            input_size, hidden_size, num_layers, batch_first=True, dropout=dropout if num_layers > 1 else 0.0, cell=cell
        )
        self.head = nn.Linear(hidden_size, horizon * num_quantiles)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)  # (N, lookback, H)
        return self.head(out[:, -1]).view(len(x), self.horizon, self.num_quantiles)


class PinballLoss(nn.Module):
    """Mean over steps and quantiles of max(q (y - f), (q - 1) (y - f)); minimized by the q-quantile."""

    def __init__(self, quantiles):
        super().__init__()
        self.register_buffer("quantiles", torch.tensor(quantiles, dtype=torch.float32))

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        diff = target[..., None] - prediction  # (N, horizon, Q)
        return torch.maximum(self.quantiles * diff, (self.quantiles - 1) * diff).mean()


@dataclass
class Scaling:
    """Statistics of the training part: the target's mean absolute step, the covariates' mean and std."""

    step: float
    mean: list[float]
    std: list[float]

    def inputs(self, windows: np.ndarray) -> np.ndarray:
        """(n, lookback, C) raw -> scaled: target relative to the window's last value, covariates standardized."""
        scaled = (windows - np.array(self.mean)) / np.array(self.std)
        scaled[..., 0] = (windows[..., 0] - windows[:, -1:, 0]) / self.step
        return scaled.astype(np.float32)


@dataclass
class ForecasterParams:
    horizon: int = 1
    lookback: int | None = None  # None: two seasons, or 24 steps without seasonality (at least the horizon)
    seasonal_period: int | None = None  # None: inferred from the index frequency
    hidden_size: int = 32
    num_layers: int = 1
    dropout: float = 0.0
    cell: str = "lstm"
    epochs: int = 300
    batch_size: int = 16
    lr: float = 3e-3
    patience: int = 40  # epochs without validation improvement before stopping
    val_fraction: float = 0.2
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9)
    seed: int = 0
    progress: bool | None = False


class Forecaster:
    """Forecast a series from its past with an LSTM (scikit-learn style: ``fit`` then ``predict``).

    Fitted attributes: ``model_``, ``lookback_``, ``seasonal_period_``, ``scaling_``, ``columns_``,
    ``history_`` (the training history), ``tail_`` (the last rows, from which ``predict`` starts),
    ``insample_scale_`` (the in-sample seasonal-naive MAE, for MASE), ``interval_adjustment_`` (the
    conformal widening of the interval, in the series' units).
    """

    def __init__(self, horizon: int = 1, lookback: int | None = None, seed: int = 0, **options):
        self.params = ForecasterParams(horizon=horizon, lookback=lookback, seed=seed, **options)
        p = self.params
        if p.horizon < 1 or (p.lookback is not None and p.lookback < 1):
            raise ParameterError(f"expected horizon >= 1 and lookback >= 1, got {p.horizon} and {p.lookback}")
        if not 0 < p.val_fraction < 1:
            raise ParameterError(f"expected val_fraction in (0, 1), got {p.val_fraction}")
        if (
            sorted(p.quantiles) != list(p.quantiles)
            or 0.5 not in p.quantiles
            or not all(0 < q < 1 for q in p.quantiles)
        ):
            raise ParameterError(f"expected increasing quantiles in (0, 1) that include 0.5, got {p.quantiles}")

    def get_params(self) -> dict:
        return asdict(self.params)

    # ---- fitting -----------------------------------------------------------------------------------

    def prepare_data(self, series, target=None, time=None, fill: bool = False) -> pd.DataFrame:
        """Read and check ``series`` as ``fit`` would (target first, numeric, sorted); settles ``lookback_`` and
        ``seasonal_period_``. Every problem is a DataError, raised before anything is trained or written."""
        frame = to_numeric(
            to_frame(series, target, time),
            fill=fill,
            source=str(series) if isinstance(series, str | Path) else "the data",
        )
        p = self.params
        period = p.seasonal_period or seasonal_period(frame.index)
        lookback = p.lookback or max(2 * period if period > 1 else 24, p.horizon)
        needed = lookback + p.horizon + 1
        if len(frame) < needed:
            raise DataError(
                f"the series has {len(frame)} rows; lookback {lookback} + horizon {p.horizon} needs at "
                f"least {needed} (one window to train on and one to validate)"
            )
        self.seasonal_period_, self.lookback_ = period, lookback
        return frame

    def fit(
        self,
        series,
        target: str | None = None,
        time: str | None = None,
        fill: bool = False,
        checkpoint_dir: str | Path | None = None,
    ) -> Forecaster:
        """Fit on ``series`` (a CSV path, Series, DataFrame or array; see ``lstmkit.data.series``).

        With ``checkpoint_dir``, training checkpoints go there and a run interrupted earlier resumes from them.
        """
        p = self.params
        frame = self.prepare_data(series, target, time, fill)
        values = frame.to_numpy()
        windows, targets = make_windows(values, self.lookback_, p.horizon)
        n_val = max(1, int(round(p.val_fraction * len(windows))))
        n_train = len(windows) - n_val
        if n_train < 1:
            raise DataError(
                f"the series has {len(frame)} rows: too few for lookback {self.lookback_}, horizon "
                f"{p.horizon} and a validation part"
            )
        train_rows = values[: n_train + self.lookback_ + p.horizon - 1]  # what the training windows see
        steps = np.abs(np.diff(train_rows[:, 0]))
        std = train_rows.std(axis=0)
        self.scaling_ = Scaling(
            step=float(steps.mean()) if steps.mean() > 0 else 1.0,
            mean=train_rows.mean(axis=0).tolist(),
            std=np.where(std > 0, std, 1.0).tolist(),
        )
        x = torch.from_numpy(self.scaling_.inputs(windows))
        y = torch.from_numpy(((targets - windows[:, -1:, 0]) / self.scaling_.step).astype(np.float32))
        torch.manual_seed(p.seed)
        self.model_ = QuantileLSTM(
            values.shape[1], p.hidden_size, p.num_layers, p.dropout, p.horizon, len(p.quantiles), p.cell
        )
        config = TrainConfig(
            epochs=p.epochs,
            batch_size=p.batch_size,
            lr=p.lr,
            early_stopping_patience=p.patience,
            seed=p.seed,
            progress=p.progress,
            checkpoint_dir=None if checkpoint_dir is None else str(checkpoint_dir),
            checkpoint_every=None,
        )
        last = None if checkpoint_dir is None else Path(checkpoint_dir) / "last"
        resume = last if last is not None and (last / "state.json").exists() else None
        trainer = Trainer(self.model_, PinballLoss(p.quantiles), config)
        trainer.fit((x[:n_train], y[:n_train]), (x[n_train:], y[n_train:]), resume_from=resume)
        self.model_.eval()
        self.history_ = trainer.history_
        self.columns_ = [str(c) for c in frame.columns]
        self.tail_ = frame.iloc[-self.lookback_ :]
        self.insample_scale_ = _seasonal_naive_mae(values[:, 0], self.seasonal_period_)
        self.interval_adjustment_ = 0.0
        self.interval_adjustment_ = self._conformal_adjustment(windows[n_train:], targets[n_train:])
        return self

    # ---- forecasting -------------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError("this Forecaster is not fitted yet: call fit(series) first")

    def _conformal_adjustment(self, windows: np.ndarray, targets: np.ndarray) -> float:
        """How much to widen the interval so that it covers its nominal share of the validation windows.

        Conformalized quantile regression (Romano, Patterson & Candes 2019): with scores
        s = max(lower - y, y - upper) over every validation window and step, the adjustment is the
        ceil((1 - a)(n + 1))-th smallest score, a = the nominal miss rate (0.2 for quantiles 0.1 and 0.9).
        Negative when the raw interval is too wide.
        """
        bounds = self._quantiles(windows)  # (n, horizon, Q)
        scores = np.maximum(bounds[..., 0] - targets, targets - bounds[..., -1]).ravel()
        miss = 1.0 - (self.params.quantiles[-1] - self.params.quantiles[0])
        rank = int(np.ceil((1 - miss) * (len(scores) + 1)))
        return float(np.sort(scores)[min(rank, len(scores)) - 1])

    @torch.no_grad()
    def _quantiles(self, windows: np.ndarray) -> np.ndarray:
        """Raw windows (n, lookback, C) -> forecast quantiles in the series' units, (n, horizon, Q), sorted."""
        scaled = self.model_(torch.from_numpy(self.scaling_.inputs(windows))).numpy()
        quantiles = np.sort(windows[:, -1:, 0:1] + scaled * self.scaling_.step, axis=-1)
        median = quantiles[..., [self.params.quantiles.index(0.5)]]
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
        p = self.params
        horizon = p.horizon if horizon is None else horizon
        if horizon < 1:
            raise ParameterError(f"expected horizon >= 1, got {horizon}")
        tail = self.tail_ if history is None else to_numeric(to_frame(history)).iloc[-self.lookback_ :]
        if len(tail) < self.lookback_ or list(map(str, tail.columns)) != self.columns_:
            raise DataError(
                f"expected a history of at least {self.lookback_} rows with columns {self.columns_}, "
                f"got {len(tail)} rows with {list(tail.columns)}"
            )
        if horizon > p.horizon and len(self.columns_) > 1:
            raise ParameterError(
                f"this model forecasts {p.horizon} steps; rolling out {horizon} needs the future "
                f"covariates {self.columns_[1:]}: fit with horizon={horizon} instead"
            )
        values, blocks = tail.to_numpy(), []
        while sum(len(b) for b in blocks) < horizon:
            block = self._quantiles(values[None, -self.lookback_ :])[0]  # (horizon, Q)
            blocks.append(block)
            values = np.concatenate([values, block[:, [p.quantiles.index(0.5)]]])
        quantiles = np.concatenate(blocks)[:horizon]
        return pd.DataFrame(
            {"forecast": quantiles[:, p.quantiles.index(0.5)], "lower": quantiles[:, 0], "upper": quantiles[:, -1]},
            index=_future_index(tail.index, horizon),
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
                "forecast": quantiles[:, self.params.quantiles.index(0.5)],
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

    def save(self, path: str | Path) -> Path:
        """The model as safetensors and everything else as JSON, written atomically (see training.checkpoint)."""
        self._check_fitted()
        tail = {
            "index": [str(i) for i in self.tail_.index],
            "index_kind": _index_kind(self.tail_.index),
            "freq": getattr(self.tail_.index, "freqstr", None),
            "values": self.tail_.to_numpy().tolist(),
        }
        state = {
            "kind": "Forecaster",
            "params": self.get_params(),
            "lookback": self.lookback_,
            "seasonal_period": self.seasonal_period_,
            "scaling": asdict(self.scaling_),
            "columns": self.columns_,
            "tail": tail,
            "insample_scale": self.insample_scale_,
            "interval_adjustment": self.interval_adjustment_,
            "history": self.history_,
        }
        return save_checkpoint(path, dict(self.model_.state_dict()), state)

    @classmethod
    def load(cls, path: str | Path) -> Forecaster:
        """A Forecaster saved with ``save``; a CheckpointError if ``path`` is not one."""
        tensors, state = load_checkpoint(path)
        if state.get("kind") != "Forecaster":
            raise CheckpointError(f"{path}: not a saved Forecaster (kind {state.get('kind')!r})")
        params = state["params"] | {"quantiles": tuple(state["params"]["quantiles"])}
        forecaster = cls(**params)
        p = forecaster.params
        forecaster.lookback_, forecaster.seasonal_period_ = state["lookback"], state["seasonal_period"]
        forecaster.scaling_ = Scaling(**state["scaling"])
        forecaster.columns_, forecaster.history_ = state["columns"], state["history"]
        forecaster.insample_scale_ = state["insample_scale"]
        forecaster.interval_adjustment_ = state["interval_adjustment"]
        tail = state["tail"]
        index = (
            pd.DatetimeIndex(pd.to_datetime(tail["index"]), freq=tail["freq"])
            if tail["index_kind"] == "datetime"
            else pd.Index([int(i) for i in tail["index"]])
        )
        forecaster.tail_ = pd.DataFrame(tail["values"], index=index, columns=state["columns"])
        forecaster.model_ = QuantileLSTM(
            len(state["columns"]), p.hidden_size, p.num_layers, p.dropout, p.horizon, len(p.quantiles), p.cell
        )
        forecaster.model_.load_state_dict(tensors)
        forecaster.model_.eval()
        return forecaster


def _seasonal_naive_mae(values: np.ndarray, period: int) -> float:
    period = period if len(values) > period else 1
    scale = float(np.mean(np.abs(values[period:] - values[:-period])))
    return scale if scale > 0 else 1.0


def _index_kind(index: pd.Index) -> str:
    return "datetime" if isinstance(index, pd.DatetimeIndex) else "integer"


def _future_index(index: pd.Index, horizon: int) -> pd.Index:
    """The ``horizon`` time steps after ``index``: by its frequency for dates, by its step for integers."""
    if isinstance(index, pd.DatetimeIndex):
        freq = index_frequency(index)
        if freq is None:
            raise DataError("cannot tell the time step of the series' dates; give dates at a regular frequency")
        return pd.date_range(index[-1], periods=horizon + 1, freq=freq)[1:]
    step = int(index[-1] - index[-2]) if len(index) > 1 else 1
    return pd.RangeIndex(int(index[-1]) + step, int(index[-1]) + step * (horizon + 1), step)
