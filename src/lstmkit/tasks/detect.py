"""AnomalyDetector: score every step of a series by how badly an LSTM trained on (mostly) normal data explains it.

Two scorers (``scorer``):

- ``"forecast"`` (Malhotra et al. 2015): an LSTM reads the series and predicts the next value at every step;
  the score of step t is |x_t - x^_t|, the error of the prediction made from the steps before it. Scoring runs
  over the whole series in one pass, the state carried (windows of ``window`` steps are only the training
  batches).
- ``"autoencoder"`` (the guides' design): an encoder LSTM reads a window of ``window`` steps, its last hidden
  state is repeated ``window`` times and a decoder LSTM reconstructs the window; a step's score is its squared
  reconstruction error averaged over the windows that cover it (windows every ``window // 4`` steps).
- ``"seq2seq"`` (EncDec-AD, Malhotra et al. 2016): the same windows, rebuilt in reverse order by a decoder that
  starts from the encoder's state, teacher-forced in training and free-running in scoring
  (``Seq2SeqAutoencoder``).

The errors are smoothed by a causal exponential moving average (``smoothing``), then standardized with the mean
and sd of the training scores (so 3 means three training sds above the
typical error), and ``threshold_`` is their ``threshold_quantile`` quantile on the training data: ``predict``
flags the steps above it (or, with ``threshold="dynamic"``, above Hundman et al.'s non-parametric threshold of
the scored series' own scores) and ``anomalies`` returns the flagged ranges with their peak scores. The series is
standardized with the training part's mean and sd.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from lstmkit.checks import check_choice, check_integer, check_number
from lstmkit.errors import DataError, ParameterError
from lstmkit.tasks.base import SequenceEstimator
from lstmkit.tasks.metrics import ranges
from lstmkit.tasks.modules import CELLS, recurrent_layer

SCORERS = ("forecast", "autoencoder", "seq2seq")
THRESHOLDS = ("quantile", "dynamic")
DYNAMIC_Z = np.arange(2.0, 10.5, 0.5)  # the candidate thresholds, in sds above the mean, that "dynamic" weighs


def dynamic_threshold(scores: np.ndarray, candidates: np.ndarray = DYNAMIC_Z) -> float:
    """Hundman et al.'s (2018) non-parametric threshold of a run of scores e: among eps = mean(e) + z sd(e), the
    one maximizing (d_mean / mean(e) + d_sd / sd(e)) / (|e_a| + |E_seq|^2), where d_mean and d_sd are how much
    the mean and sd fall when the scores above eps are removed, e_a those scores and E_seq their runs: the cut
    that removes the most spread with the fewest, most contiguous anomalous steps. (The paper's pruning of
    anomalies by minimum percentage decrease is not applied.) Inf when no candidate flags anything."""
    scores = np.asarray(scores, dtype=float)
    mean, sd = scores.mean(), scores.std()
    best, chosen = -np.inf, np.inf
    for z in candidates:
        eps = mean + z * sd
        below = scores[scores <= eps]
        above = scores > eps
        if not above.any() or len(below) == 0:
            continue
        runs = len(ranges(above))
        gain = (mean - below.mean()) / abs(mean or 1.0) + (sd - below.std()) / (sd or 1.0)
        value = gain / (above.sum() + runs**2)
        if value > best:
            best, chosen = value, eps
    return float(chosen)


class NextStepNet(nn.Module):
    """x (N, T, 1) -> the prediction of x[t + 1] at every step t, (N, T)."""

    def __init__(self, *, hidden_size: int, num_layers: int, cell: str):
        super().__init__()
        self.rnn = recurrent_layer(
            cell, 1, hidden_size, num_layers=num_layers, bidirectional=False, dropout=0.0, recurrent_dropout=0.0
        )
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)  # (N, T, H)
        return self.head(out)[..., 0]


class WindowAutoencoder(nn.Module):
    """x (N, W, 1) -> its reconstruction (N, W): the encoder's last hidden state, repeated W times, decoded."""

    def __init__(self, *, hidden_size: int, num_layers: int, cell: str):
        super().__init__()
        options = dict(num_layers=num_layers, bidirectional=False, dropout=0.0, recurrent_dropout=0.0)
        self.encoder = recurrent_layer(cell, 1, hidden_size, **options)
        self.decoder = recurrent_layer(cell, hidden_size, hidden_size, **options)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        N, W, _ = x.shape
        out, _ = self.encoder(x)  # (N, W, H)
        latent = out[:, -1:].expand(N, W, out.shape[2])  # (N, W, H): the summary, repeated at every step
        decoded, _ = self.decoder(latent)
        return self.head(decoded)[..., 0]


