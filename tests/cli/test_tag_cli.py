"""``lstmkit tag``: a run on CoNLL files, its metrics and predictions, predict, resume, and bad inputs."""

from __future__ import annotations

import json

import pytest

from lstmkit.data.conll import read_conll
from lstmkit.tasks.metrics import entity_scores
from tests.cli.helpers import run_cli
from tests.tasks.test_tagger import places


def conll(path, sentences):
    X, y = sentences
    path.write_text(
        "\n".join("\n".join(f"{w}\t{t}" for w, t in zip(*s, strict=True)) + "\n" for s in zip(X, y, strict=True))
    )
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("conll")
    return {
        name: conll(folder / f"{name}.conll", places(n, seed))
        for name, n, seed in (("train", 200, 0), ("dev", 40, 1), ("test", 60, 2))
    }


def test_a_run_scores_the_tagger_and_the_baselines_on_the_test_file(tmp_path, capsys, monkeypatch, files):
    args = ["tag", "--train", files["train"], "--dev", files["dev"], "--test", files["test"], "--epochs", "12"]
    args += ["--ensemble", "2"]
    code, out, err = run_cli([*args, "--out", tmp_path / "run"], capsys, monkeypatch)
    assert code == 0, err
    run = tmp_path / "run"
    assert {"run.json", "metrics.json", "predictions.conll", "training.png", "model", "checkpoints"} <= {
        p.name for p in run.iterdir()
    }
    everything = json.loads((run / "metrics.json").read_text())
    assert len(everything["refit_epochs"]) == 2 and all(1 <= e <= 12 for e in everything["refit_epochs"])
    assert everything["epochs_trained"] > max(everything["refit_epochs"])  # both members' first fits
    metrics = everything["test"]
    assert set(metrics) == {"lstm", "most_frequent_tag", "all_o"}
    assert set(metrics["lstm"]) == {"entity_f1", "surface_f1", "precision", "recall", "per_type"}
    assert (
        metrics["all_o"]["entity_f1"] == 0.0
        and metrics["lstm"]["entity_f1"] > metrics["most_frequent_tag"]["entity_f1"]
    )
    columns = [line.split("\t") for line in (run / "predictions.conll").read_text().splitlines() if line]
    gold, predicted = read_conll(files["test"])[1], []
    sentences = (run / "predictions.conll").read_text().strip().split("\n\n")
    predicted = [[line.split("\t")[2] for line in s.splitlines()] for s in sentences]
    assert len(columns[0]) == 3 and entity_scores(gold, predicted)["f1"] == pytest.approx(metrics["lstm"]["entity_f1"])
    assert "entity F1" in out

    plain = tmp_path / "plain.txt"
    plain.write_text("we went to Oslo City\nit was Monday in Lima\n")
    code, out, err = run_cli(
        ["tag", "predict", "--model", run, "--data", plain, "--out", tmp_path / "tags.conll"], capsys, monkeypatch
    )
    assert code == 0, err
    tokens, tags = read_conll(tmp_path / "tags.conll")
    assert tokens == [["we", "went", "to", "Oslo", "City"], ["it", "was", "Monday", "in", "Lima"]] and len(tags[1]) == 5
    code, out, _ = run_cli(["tag", "predict", "--model", run, "--data", files["test"]], capsys, monkeypatch)
    assert code == 0 and "B-LOC" in out


BAD = [
    ("ragged", "a\tO\nb\tO\tx\n", "line 2 has 3 column(s)"),
    ("empty", "", "no sentences"),
    ("scheme", "a\tPER\nb\tO\n", "entity scores need BIO or BIOES tags"),
]


@pytest.mark.parametrize(("name", "text", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_training_files_exit_2_and_leave_nothing(tmp_path, capsys, monkeypatch, files, name, text, message):
    bad = tmp_path / f"{name}.conll"
    bad.write_text(text)
    code, _, err = run_cli(
        ["tag", "--train", bad, "--dev", files["dev"], "--test", files["test"], "--out", tmp_path / "r"],
        capsys,
        monkeypatch,
    )
    assert code == 2 and message in err and "Traceback" not in err and err.count("\n") == 1
    assert not (tmp_path / "r").exists()


def test_train_without_dev_and_test_and_a_model_of_another_task_are_refused(tmp_path, capsys, monkeypatch, files):
    code, _, err = run_cli(["tag", "--train", files["train"], "--out", tmp_path / "r"], capsys, monkeypatch)
    assert code == 2 and "--train FILE needs --dev FILE and --test FILE" in err and not (tmp_path / "r").exists()
    code, _, err = run_cli(
        ["tag", "predict", "--model", tmp_path / "nowhere", "--data", files["test"]], capsys, monkeypatch
    )
    assert code == 2 and "missing" in err
