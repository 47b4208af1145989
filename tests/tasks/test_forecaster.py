"""Forecaster: windows, scaling on the training part only, roll-out, intervals, quality, persistence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmkit.data import load_dataset
from lstmkit.data.transforms import guerrero_lambda, wants_log
from lstmkit.data.windows import make_windows
from lstmkit.errors import CheckpointError, DataError, NotFittedError, ParameterError
from lstmkit.tasks import Forecaster, backtest
from lstmkit.tasks.base import member_seeds
from lstmkit.tasks.forecast_baselines import baseline_forecast, fourier_terms
from lstmkit.tasks.metrics import mae, mase, naive_forecast, seasonal_naive_forecast, smape
from lstmkit.tasks.modules import ForecastEnsemble


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
    assert forecaster.seasonal_period_ == 12 and forecaster.lookback_ == 4 * 12  # four seasons
    assert forecaster.log_  # the swings grow with the level
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
    with_x = Forecaster(horizon=1, lookback=4, epochs=60, ensemble=1, covariates=("x",), seed=0).fit(frame)
    alone = Forecaster(horizon=1, lookback=4, epochs=60, ensemble=1, seed=0).fit(frame)  # x is not read
    assert with_x.columns_ == ["y", "x"] and alone.columns_ == ["y"]
    err_with = np.abs(with_x.one_step_ahead(frame, 320)["forecast"] - target[320:]).mean()
    err_alone = np.abs(alone.one_step_ahead(frame[["y"]], 320)["forecast"] - target[320:]).mean()
    assert err_with < 0.5 * err_alone
    at_horizon = with_x.predict()  # reads the last window of y and x
    extended = pd.concat([frame, pd.DataFrame({"y": [0.0], "x": [0.0]})], ignore_index=True)  # row 400: unread
    assert at_horizon["forecast"].iloc[0] == pytest.approx(with_x.one_step_ahead(extended, 400)["forecast"].iloc[0])
    assert at_horizon["forecast"].iloc[0] == pytest.approx(3 * driver[-1], abs=0.5)
    with pytest.raises(ParameterError, match=r"rolling out 2 needs the future values of its past covariates \['x'\]"):
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
    assert list(result.summary().index)[:3] == ["lstm", "naive", "seasonal_naive"]
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
    assert adjustment == max(0.0, scores[int(np.ceil(0.8 * (len(scores) + 1))) - 1])  # widened, never narrowed
    calibrated = forecaster._quantiles(windows[-n_val:])
    inside = (actual >= calibrated[..., 0]) & (actual <= calibrated[..., -1])
    assert inside.mean() >= 0.8  # by construction on the windows it was calibrated on
    np.testing.assert_array_equal(calibrated[..., 1], raw[..., 1])  # the point forecast does not move


def promotions(T=400, seed=2):
    """y_t = 4 x_t + noise, x known in advance (a promotion calendar): only a future covariate explains it."""
    rng = np.random.default_rng(seed)
    x = (rng.random(T) < 0.3).astype(float)
    return pd.DataFrame({"y": 4 * x + 0.2 * rng.normal(size=T), "x": x})


def test_future_covariates_are_read_over_the_horizon_and_required_by_predict():
    frame = promotions()
    train, ahead = frame.iloc[:-6], frame.iloc[-6:]
    options = dict(horizon=3, lookback=6, epochs=150, ensemble=1, patience=30, seed=0)
    known = Forecaster(future_covariates=("x",), **options).fit(train)
    blind = Forecaster(**options).fit(train)
    assert known.columns_ == ["y", "x"] and known.model_.members[0].future_head is not None
    forecast = known.predict(future=ahead[["x"]])
    assert np.abs(forecast["forecast"].to_numpy() - ahead["y"].to_numpy()[:3]).max() < 1.0
    held_out = frame["y"].to_numpy()[300:-6]  # one step ahead from every origin; x read from the frame
    error_known = mae(held_out, known.one_step_ahead(frame.iloc[:-6], 300)["forecast"])
    assert error_known < 0.5 * mae(held_out, blind.one_step_ahead(frame.iloc[:-6], 300)["forecast"])
    # beyond the trained horizon: block by block, the first block as at the horizon
    longer = known.predict(6, future=ahead)
    pd.testing.assert_frame_equal(longer.iloc[:3], forecast)
    assert np.abs(longer["forecast"].to_numpy() - ahead["y"].to_numpy()).max() < 1.0
    # a history that ends where the first block ends gives the second block
    history = pd.concat([train, pd.DataFrame({"y": forecast["forecast"].to_numpy(), "x": ahead["x"].to_numpy()[:3]})])
    second = known.predict(history=history.reset_index(drop=True), future=ahead.iloc[3:])
    np.testing.assert_allclose(second["forecast"].to_numpy(), longer["forecast"].to_numpy()[3:], rtol=1e-5)
    with pytest.raises(DataError, match=r"reads the future covariates \['x'\] over the horizon: pass future="):
        known.predict()
    with pytest.raises(
        DataError, match=r"expected at least 6 rows of the 1 future covariates \['x'\], got shape \(3, 1\)"
    ):
        known.predict(6, future=ahead.iloc[:3])
    with pytest.raises(DataError, match=r"future: columns \['x'\] not found"):
        known.predict(future=ahead[["y"]])


def test_covariate_names_are_checked():
    frame = promotions(60)
    with pytest.raises(DataError, match=r"covariate columns \['z'\] not found; columns are y, x"):
        Forecaster(covariates=("z",), epochs=1).fit(frame)
    with pytest.raises(ParameterError, match=r"columns \['x'\] are named both as past and as future covariates"):
        Forecaster(covariates=("x",), future_covariates=("x",)).fit(frame)
    with pytest.raises(DataError, match="'y' is the target; it cannot also be a covariate"):
        Forecaster(future_covariates=("y",), epochs=1).fit(frame)
    with pytest.raises(ParameterError, match="expected covariates as a tuple of column names"):
        Forecaster(covariates="x").fit(frame)


def test_the_log_transform_is_chosen_on_the_training_part_and_inverted_exactly():
    y = load_dataset("airline")
    forecaster = Forecaster(horizon=3, lookback=24, epochs=2, ensemble=1).fit(y)
    values = y.to_numpy()[:, None]
    assert forecaster.log_
    np.testing.assert_array_equal(forecaster._model_scale(values)[:, 0], np.log(values[:, 0]))
    np.testing.assert_allclose(
        forecaster._series_units(forecaster._model_scale(values)[:, 0]), values[:, 0], rtol=1e-15
    )
    assert not Forecaster(horizon=3, lookback=24, epochs=2, ensemble=1, transform="none").fit(y).log_
    assert not Forecaster(horizon=2, lookback=12, epochs=2, ensemble=1).fit(noisy_seasonal(120)).log_  # negative
    with pytest.raises(DataError, match="transform='log' needs a positive target"):
        Forecaster(horizon=2, lookback=12, epochs=2, transform="log").fit(noisy_seasonal(120))
    with pytest.raises(DataError, match="forecasts the log of 'passengers'; got values down to -1"):
        forecaster.predict(history=y.where(y.index != y.index[-1], -1.0))


def test_guerrero_lambda_matches_coreforecast():
    scalers = pytest.importorskip("coreforecast.scalers")
    rng = np.random.default_rng(0)
    series = [load_dataset("airline").to_numpy(), np.exp(rng.normal(size=80).cumsum() * 0.05) * 50]
    series += [10 + np.abs(rng.normal(size=60)) * np.arange(1, 61) / 10]
    for values, period in zip(series, (12, 4, 6), strict=True):
        ours = guerrero_lambda(values, period, lower=-0.9, upper=2.0)
        assert ours == pytest.approx(scalers.boxcox_lambda(values, "guerrero", season_length=period), abs=1e-3)
    assert wants_log(load_dataset("airline").to_numpy(), 12)
    t = np.arange(120)
    assert not wants_log(100 + 2 * t + noisy_seasonal(120), 12)  # the level triples, the swings stay the same
    assert not wants_log(np.full(30, 5.0), 12)


def test_the_forecast_is_the_median_of_independently_seeded_members():
    y = noisy_seasonal(200)
    forecaster = Forecaster(horizon=2, lookback=12, epochs=3, ensemble=3, seed=5).fit(y)
    assert len(forecaster.model_.members) == 3 and len(forecaster.history_) == 3
    assert set(member_seeds(0, 5)).isdisjoint(member_seeds(1, 5)) and member_seeds(0, 2) == member_seeds(0, 5)[:2]
    windows = y[None, -12:, None]
    ensemble, forecaster.model_ = forecaster.model_, None
    singles = []
    for member in ensemble.members:
        forecaster.model_ = ForecastEnsemble([member]).eval()
        forecaster.interval_adjustment_, kept = 0.0, forecaster.interval_adjustment_
        singles.append(forecaster._quantiles(windows)[0, :, 1])
        forecaster.interval_adjustment_ = kept
    forecaster.model_ = ensemble
    np.testing.assert_allclose(forecaster._quantiles(windows)[0, :, 1], np.median(singles, axis=0), rtol=1e-6)
    assert np.ptp(np.array(singles), axis=0).min() > 0  # the members differ


def test_the_default_model_beats_seasonal_naive_on_airline_for_most_seeds():
    y = load_dataset("airline")
    wins = 0
    for seed in range(3):
        summary = backtest(Forecaster(horizon=12, seed=seed), y, folds=3).summary()
        wins += summary.loc["lstm", "MAE"] < summary.loc["seasonal_naive", "MAE"]
    assert wins >= 2


def test_ets_and_arima_join_the_backtest_with_statsforecast():
    models = pytest.importorskip("statsforecast.models")
    y = load_dataset("airline")
    result = backtest(Forecaster(horizon=12, epochs=2, ensemble=1), y, folds=1)
    assert result.models == ("lstm", "naive", "seasonal_naive", "ets", "arima")
    history = y.to_numpy()[:-12]
    for name, model in (("ets", models.AutoETS), ("arima", models.AutoARIMA)):
        expected = model(season_length=12).fit(history).predict(h=12)["mean"]  # statsforecast's fit/predict path
        np.testing.assert_allclose(result.forecasts[name].to_numpy(), expected, rtol=1e-6)
        row = result.scores.query(f"model == '{name}'").iloc[0]
        assert row["MAE"] == pytest.approx(mae(y.to_numpy()[-12:], expected))


def test_a_long_season_arima_is_a_harmonic_regression():
    pytest.importorskip("statsforecast")
    rng = np.random.default_rng(3)
    t = np.arange(313)
    y = 10 + 3 * np.sin(2 * np.pi * t / 52) + 0.02 * t + 0.3 * rng.normal(size=313)  # weekly, a yearly season
    terms = fourier_terms(t[:3], 52, 2)
    np.testing.assert_allclose(
        terms[1], [np.sin(2 * np.pi / 52), np.sin(4 * np.pi / 52), np.cos(2 * np.pi / 52), np.cos(4 * np.pi / 52)]
    )
    forecast = baseline_forecast("arima", y[:300], 13, 52)
    assert mae(y[300:], forecast) < 0.8 * mae(y[300:], seasonal_naive_forecast(y[:300], 13, 52))


def test_a_baseline_that_cannot_fit_is_left_out_and_named():
    pytest.importorskip("statsforecast")
    y = 10 + np.sin(np.arange(5.0))
    result = backtest(Forecaster(horizon=1, lookback=1, epochs=1, ensemble=1), y, folds=1)
    assert "ets" in result.skipped and "ETS (statsforecast AutoETS) cannot fit 4 values" in result.skipped["ets"]
    assert "ets" not in result.models and set(result.scores["model"]) == set(result.models)