class Seq2SeqAutoencoder(nn.Module):
    """EncDec-AD (Malhotra et al. 2016): x (N, W, 1) -> its reconstruction (N, W). The encoder's final state starts
    a decoder that rebuilds the window in reverse order. In training it reads at each step the true value after
    the one it rebuilds (teacher forcing); in scoring (eval mode) it reads its own previous output, as the paper
    does, so a window it cannot summarize cannot be copied back from its inputs."""

    def __init__(self, *, hidden_size: int, num_layers: int, cell: str):
        super().__init__()
        options = dict(num_layers=num_layers, bidirectional=False, dropout=0.0, recurrent_dropout=0.0)
        self.encoder = recurrent_layer(cell, 1, hidden_size, **options)
        self.decoder = recurrent_layer(cell, 1, hidden_size, **options)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, state = self.encoder(x)
        if self.training:
            backwards = x.flip(1)  # (N, W, 1): x_W, ..., x_1
            inputs = torch.cat([torch.zeros_like(backwards[:, :1]), backwards[:, :-1]], dim=1)  # 0, x_W, ..., x_2
            decoded, _ = self.decoder(inputs, state)
            return self.head(decoded)[..., 0].flip(1)  # back in time order
        step, rebuilt = torch.zeros_like(x[:, :1]), []
        for _ in range(x.shape[1]):  # free-running: each rebuilt value is the next input
            out, state = self.decoder(step, state)
            step = self.head(out)  # (N, 1, 1)
            rebuilt.append(step[:, 0, 0])
        return torch.stack(rebuilt[::-1], dim=1)


