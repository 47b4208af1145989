"""The reliability fixes, each reproduced as it was reported: nothing a user owns is lost, wrong types are typed
errors, checks that depend on the data run before anything is written."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from lstmkit import nn as lnn
from lstmkit.data import load_dataset
from lstmkit.errors import (
    CheckpointError,
    DataError,
    OutputPathError,
    ParameterError,
    ParameterTypeError,
)
from lstmkit.tasks import Forecaster
from lstmkit.training import TrainConfig, Trainer, load_checkpoint, save_checkpoint


@pytest.fixture(scope="module")
def fitted():
    torch.set_num_threads(1)
    return Forecaster(horizon=3, lookback=6, epochs=2).fit(load_dataset("airline"))


def test_saving_into_a_users_folder_or_onto_a_file_loses_nothing(fitted, tmp_path):
    folder = tmp_path / "existing"
    folder.mkdir()
    (folder / "thesis.tex").write_text("years of work")
    with pytest.raises(OutputPathError, match="not an lstmkit model folder"):
        fitted.save(folder)
    with pytest.raises(OutputPathError, match="not an lstmkit model folder"):
        fitted.save(folder, overwrite=True)  # overwrite replaces only a model lstmkit saved
    assert [p.name for p in folder.iterdir()] == ["thesis.tex"] and (
        folder / "thesis.tex"
    ).read_text() == "years of work"
    file = tmp_path / "notes.txt"
    file.write_text("mine")
    with pytest.raises(OutputPathError):
        fitted.save(file)
    assert file.read_text() == "mine"
    fitted.save(tmp_path / "model")
    Forecaster.load(tmp_path / "model").save(tmp_path / "model", overwrite=True)
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == ["state.json", "tensors.safetensors"]


def test_wrong_types_are_typed_errors_and_raised_by_fit():
    y = load_dataset("airline")
    for options, message in (
        ({"horizon": 2.5}, "expected horizon to be an integer"),
        ({"horizon": "3"}, "expected horizon to be an integer"),
        ({"lookback": True}, "expected lookback to be an integer"),
        ({"quantiles": (0.1, 0.9)}, "include 0.5"),
        ({"lr": "fast"}, "expected lr to be a number"),
        ({"seed": 2**64}, r"expected seed to be an integer in \[0, 9223372036854775807\]"),
    ):
        forecaster = Forecaster(**options)  # scikit-learn's contract: __init__ stores, fit checks
        with pytest.raises(ParameterError, match=message):
            forecaster.fit(y)
    with pytest.raises(ParameterTypeError):
        Forecaster(horizon=2.5).fit(y)
    with pytest.raises(TypeError):  # a ParameterTypeError is also the TypeError a caller would catch
        Forecaster(horizon="3").fit(y)


def test_predict_checks_its_horizon_and_reads_the_time_step_from_the_whole_series(fitted):
    with pytest.raises(ParameterTypeError, match="expected horizon to be an integer"):
        fitted.predict(2.5)
    short = Forecaster(horizon=2, lookback=1, epochs=1).fit(load_dataset("airline"))  # one row of history
    assert short.step_ == "MS"
    assert list(short.predict(3).index.strftime("%Y-%m")) == ["1961-01", "1961-02", "1961-03"]


def test_covariates_forecast_their_trained_horizon():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"y": np.sin(np.arange(120) / 4) + rng.normal(0, 0.1, 120), "x": rng.normal(size=120)})
    forecaster = Forecaster(horizon=3, lookback=8, epochs=2).fit(frame)
    forecast = forecaster.predict()
    assert len(forecast) == 3 and np.isfinite(forecast.to_numpy()).all()


def test_train_config_checks_every_field(tmp_path):
    for options, message in (
        ({"weight_decay": -1.0}, r"expected weight_decay in \[0.0, inf\)"),
        ({"batch_size": 0}, "expected batch_size to be an integer"),
        ({"lr": math.nan}, "expected lr"),
        ({"momentum": 2.0}, "expected momentum"),
        ({"seed": -1}, "expected seed"),
    ):
        with pytest.raises(ParameterError, match=message):
            TrainConfig(**options)
    file = tmp_path / "file"
    file.write_text("x")
    with pytest.raises(OutputPathError, match="not a folder"):
        TrainConfig(checkpoint_dir=str(file))
    with pytest.raises(OutputPathError, match="is a file, not a folder"):
        Forecaster(horizon=2, epochs=1).fit(load_dataset("airline"), checkpoint_dir=file / "ckpt")
    assert file.read_text() == "x"


def test_a_checkpoint_of_another_model_and_stale_temporaries(tmp_path):
    x, y = torch.randn(20, 4), torch.randn(20, 1)
    config = TrainConfig(epochs=1, progress=False, checkpoint_dir=str(tmp_path))
    Trainer(torch.nn.Linear(4, 1), torch.nn.MSELoss(), config).fit((x, y))
    other = Trainer(torch.nn.Linear(4, 3), torch.nn.MSELoss(), TrainConfig(epochs=2, progress=False))
    with pytest.raises(CheckpointError, match="a checkpoint of another model"):
        other.fit((x, torch.randn(20, 3)), resume_from=tmp_path / "last")
    stale = tmp_path / ".last.abc123.tmp"
    stale.mkdir()  # what a kill during a checkpoint write leaves
    save_checkpoint(tmp_path / "last", {"w": torch.zeros(1)}, {"step": 1})
    assert not stale.exists() and load_checkpoint(tmp_path / "last")[1] == {"step": 1}


def test_layer_options_and_lengths_are_checked():
    with pytest.raises(ParameterError, match="expected forget_bias to be a finite number"):
        lnn.LSTM(3, 4, forget_bias=float("nan"))
    layer = lnn.LSTM(3, 4)
    with pytest.raises(DataError, match="expected lengths as 2 integers"):
        layer(torch.randn(5, 2, 3), lengths=["5", "a"])
    with pytest.raises(DataError, match="expected integer lengths"):
        layer(torch.randn(5, 2, 3), lengths=[5.0, 2.0])
