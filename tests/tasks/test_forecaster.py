"""Forecaster: windows, scaling on the training part only, roll-out, intervals, quality, persistence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmkit.data import load_dataset
from lstmkit.data.windows import make_windows
from lstmkit.errors import CheckpointError, DataError, NotFittedError, ParameterError
from lstmkit.tasks import Forecaster, backtest
from lstmkit.tasks.metrics import mae, mase, naive_forecast, seasonal_naive_forecast, smape


def noisy_seasonal(T=700, sigma=1.0, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(T)
    return 10 * np.sin(2 * np.pi * t / 12) + 0.02 * t + rng.normal(0, sigma, T)


def test_windows_read_the_past_and_predict_the_future():
    values = np.arange(20.0).reshape(10, 2)  # column 0: 0, 2, 4, ...
    inputs, targets = make_windows(values, lookback=3, horizon=2)
    assert inputs.shape == (6, 3, 2) and targets.shape == (6, 2)
    np.testing.assert_array_equal(inputs[1, :, 0], [2, 4, 6])
    np.testing.assert_array_equal(targets[1], [8, 10])
    with pytest.raises(ValueError, match="make no window"):
        make_windows(values, 8, 3)


def test_metrics_match_their_definitions():
    actual, forecast = np.array([100.0, 200.0]), np.array([110.0, 180.0])
    assert mae(actual, forecast) == 15.0
    assert smape(actual, forecast) == pytest.approx(200 / 2 * (10 / 210 + 20 / 380))  # 200/h sum |y-f|/(|y|+|f|)
    insample = np.array([1.0, 3.0, 2.0, 6.0])
    assert mase(actual, forecast, insample, 1) == pytest.approx(15.0 / np.mean([2.0, 1.0, 4.0]))
    assert mase(actual, forecast, insample, 2) == pytest.approx(15.0 / np.mean([1.0, 3.0]))
    np.testing.assert_array_equal(naive_forecast([1, 2, 7], 2), [7, 7])
    np.testing.assert_array_equal(seasonal_naive_forecast(np.arange(8.0), 5, 4), [4, 5, 6, 7, 4])


def test_scaling_uses_the_training_part_only():
    y = noisy_seasonal(300)
    a = Forecaster(horizon=2, lookback=12, epochs=2).fit(y)
    changed = y.copy()
    changed[-40:] *= 50  # the validation part (the last 20% of the windows) only
    b = Forecaster(horizon=2, lookback=12, epochs=2).fit(changed)
    assert a.scaling_ == b.scaling_
    assert a.scaling_.step == pytest.approx(np.mean(np.abs(np.diff(y[: len(y) - 58 + 0]))), rel=0.05)


def test_intervals_cover_their_nominal_share_on_data_with_known_noise():
    y = noisy_seasonal(700, sigma=1.0)
    forecaster = Forecaster(horizon=1, lookback=24, epochs=80, batch_size=32, seed=0).fit(y[:500])
    held_out = forecaster.one_step_ahead(y, 500)
    inside = (y[500:] >= held_out["lower"]) & (y[500:] <= held_out["upper"])
    assert 0.7 <= inside.mean() <= 0.9  # nominal 80%
    width = (held_out["upper"] - held_out["lower"]).mean()
    assert 2.56 * 0.8 <= width <= 2.56 * 1.5  # the true 80% interval of N(0, 1) noise is 2 * 1.2816 wide
    assert np.abs(held_out["forecast"] - y[500:]).mean() < 1.2  # the noise alone gives 0.80


def test_airline_last_24_months_beat_the_naive_forecast():
    y = load_dataset("airline")
    train, test = y[:-24], y[-24:]
    forecaster = Forecaster(horizon=12, seed=0).fit(train)
    assert forecaster.seasonal_period_ == 12 and forecaster.lookback_ == 24
    forecast = forecaster.predict(24)
    assert list(forecast.index) == list(test.index)
    ours, naive = forecast["forecast"].to_numpy(), naive_forecast(train.to_numpy(), 24)
    assert smape(test, ours) < smape(test, naive)
    assert mase(test, ours, train, 12) < mase(test, naive, train, 12)
    scores = forecaster.score(test.to_numpy())
    assert scores["sMAPE"] == pytest.approx(smape(test, ours))
    assert scores["MASE"] == pytest.approx(mase(test, ours, train, 12))


def test_sunspots_one_step_ahead_beats_persistence():
    y = load_dataset("sunspots")
    split = len(y) - 50
    forecaster = Forecaster(horizon=1, seed=0).fit(y[:split])
    ours = forecaster.one_step_ahead(y, split)["forecast"].to_numpy()
    actual, persistence = y.to_numpy()[split:], y.to_numpy()[split - 1 : -1]
    assert mae(actual, ours) < 0.8 * mae(actual, persistence)


def test_recursive_roll_out_feeds_the_medians_back():
    y = pd.Series(noisy_seasonal(200), index=pd.RangeIndex(0, 400, 2))
    forecaster = Forecaster(horizon=3, lookback=12, epochs=3).fit(y)
    long = forecaster.predict(7)
    assert list(long.index) == list(range(400, 414, 2))
    first = forecaster.predict()
    pd.testing.assert_frame_equal(long.iloc[:3], first)
    history = pd.concat([y, first["forecast"]])
    second = forecaster.predict(history=history)
    np.testing.assert_allclose(long["forecast"].to_numpy()[3:6], second["forecast"].to_numpy(), rtol=1e-6)
    assert (long["lower"] <= long["forecast"]).all() and (long["forecast"] <= long["upper"]).all()


def test_covariates_are_used_and_limit_the_roll_out():
    rng = np.random.default_rng(1)
    driver = rng.normal(size=400)
    target = np.concatenate([[0.0], 3 * driver[:-1]]) + 0.1 * rng.normal(size=400)  # y_t = 3 x_{t-1} + noise
    frame = pd.DataFrame({"y": target, "x": driver})
    with_x = Forecaster(horizon=1, lookback=4, epochs=60, seed=0).fit(frame)
    alone = Forecaster(horizon=1, lookback=4, epochs=60, seed=0).fit(frame[["y"]])
    assert with_x.columns_ == ["y", "x"]
    err_with = np.abs(with_x.one_step_ahead(frame, 320)["forecast"] - target[320:]).mean()
    err_alone = np.abs(alone.one_step_ahead(frame[["y"]], 320)["forecast"] - target[320:]).mean()
    assert err_with < 0.5 * err_alone
    with pytest.raises(ParameterError, match=r"rolling out 2 needs the future covariates \['x'\]"):
        with_x.predict(2)


def test_save_and_load_give_the_same_forecasts(tmp_path):
    y = load_dataset("airline")
    forecaster = Forecaster(horizon=6, epochs=5).fit(y)
    forecaster.save(tmp_path / "model")
    loaded = Forecaster.load(tmp_path / "model")
    pd.testing.assert_frame_equal(loaded.predict(8), forecaster.predict(8))
    assert loaded.history_ == forecaster.history_
    with pytest.raises(CheckpointError, match="missing"):
        Forecaster.load(tmp_path / "nothing")


def test_same_seed_same_forecast_and_input_checks():
    y = noisy_seasonal(120)
    a = Forecaster(horizon=2, lookback=12, epochs=5, seed=4).fit(y).predict()
    b = Forecaster(horizon=2, lookback=12, epochs=5, seed=4).fit(y).predict()
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(NotFittedError, match="call fit"):
        Forecaster().predict()
    with pytest.raises(DataError, match="the series has 20 rows; lookback 24 \\+ horizon 1 needs at least 26"):
        Forecaster().fit(np.arange(20.0))
    with pytest.raises(ParameterError, match="include 0.5"):
        Forecaster(quantiles=(0.1, 0.9)).fit(y)


def test_backtest_folds_tile_the_end_and_score_the_baselines():
    y = load_dataset("airline")
    result = backtest(Forecaster(horizon=12, epochs=5), y, folds=2)
    forecasts = result.forecasts
    assert list(forecasts.index) == list(y.index[-24:])
    fold1 = forecasts[forecasts["fold"] == 1]
    np.testing.assert_array_equal(fold1["actual"], y.to_numpy()[-24:-12])
    np.testing.assert_array_equal(fold1["naive"], np.full(12, y.to_numpy()[-25]))
    np.testing.assert_array_equal(fold1["seasonal_naive"], y.to_numpy()[-36:-24])
    row = result.scores.query("fold == 1 and model == 'naive'").iloc[0]
    assert row["MASE"] == pytest.approx(mase(fold1["actual"], fold1["naive"], y.to_numpy()[:-24], 12))
    assert list(result.summary().index) == ["lstm", "naive", "seasonal_naive"]
    with pytest.raises(DataError, match="3 folds of horizon 40 need at least"):
        backtest(Forecaster(horizon=40), y, folds=3)


def test_conformal_adjustment_is_the_calibrated_score_of_the_validation_windows():
    y = noisy_seasonal(300, sigma=2.0)
    forecaster = Forecaster(horizon=3, lookback=12, epochs=15, seed=1).fit(y)
    windows, targets = make_windows(y[:, None], 12, 3)
    n_val = round(0.2 * len(windows))
    adjustment = forecaster.interval_adjustment_
    forecaster.interval_adjustment_ = 0.0
    raw = forecaster._quantiles(windows[-n_val:])
    forecaster.interval_adjustment_ = adjustment
    actual = targets[-n_val:]
    scores = np.sort(np.maximum(raw[..., 0] - actual, actual - raw[..., -1]).ravel())
    assert adjustment == scores[int(np.ceil(0.8 * (len(scores) + 1))) - 1]
    calibrated = forecaster._quantiles(windows[-n_val:])
    inside = (actual >= calibrated[..., 0]) & (actual <= calibrated[..., -1])
    assert inside.mean() >= 0.8  # by construction on the windows it was calibrated on
    np.testing.assert_array_equal(calibrated[..., 1], raw[..., 1])  # the point forecast does not move
