"""``lstmkit forecast``: the main job, its run folder, resume, predict, and every bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lstmkit.data import load_dataset
from tests.cli.helpers import run_cli

FAST = ["--epochs", "40", "--folds", "2", "--ensemble", "2"]


def test_default_run_writes_the_run_folder_and_beats_the_naive_forecast(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(["forecast", *FAST], capsys, monkeypatch)
    assert code == 0, err
    (run,) = (tmp_path / "runs").iterdir()
    names = {p.name for p in run.iterdir()}
    assert {
        "run.json",
        "metrics.json",
        "forecast.csv",
        "forecast.png",
        "backtest.png",
        "training.png",
        "model",
        "backtest",
        "checkpoints",
    } <= names
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["seasonal_period"] == 12 and metrics["lookback"] == 48
    assert metrics["backtest"]["lstm"]["sMAPE"] < metrics["backtest"]["naive"]["sMAPE"]
    assert "LSTM" in out and "seasonal naive" in out and "sMAPE" in out
    future = pd.read_csv(run / "forecast.csv", index_col=0, parse_dates=True)
    assert list(future.index.strftime("%Y-%m")) == [f"1961-{m:02d}" for m in range(1, 13)]
    assert (future["lower"] <= future["forecast"]).all() and (future["forecast"] <= future["upper"]).all()

    code, out, _ = run_cli(["forecast", "predict", "--model", run, "--horizon", "3"], capsys, monkeypatch)
    assert code == 0 and "1961-03-01" in out
    code, _, _ = run_cli(["forecast", "predict", "--model", run, "--out", tmp_path / "f.csv"], capsys, monkeypatch)
    predicted = pd.read_csv(tmp_path / "f.csv", index_col=0)
    np.testing.assert_allclose(predicted["forecast"].to_numpy(), future["forecast"].to_numpy(), rtol=1e-6)


def test_an_interrupted_run_resumes_to_the_same_results(tmp_path, capsys, monkeypatch):
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    assert run_cli(["forecast", *FAST, "--out", whole], capsys, monkeypatch)[0] == 0
    assert run_cli(["forecast", *FAST, "--out", cut], capsys, monkeypatch)[0] == 0
    # what a crash during the second fold leaves: the first fold done, the rest only as checkpoints or nothing
    (cut / "backtest" / "fold2" / "forecasts.json").unlink()
    for name in ("metrics.json", "forecast.csv", "forecast.png"):
        (cut / name).unlink()
    code, _, err = run_cli(["forecast", "--resume", cut], capsys, monkeypatch)
    assert code == 0, err
    assert json.loads((cut / "metrics.json").read_text()) == json.loads((whole / "metrics.json").read_text())
    assert (cut / "forecast.csv").read_text() == (whole / "forecast.csv").read_text()


def write(path, text):
    path.write_text(text)
    return path


def csv_of(series: pd.Series) -> str:
    return "date,value\n" + "\n".join(f"{t:%Y-%m-%d},{v}" for t, v in series.items()) + "\n"


@pytest.fixture
def good_csv():
    return csv_of(load_dataset("airline"))


@pytest.mark.parametrize(
    ("make", "args", "message"),
    [
        (lambda d, g: d / "nope.csv", [], "nope.csv: no such file"),
        (lambda d, g: write(d / "empty.csv", ""), [], "the file is empty"),
        (lambda d, g: write(d / "header.csv", "date,value\n"), [], "a header (date, value) but no data lines"),
        (
            lambda d, g: write(d / "a.csv", g),
            ["--target", "sales"],
            "target column 'sales' not found; columns are value",
        ),
        (
            lambda d, g: write(d / "a.csv", g.replace(",118.0\n", ",12O\n", 1)),
            [],
            "column 'value' has non-numeric values at lines 3 ('12O')",
        ),
        (
            lambda d, g: write(d / "a.csv", g.replace(",118.0\n", ",\n", 1)),
            [],
            "missing values at lines 3; fill them, or pass --fill",
        ),
        (
            lambda d, g: write(d / "a.csv", g.replace("1949-02-01", "1949-01-01")),
            [],
            "duplicate timestamps at lines 2, 3",
        ),
        (
            lambda d, g: write(d / "a.csv", g.replace("1949-02-01", "1949-03-15")),
            [],
            "timestamps are not in increasing order, first at line 4",
        ),
        (
            lambda d, g: write(d / "a.csv", "\n".join(g.splitlines()[:30])),
            [],
            "the series has 29 rows; lookback 48 + horizon 12 needs at least 61",
        ),
        (
            lambda d, g: d / "b.csv" if (d / "b.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00") else None,
            [],
            "not a CSV file (it holds binary data)",
        ),
    ],
    ids=[
        "missing",
        "empty",
        "header-only",
        "no-target",
        "non-numeric",
        "missing-values",
        "duplicates",
        "unsorted",
        "too-short",
        "not-csv",
    ],
)
def test_bad_input_exits_2_with_one_message_and_leaves_no_folder(
    tmp_path, capsys, monkeypatch, good_csv, make, args, message
):
    data = make(tmp_path, good_csv)
    out = tmp_path / "run"
    code, stdout, stderr = run_cli(
        ["forecast", "--data", data, "--time", "date", "--out", out, *args], capsys, monkeypatch
    )
    assert code == 2
    assert message in stderr and "Traceback" not in stderr + stdout
    assert len(stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_fill_interpolates_missing_values(tmp_path, capsys, monkeypatch, good_csv):
    data = write(tmp_path / "a.csv", good_csv.replace(",118.0\n", ",\n", 1))
    code, _, err = run_cli(
        ["forecast", "--data", data, "--time", "date", "--fill", *FAST, "--out", tmp_path / "r"], capsys, monkeypatch
    )
    assert code == 0, err
    assert json.loads((tmp_path / "r" / "run.json").read_text())["settings"]["fill"] is True


def test_datasets_lists_the_embedded_series(capsys, monkeypatch):
    code, out, _ = run_cli(["datasets"], capsys, monkeypatch)
    assert code == 0 and "airline" in out and "144" in out and "sunspots" in out and "309" in out


def test_a_date_column_is_found_without_time(tmp_path, capsys, monkeypatch, good_csv):
    data = write(tmp_path / "sales.csv", good_csv.replace("date,value", "date,units"))
    code, _, err = run_cli(
        ["forecast", "--data", data, "--target", "units", *FAST, "--out", tmp_path / "r"], capsys, monkeypatch
    )
    assert code == 0, err
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["seasonal_period"] == 12  # monthly dates were recognized as the time axis
    future = pd.read_csv(tmp_path / "r" / "forecast.csv", index_col=0)
    assert future.index[0] == "1961-01-01"


def with_columns(path, **extra):
    """The airline series with a date column and ``extra`` columns (name -> values), as a CSV file."""
    y = load_dataset("airline")
    frame = pd.DataFrame({"date": y.index.strftime("%Y-%m-%d"), **extra, "passengers": y.to_numpy()})
    frame.to_csv(path, index=False)
    return path


def test_extra_columns_are_used_only_when_named(tmp_path, capsys, monkeypatch):
    steps = write(tmp_path / "ty.csv", "t,y\n" + "".join(f"{k},{v}\n" for k, v in enumerate(load_dataset("airline"))))
    code, out, err = run_cli(
        ["forecast", "--data", steps, "--target", "y", *FAST, "--out", tmp_path / "a"], capsys, monkeypatch
    )
    assert code == 0, err
    assert "not used: t (name columns with --covariates or --future to use them)" in out
    rng = np.random.default_rng(0)
    data = with_columns(tmp_path / "dxy.csv", x=rng.normal(size=144), note=["text"] * 144)
    args = ["forecast", "--data", data, "--target", "passengers", "--covariates", "x", *FAST]
    code, out, err = run_cli([*args, "--out", tmp_path / "b"], capsys, monkeypatch)
    assert code == 0, err
    assert "not used: note" in out
    saved = json.loads((tmp_path / "b" / "model" / "state.json").read_text())["state"]
    assert saved["fitted"]["columns"] == ["passengers", "x"] and saved["params"]["covariates"] == ["x"]
    assert len(pd.read_csv(tmp_path / "b" / "forecast.csv")) == 12  # the crash at the first fold is gone


def test_future_covariates_come_with_their_future_values(tmp_path, capsys, monkeypatch):
    month = load_dataset("airline").index.month.to_numpy()
    data = with_columns(tmp_path / "f.csv", summer=(month >= 6) & (month <= 8))
    ahead = write(
        tmp_path / "ahead.csv", "date,summer\n" + "".join(f"1961-{m:02d}-01,{int(6 <= m <= 8)}\n" for m in range(1, 13))
    )
    base = ["forecast", "--data", data, "--target", "passengers", "--future", "summer", *FAST]
    code, out, err = run_cli([*base, "--future-data", ahead, "--out", tmp_path / "r"], capsys, monkeypatch)
    assert code == 0, err
    future = pd.read_csv(tmp_path / "r" / "forecast.csv", index_col=0)
    assert future.index[0] == "1961-01-01" and len(future) == 12
    code, out, _ = run_cli(
        ["forecast", "predict", "--model", tmp_path / "r", "--future-data", ahead], capsys, monkeypatch
    )
    assert code == 0 and f"{future['forecast'].iloc[0]:.1f}"[:4] in out
    code, _, err = run_cli(["forecast", "predict", "--model", tmp_path / "r"], capsys, monkeypatch)
    assert code == 2 and "reads the future covariates ['summer']: pass --future-data" in err
    code, _, err = run_cli([*base, "--out", tmp_path / "s"], capsys, monkeypatch)
    assert code == 2 and "pass --future-data" in err and not (tmp_path / "s").exists()
    code, _, err = run_cli(["inspect", tmp_path / "r", "--out", tmp_path / "i"], capsys, monkeypatch)
    assert code == 0, err
    assert (tmp_path / "i" / "report.html").is_file()
    code, _, err = run_cli(["inspect", tmp_path / "r", "--input", data, "--out", tmp_path / "j"], capsys, monkeypatch)
    assert code == 2 and "inspect draws it on its own run's data" in err and not (tmp_path / "j").exists()
