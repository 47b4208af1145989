"""``lstmkit classify``: the default job, text and .ts files, predict, resume, and every bad input."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from lstmkit.data.datasets import load_sentiment
from lstmkit.data.splits import stratified_split
from tests.cli.helpers import run_cli
from tests.shared_data import shared


def test_default_job_beats_the_baselines_and_predicts(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(["classify"], capsys, monkeypatch)
    assert code == 0, err
    (run,) = (tmp_path / "runs").iterdir()
    assert {"run.json", "metrics.json", "confusion.png", "training.png", "model", "checkpoints"} <= {
        p.name for p in run.iterdir()
    }
    metrics = json.loads((run / "metrics.json").read_text())
    test = metrics["test"]
    assert set(test) == {"lstm", "majority", "nearest_neighbour"}
    assert set(test["lstm"]) == {"accuracy", "macro_f1"}
    assert test["lstm"]["accuracy"] >= 0.95  # published LSTM-FCN 0.99
    assert test["majority"]["accuracy"] == pytest.approx(31 / 370)  # training classes tie: the first, speaker 1
    assert np.sum(metrics["confusion_matrix"]) == 370
    assert np.trace(metrics["confusion_matrix"]) == round(test["lstm"]["accuracy"] * 370)
    assert "nearest_neighbour" in out and "macro F1" in out
    assert (run / "confusion.png").stat().st_size > 10_000

    predictions = tmp_path / "predictions.csv"
    data = shared("japanese_vowels", "JapaneseVowels_TEST.ts")
    code, _, err = run_cli(
        ["classify", "predict", "--model", run, "--data", data, "--out", predictions], capsys, monkeypatch
    )
    assert code == 0, err
    table = pd.read_csv(predictions, index_col="case")
    assert len(table) == 370 and list(table.columns) == ["prediction", *[f"p_{k}" for k in range(1, 10)]]
    np.testing.assert_allclose(table.filter(like="p_").sum(axis=1), 1, atol=1e-4)
    assert np.trace(metrics["confusion_matrix"]) == sum(
        table["prediction"].astype(str).to_numpy() == np.array([l for l in _labels(data)])
    )

    (run / "metrics.json").unlink()  # a run that died before its results: --resume finishes it identically
    code, _, err = run_cli(["classify", "--resume", run], capsys, monkeypatch)
    assert code == 0, err
    assert json.loads((run / "metrics.json").read_text()) == metrics


def _labels(path):
    return [line.rsplit(":", 1)[1].strip() for line in path.read_text().split("@data")[1].split("\n") if line.strip()]


def test_texts_from_a_csv_file_against_tfidf(tmp_path, capsys, monkeypatch):
    texts, labels = load_sentiment("yelp", shared("sentiment_sentences"), download=False)
    pd.DataFrame({"review": texts[:300], "stars": np.where(labels[:300] == 1, "pos", "neg")}).to_csv(
        tmp_path / "reviews.csv", index=False
    )
    args = ["classify", "--data", tmp_path / "reviews.csv", "--text", "review", "--label", "stars", "--epochs", "3"]
    code, out, err = run_cli([*args, "--out", tmp_path / "run"], capsys, monkeypatch)
    assert code == 0, err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert set(metrics["test"]) == {"lstm", "majority", "tfidf_logreg"} and metrics["classes"] == ["neg", "pos"]
    stars = np.where(labels[:300] == 1, "pos", "neg")
    train, test = stratified_split(stars, 0.25, seed=0)  # the split the command makes
    majority = pd.Series(stars[train]).mode()[0]
    assert metrics["test"]["majority"]["accuracy"] == pytest.approx(np.mean(stars[test] == majority))
    pd.DataFrame({"review": ["Loved it.", "Terrible service."]}).to_csv(tmp_path / "new.csv", index=False)
    code, out, err = run_cli(
        ["classify", "predict", "--model", tmp_path / "run", "--data", tmp_path / "new.csv", "--text", "review"],
        capsys,
        monkeypatch,
    )
    assert code == 0, err
    assert "p_neg" in out and "p_pos" in out


def test_resume_refuses_changed_data(tmp_path, capsys, monkeypatch):
    for split in ("TRAIN", "TEST"):
        shutil.copy(shared("basic_motions", f"BasicMotions_{split}.ts"), tmp_path / f"{split}.ts")
    args = ["classify", "--data", tmp_path / "TRAIN.ts", "--test", tmp_path / "TEST.ts", "--epochs", "2"]
    assert run_cli([*args, "--out", tmp_path / "run"], capsys, monkeypatch)[0] == 0
    with open(tmp_path / "TEST.ts", "a") as handle:
        handle.write("1,2:1,2:1,2:1,2:1,2:1,2:Standing\n")
    code, _, err = run_cli(["classify", "--resume", tmp_path / "run"], capsys, monkeypatch)
    assert code == 2 and "the data changed since this run started" in err


def write(path, text: str | bytes):
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


TS_HEADER = "@problemName t\n@classLabel true a b\n@data\n"


def bad_cases(tmp):
    """(arguments, expected message): every one must exit 2 with that one line and write nothing."""
    good_ts = write(tmp / "good.ts", TS_HEADER + "".join(f"{k},{k + 1},{k + 2}:{'ab'[k % 2]}\n" for k in range(20)))
    good_csv = write(tmp / "good.csv", "text,label\n" + "".join(f"word{k} here,{k % 2}\n" for k in range(20)))
    other_task = tmp / "forecast_model"
    from lstmkit.data import load_dataset
    from lstmkit.tasks import Forecaster

    Forecaster(horizon=2, epochs=1).fit(load_dataset("airline")).save(other_task)
    return [
        (["--data", tmp / "missing.ts"], "no such file"),
        (["--data", write(tmp / "empty.ts", "")], "the file is empty"),
        (["--data", write(tmp / "latin.ts", TS_HEADER.encode() + b"1,2:caf\xe9\n")], "not UTF-8"),
        (["--data", tmp], "a folder, not a data file"),
        (["--data", ""], "expected a data file, got an empty path"),
        (["--data", "/dev/null"], "not a regular file"),
        (["--data", write(tmp / "one.ts", TS_HEADER + "1,2:a\n3,4:a\n5,6:a\n")], "only one class"),
        (["--data", write(tmp / "tiny.ts", TS_HEADER + "1,2:a\n3,4:a\n5,6:a\n7:b\n")], "class 'b' has 1 case"),
        (["--data", write(tmp / "nan.ts", TS_HEADER + "1,NaN:a\n3,4:b\n")], "NaN or infinite"),
        (["--data", write(tmp / "inf.ts", TS_HEADER + "1,2:a\n3,inf:b\n")], "NaN or infinite"),
        (["--data", write(tmp / "channels.ts", TS_HEADER + "1,2:a\n3,4:5,6:b\n")], "has 2 channels but"),
        (["--data", write(tmp / "dims.ts", TS_HEADER + "1,2:3:a\n")], r"the dimensions have [2, 1] values"),
        (["--data", write(tmp / "text.ts", TS_HEADER + "1,x:a\n")], "expected comma-separated numbers"),
        (["--data", write(tmp / "nodata.ts", "@problemName t\n")], "no @data line"),
        (["--data", write(tmp / "unlabelled.ts", "@classLabel false\n@data\n1,2\n")], "have no labels"),
        (["--data", good_ts, "--test", write(tmp / "t3.ts", TS_HEADER + "1:2:3:a\n")], "channels"),
        (["--data", good_ts, "--test", write(tmp / "t4.ts", TS_HEADER + "1,2:c\n")], "never occur in the training"),
        (["--data", good_ts, "--test-size", "1.5"], "expected test_size in (0, 1)"),
        (["--data", good_ts, "--test-size", "0.01"], "expected at least one case of each class"),
        (["--data", good_ts, "--cell", "lstm3"], "unknown cell 'lstm3'"),
        (["--data", good_csv], "a CSV file needs --text COL and --label COL"),
        (
            ["--data", good_csv, "--text", "body", "--label", "label"],
            "text column 'body' not found; columns are text, label",
        ),
        (["--data", good_csv, "--text", "text", "--label", "y"], "label column 'y' not found; columns are text, label"),
        (["--data", good_csv, "--text", "text"], "--text needs --label"),
        (["--data", good_ts, "--label", "y"], "--label is for CSV files"),
        (["--data", write(tmp / "e.csv", "text,label\n,1\nb,0\n")], "a CSV file needs"),
        (
            ["--data", write(tmp / "e2.csv", "text,label\n,1\nb,0\n"), "--text", "text", "--label", "label"],
            "empty texts in column 'text' at lines 2",
        ),
        (
            ["--data", write(tmp / "e3.csv", "text,label\n  ,1\nb,0\n"), "--text", "text", "--label", "label"],
            "empty texts",
        ),
        (
            ["--data", write(tmp / "e4.csv", "text,label\na,1\nb,\n"), "--text", "text", "--label", "label"],
            "missing labels in column 'label' at lines 3",
        ),
        (
            ["--data", write(tmp / "h.csv", "text,label\n"), "--text", "text", "--label", "label"],
            "a header (text, label) but no data lines",
        ),
        (
            ["--data", write(tmp / "l.csv", b"text,label\ncaf\xe9,1\n"), "--text", "text", "--label", "label"],
            "not UTF-8",
        ),
        (["--data", write(tmp / "b.csv", b"\x00\x01\x02"), "--text", "text", "--label", "label"], "binary data"),
        (["--data", good_ts, "--out", good_ts], "exists and is not a folder"),
        (["--data", good_ts, "--out", good_ts / "run"], "is a file, not a folder"),
        (["--resume", tmp / "nowhere"], "not a run folder (no run.json)"),
        (["--resume", write(tmp / "badrun.json", "x").parent], "not a run folder"),
        (["predict", "--model", other_task, "--data", good_ts], "holds a Forecaster model, not a classifier"),
        (["predict", "--model", tmp / "nomodel", "--data", good_ts], "missing"),
        (["--seed", "-1"], "Invalid value for '--seed'"),
        (["--epochs", "0"], "Invalid value for '--epochs'"),
    ]


def test_bad_inputs_exit_2_with_one_message_and_leave_nothing(tmp_path, capsys, monkeypatch):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    cases = bad_cases(inputs)
    monkeypatch.chdir(tmp_path)
    before = {p.name for p in inputs.iterdir()}
    for args, message in cases:
        out_dir = tmp_path / "out"
        full = (
            ["classify", *args]
            if "--out" in args or args[0] in ("predict", "--resume")
            else ["classify", *args, "--out", out_dir]
        )
        code, out, err = run_cli(full, capsys, monkeypatch)
        assert code == 2, (args, out, err)
        assert message in err, (args, err)
        assert "Traceback" not in err + out, args
        if not err.startswith("Usage"):
            assert err.startswith("error: ") and err.count("\n") == 1, (args, err)
        assert not out_dir.exists() and not (tmp_path / "runs").exists(), args
        assert {p.name for p in inputs.iterdir()} == before, args
