"""``lstmkit detect``: the default job on the embedded NYC taxi series, a CSV with labels, and bad inputs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from lstmkit.tasks import AnomalyDetector, load
from lstmkit.tasks.metrics import range_scores
from tests.cli.helpers import run_cli


def test_the_default_job_flags_nab_windows_and_scores_the_baselines(tmp_path, capsys, monkeypatch):
    code, out, err = run_cli(["detect", "--epochs", "4", "--out", tmp_path / "r"], capsys, monkeypatch)
    assert code == 0, err
    run = tmp_path / "r"
    assert {"run.json", "model", "scores.csv", "anomalies.json", "metrics.json", "scores.png", "training.png"} <= {
        p.name for p in run.iterdir()
    }
    table = pd.read_csv(run / "scores.csv")
    assert len(table) == 10320 and table["label"].sum() == 1035
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics["test"]) == {"lstm", "rolling_zscore", "isolation_forest"}
    assert metrics["test"]["lstm"]["range_f1"] == range_scores(table["label"], table["flagged"])["f1"]
    found = json.loads((run / "anomalies.json").read_text())
    assert len(found) == metrics["ranges"] and all(table["flagged"][a["start"] : a["end"] + 1].all() for a in found)
    detector = load(run / "model")
    assert isinstance(detector, AnomalyDetector)
    np.testing.assert_allclose(detector.score_samples(table["value"]), table["score"], rtol=1e-4, atol=1e-4)
    assert "anomalous ranges flagged" in out


def test_a_csv_with_a_label_column(tmp_path, capsys, monkeypatch):
    rng = np.random.default_rng(0)
    values = np.sin(np.arange(800) * 2 * np.pi / 40) + 0.05 * rng.normal(size=800)
    values[600:630] += 3.0  # a burst far outside the normal swing
    labels = np.zeros(800, dtype=int)
    labels[600:630] = 1
    data = tmp_path / "s.csv"
    pd.DataFrame({"t": range(800), "y": values, "known": labels}).to_csv(data, index=False)
    args = ["detect", "--data", data, "--value", "y", "--time", "t", "--label", "known", "--window", "40"]
    code, _, err = run_cli([*args, "--epochs", "15", "--out", tmp_path / "r"], capsys, monkeypatch)
    assert code == 0, err
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["test"]["lstm"]["peak_in_window"] == 1.0 and metrics["test"]["lstm"]["roc_auc"] > 0.9
    scored = tmp_path / "scores.csv"
    code, _, err = run_cli(
        ["detect", "predict", "--model", tmp_path / "r", "--data", data, "--value", "y", "--out", scored],
        capsys,
        monkeypatch,
    )
    assert code == 0, err
    again, saved = pd.read_csv(scored), pd.read_csv(tmp_path / "r" / "scores.csv")
    np.testing.assert_allclose(again["score"], saved["score"], rtol=1e-4, atol=1e-4)
    code, out, _ = run_cli(
        ["detect", "predict", "--model", tmp_path / "r", "--data", data, "--value", "y"], capsys, monkeypatch
    )
    assert code == 0 and f"{int(saved['flagged'].sum())} of 800 steps flagged" in out