class AnomalyDetector(SequenceEstimator):
    """Flag the steps of a series that a model of its normal behaviour explains badly (see the module docstring).

    Fitted attributes: ``mean_``, ``std_`` (the series' training statistics), ``score_mean_``, ``score_std_``
    (of the raw training scores), ``threshold_`` (on the standardized scores), ``model_``, ``history_``.
    """

    kind = "AnomalyDetector"

    def __init__(
        self,
        scorer: str = "forecast",
        window: int = 64,
        hidden_size: int = 32,
        num_layers: int = 1,
        cell: str = "lstm",
        threshold_quantile: float = 0.99,
        threshold: str = "quantile",  # "quantile": of the training scores; "dynamic": Hundman's, per scored series
        smoothing: int = 16,  # the span of the causal exponential moving average over the raw scores (1: none)
        epochs: int = 30,
        batch_size: int = 32,
        lr: float = 3e-3,
        patience: int | None = 5,
        val_fraction: float = 0.1,
        seed: int = 0,
        progress: bool | None = False,
    ):
        self.scorer = scorer
        self.window = window
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.cell = cell
        self.threshold_quantile = threshold_quantile
        self.threshold = threshold
        self.smoothing = smoothing
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.patience = patience
        self.val_fraction = val_fraction
        self.seed = seed
        self.progress = progress

    def check_params(self) -> None:
        check_choice("scorer", self.scorer, SCORERS)
        check_integer("window", self.window, 4)
        check_integer("hidden_size", self.hidden_size, 1)
        check_integer("num_layers", self.num_layers, 1)
        check_choice("cell", self.cell, CELLS)
        check_number("threshold_quantile", self.threshold_quantile, 0.0, 1.0, low_open=True, high_open=True)
        check_integer("smoothing", self.smoothing, 1)
        check_choice("threshold", self.threshold, THRESHOLDS)
        check_number("val_fraction", self.val_fraction, 0.0, 1.0, high_open=True)
        self._check_training_params()

    # ---- inputs --------------------------------------------------------------------------------

    def _series(self, series, name: str = "series") -> np.ndarray:
        values = np.asarray(series, dtype=float).reshape(-1) if np.ndim(series) else np.array([])
        if values.ndim != 1 or len(values) < self.window + 1:
            raise DataError(f"expected {name} as at least {self.window + 1} numbers (window {self.window} + 1)")
        if not np.isfinite(values).all():
            raise DataError(
                f"{name} has missing or infinite values at steps {np.flatnonzero(~np.isfinite(values))[:5]}"
            )
        return values

    def _windows(self, z: np.ndarray, usable: np.ndarray, stride: int) -> np.ndarray:
        """Starts of the windows (of ``window`` + 1 steps for the forecaster) that lie wholly in ``usable`` steps."""
        span = self.window + (1 if self.scorer == "forecast" else 0)
        starts = np.arange(0, len(z) - span + 1, stride)
        bad = np.concatenate([[0], np.cumsum(~usable)])
        return starts[(bad[starts + span] - bad[starts]) == 0]

    # ---- fitting -------------------------------------------------------------------------------

    def _build_model(self) -> nn.Module:
        if hasattr(self, "sequence_length_"):
            network = Seq2SeqAutoencoder if self.scorer == "seq2seq" else WindowAutoencoder
        else:
            network = {"forecast": NextStepNet, "autoencoder": WindowAutoencoder, "seq2seq": Seq2SeqAutoencoder}[
                self.scorer
            ]
        return network(hidden_size=self.hidden_size, num_layers=self.num_layers, cell=self.cell)

    def fit(self, series, normal=None, checkpoint_dir=None, callbacks=()) -> AnomalyDetector:
        """Learn the normal behaviour of ``series`` (mostly normal; with ``normal``, a 0/1 mask, only the windows
        wholly inside normal steps train)."""
        self.check_params()
        self.__dict__.pop("sequence_length_", None)
        values = self._series(series)
        usable = np.ones(len(values), dtype=bool) if normal is None else np.asarray(normal).astype(bool)
        if usable.shape != values.shape:
            raise DataError(f"expected normal as {len(values)} 0/1 flags, one per step, got shape {usable.shape}")
        self.mean_, self.std_ = float(values[usable].mean()), float(values[usable].std() or 1.0)
        z = (values - self.mean_) / self.std_
        starts = self._windows(z, usable, max(1, self.window // 4))
        if len(starts) < 2:
            raise DataError(f"the normal steps hold {len(starts)} whole windows of {self.window}; expected at least 2")
        span = self.window + (1 if self.scorer == "forecast" else 0)
        windows = torch.from_numpy(z[starts[:, None] + np.arange(span)].astype(np.float32))
        if self.scorer == "forecast":
            x, y = windows[:, :-1, None], windows[:, 1:]
        else:
            x, y = windows[..., None], windows
        n_val = int(round(self.val_fraction * len(x))) if len(x) > 10 else 0
        torch.manual_seed(self.seed)
        model = self._build_model()
        val = (x[len(x) - n_val :], y[len(x) - n_val :]) if n_val else None
        trainer = self.train(
            model, nn.MSELoss(), (x[: len(x) - n_val], y[: len(x) - n_val]), val, checkpoint_dir, callbacks=callbacks
        )
        self.model_, self.history_ = model, trainer.history_
        raw = self._raw_scores(z)[usable]
        self.score_mean_, self.score_std_ = float(raw.mean()), float(raw.std() or 1.0)
        self.threshold_ = float(np.quantile((raw - self.score_mean_) / self.score_std_, self.threshold_quantile))
        return self

    # ---- scoring -------------------------------------------------------------------------------

    def _raw_scores(self, z: np.ndarray) -> np.ndarray:
        """Unstandardized scores (T,) of the standardized series ``z``: the model's errors, smoothed by a causal
        exponential moving average of span ``smoothing`` (Hundman et al. 2018 smooth the same way: one large
        error is noise, a run of them is an anomaly)."""
        errors = self._errors(z)
        if self.smoothing == 1:
            return errors
        return pd.Series(errors).ewm(span=self.smoothing, adjust=False).mean().to_numpy()

    @torch.no_grad()
    def _errors(self, z: np.ndarray) -> np.ndarray:
        """The model's error at every step of the standardized series ``z``, (T,)."""
        self.model_.eval()
        if self.scorer == "forecast":
            predicted = self.model_(torch.from_numpy(z[None, :-1, None].astype(np.float32)))[0].numpy()
            return np.concatenate([[0.0], np.abs(z[1:] - predicted)])  # step 0 has no past: no evidence, error 0
        stride = max(1, self.window // 4)
        starts = np.arange(0, len(z) - self.window + 1, stride)
        if starts[-1] != len(z) - self.window:
            starts = np.append(starts, len(z) - self.window)  # the last steps are covered too
        windows = torch.from_numpy(z[starts[:, None] + np.arange(self.window)].astype(np.float32))
        errors = (self.model_(windows[..., None]).numpy() - windows.numpy()) ** 2  # (n, W)
        total, count = np.zeros(len(z)), np.zeros(len(z))
        for start, error in zip(starts, errors, strict=True):
            total[start : start + self.window] += error
            count[start : start + self.window] += 1
        return total / count

    def score_samples(self, series) -> np.ndarray:
        """One score per step (higher = more anomalous), in training-score sds above the training mean."""
        self._check_fitted()
        z = (self._series(series) - self.mean_) / self.std_
        return (self._raw_scores(z) - self.score_mean_) / self.score_std_

    def threshold_for(self, scores: np.ndarray) -> float:
        """The threshold for these scores: ``threshold_`` (training quantile), or Hundman's on the scores."""
        return self.threshold_ if self.threshold == "quantile" else dynamic_threshold(scores)

    def flag(self, scores: np.ndarray) -> np.ndarray:
        """0/1 per step of already computed ``scores``: 1 above ``threshold_for(scores)``."""
        return (scores > self.threshold_for(scores)).astype(np.int8)

    def ranges_of(self, scores: np.ndarray) -> list[dict]:
        """The flagged ranges of already computed ``scores``: ``start``, ``end`` (inclusive) and the ``peak`` score."""
        return [
            {"start": first, "end": last, "peak": float(scores[first : last + 1].max())}
            for first, last in ranges(self.flag(scores))
        ]

    def predict(self, series) -> np.ndarray:
        """0/1 per step: 1 where the score exceeds the threshold (``threshold``)."""
        return self.flag(self.score_samples(series))

    def anomalies(self, series) -> list[dict]:
        """The flagged ranges (see ``ranges_of``)."""
        return self.ranges_of(self.score_samples(series))

    # ---- sets of sequences ---------------------------------------------------------------------

    def fit_sequences(self, X, checkpoint_dir=None, callbacks=()) -> AnomalyDetector:
        """Learn normal sequences ``X`` (N, T), e.g. normal heartbeats: the autoencoder, with window = T (each
        sequence one window); ``score_sequences`` then gives one score per sequence."""
        self.check_params()
        X = self._sequences(X, None)
        values = X.reshape(-1)
        self.mean_, self.std_ = float(values.mean()), float(values.std() or 1.0)
        z = torch.from_numpy(((X - self.mean_) / self.std_).astype(np.float32))
        self.sequence_length_ = X.shape[1]
        n_val = int(round(self.val_fraction * len(z))) if len(z) > 10 else 0
        torch.manual_seed(self.seed)
        model = self._build_model()
        train = (z[: len(z) - n_val, :, None], z[: len(z) - n_val])
        val = (z[len(z) - n_val :, :, None], z[len(z) - n_val :]) if n_val else None
        trainer = self.train(model, nn.MSELoss(), train, val, checkpoint_dir, callbacks=callbacks)
        self.model_, self.history_ = model, trainer.history_
        raw = self._sequence_errors(X)
        self.score_mean_, self.score_std_ = float(raw.mean()), float(raw.std() or 1.0)
        self.threshold_ = float(np.quantile((raw - self.score_mean_) / self.score_std_, self.threshold_quantile))
        return self

    def _sequences(self, X, length: int | None) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or len(X) < 2 or (length is not None and X.shape[1] != length):
            expected = f"(N, {length})" if length else "(N, T) with N >= 2"
            raise DataError(f"expected the sequences as an array {expected}, got shape {X.shape}")
        if not np.isfinite(X).all():
            raise DataError("the sequences have missing or infinite values")
        return X

    @torch.no_grad()
    def _sequence_errors(self, X: np.ndarray) -> np.ndarray:
        z = torch.from_numpy(((X - self.mean_) / self.std_).astype(np.float32))
        self.model_.eval()
        return ((self.model_(z[..., None]) - z) ** 2).mean(dim=1).numpy()

    def score_sequences(self, X) -> np.ndarray:
        """One score per sequence (N,): its mean squared reconstruction error, in training-score sds above the
        training mean (after ``fit_sequences``)."""
        self._check_fitted()
        if not hasattr(self, "sequence_length_"):
            raise ParameterError("score_sequences needs a detector fitted with fit_sequences")
        X = self._sequences(X, self.sequence_length_)
        return (self._sequence_errors(X) - self.score_mean_) / self.score_std_

    # ---- streaming -----------------------------------------------------------------------------

    def start_stream(self, history=None) -> None:
        """Begin scoring a live series one value at a time (``update``), from scratch or after ``history`` (its
        values are read to set the state, their scores dropped). The forecast scorer only."""
        self._check_fitted()
        if self.scorer != "forecast":
            raise ParameterError("streaming scores need scorer='forecast' (an autoencoder needs a whole window)")
        self.model_.eval()
        head = self.model_.head
        self._stream = {
            "layer": self.model_.rnn.stream(),  # the recurrent state, held; one compiled call per value
            "input": torch.zeros(1, 1),
            "head": (head.weight.detach()[0].clone(), float(head.bias.detach()[0])),  # prediction = w . h + b
            "prediction": None,
            "smoothed": None,
        }
        for value in [] if history is None else np.asarray(history, dtype=float).reshape(-1):
            self.update(value)

    @torch.no_grad()
    def update(self, value: float) -> float:
        """The score of the next value of the stream (as ``score_samples`` gives it for that step of the whole
        series), then the value is read: the recurrent state is carried, nothing is recomputed."""
        if not hasattr(self, "_stream"):
            self.start_stream()
        stream = self._stream
        z = (float(value) - self.mean_) / self.std_
        if not np.isfinite(z):
            raise DataError(f"expected a finite value, got {value!r}")
        error = 0.0 if stream["prediction"] is None else abs(z - stream["prediction"])
        alpha = 2.0 / (self.smoothing + 1)
        smoothed = error if stream["smoothed"] is None else (1 - alpha) * stream["smoothed"] + alpha * error
        stream["input"][0, 0] = z
        h = stream["layer"](stream["input"])[0]  # (H,)
        weight, bias = stream["head"]
        stream["prediction"], stream["smoothed"] = float(torch.dot(weight, h)) + bias, smoothed
        return (smoothed - self.score_mean_) / self.score_std_

    # ---- persistence ---------------------------------------------------------------------------

    def _fitted_state(self) -> dict:
        names = ("mean_", "std_", "score_mean_", "score_std_", "threshold_")
        return {name: getattr(self, name) for name in names} | {
            "sequence_length": getattr(self, "sequence_length_", None),
            "history": self.history_,
        }

    def _restore_fitted(self, state: dict) -> None:
        for name in ("mean_", "std_", "score_mean_", "score_std_", "threshold_"):
            setattr(self, name, float(state[name]))
        if state["sequence_length"] is not None:
            self.sequence_length_ = int(state["sequence_length"])
        self.history_ = state["history"]
