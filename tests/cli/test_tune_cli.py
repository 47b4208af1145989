"""``lstmkit tune classify``: a study in a run folder, continued through a shared journal file."""

from __future__ import annotations

import json
import shutil

from lstmkit.tasks import Forecaster, SequenceClassifier, load
from tests.cli.helpers import run_cli
from tests.shared_data import shared


def test_a_study_writes_its_trials_the_best_model_and_pictures_and_a_named_study_continues(
    tmp_path, capsys, monkeypatch
):
    for split in ("TRAIN", "TEST"):
        shutil.copy(shared("basic_motions", f"BasicMotions_{split}.ts"), tmp_path / f"{split}.ts")
    data = ["--data", tmp_path / "TRAIN.ts", "--test", tmp_path / "TEST.ts", "--epochs", "2", "--trials", "2"]
    journal = ["--storage", tmp_path / "shared.journal", "--study", "motions"]
    code, out, err = run_cli(["tune", "classify", *data, *journal, "--out", tmp_path / "a"], capsys, monkeypatch)
    assert code == 0, err
    record = json.loads((tmp_path / "a" / "study.json").read_text())
    assert record["study"] == "motions" and record["direction"] == "minimize" and len(record["trials"]) == 2
    assert all(set(t["params"]) == {"lr", "hidden_size", "dropout", "cell"} for t in record["trials"])
    best = min(record["trials"], key=lambda t: t["value"])
    model = load(tmp_path / "a" / "model")
    assert isinstance(model, SequenceClassifier) and model.hidden_size == best["params"]["hidden_size"]
    metrics = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert metrics["best_params"] == best["params"] and 0 <= metrics["test"]["lstm"]["accuracy"] <= 1
    assert (tmp_path / "a" / "history.png").stat().st_size > 5_000
    code, out, err = run_cli(["tune", "classify", *data, *journal, "--out", tmp_path / "b"], capsys, monkeypatch)
    assert code == 0, err
    assert len(json.loads((tmp_path / "b" / "study.json").read_text())["trials"]) == 4  # the study went on
    assert "4 trials in the study" in out


def test_forecast_studies_minimize_the_validation_loss(tmp_path, capsys, monkeypatch):
    args = ["tune", "forecast", "--horizon", "3", "--lookback", "6", "--epochs", "2", "--trials", "2"]
    code, out, err = run_cli([*args, "--out", tmp_path / "f"], capsys, monkeypatch)
    assert code == 0, err
    record = json.loads((tmp_path / "f" / "study.json").read_text())
    assert record["direction"] == "minimize" and len(record["trials"]) == 2
    metrics = json.loads((tmp_path / "f" / "metrics.json").read_text())
    assert metrics["best_validation_loss"] == min(t["value"] for t in record["trials"])
    best = load(tmp_path / "f" / "model")
    assert isinstance(best, Forecaster) and best.ensemble == 1 and len(best.model_.members) == 1  # one per trial
