"""``lstmkit translate``: a run on a pairs file, its metrics (attention against none), samples and pictures,
translating with the saved model, and resuming."""

from __future__ import annotations

import json

import pytest

from lstmkit.tasks import Seq2Seq, load
from tests.cli.helpers import run_cli
from tests.tasks.test_translate import reversed_pairs


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    folder = tmp_path_factory.mktemp("translate")
    sources, targets = reversed_pairs(900, seed=0)
    pairs = folder / "pairs.txt"
    pairs.write_text("".join(f"{s}\t{t}\n" for s, t in zip(sources, targets, strict=True)), encoding="utf-8")
    args = ["translate", "--data", pairs, "--hidden-size", "64", "--epochs", "8", "--test-sentences", "60"]
    return folder, pairs, args


def test_a_run_scores_attention_against_none_and_translates_after(finished, capsys, monkeypatch):
    folder, pairs, args = finished
    run = folder / "run"
    code, out, err = run_cli([*args, "--beam-size", "3", "--out", run], capsys, monkeypatch)
    assert code == 0, err
    written = {p.name for p in run.iterdir()}
    assert {"run.json", "metrics.json", "samples.txt", "attention.png", "training.png", "model"} <= written
    assert "model_no_attention" in written
    metrics = json.loads((run / "metrics.json").read_text())
    test = metrics["test"]
    assert set(test) == {"attention", "no_attention"} and set(test["attention"]) >= {"bleu", "chrf", "beam"}
    assert test["attention"]["beam"]["size"] == 3 and "nrefs" in metrics["signatures"]["bleu"]
    assert test["attention"]["bleu"] > 60 and test["attention"]["bleu"] > test["no_attention"]["bleu"] + 10
    model = load(run / "model")
    assert isinstance(model, Seq2Seq) and model.attention_kind == "general"
    assert load(run / "model_no_attention").attention_kind == "none"
    samples = (run / "samples.txt").read_text(encoding="utf-8")
    assert samples.count("source:") == 20 and "no_attention:" in samples
    assert "BLEU" in out and f"BLEU signature: {metrics['signatures']['bleu']}" in out

    code, out, err = run_cli(["translate", "--model", run, "the red cat sees the dog."], capsys, monkeypatch)
    assert code == 0, err
    assert out.strip() == model.predict(["the red cat sees the dog."])[0]
    sentences = folder / "sentences.txt"
    sentences.write_text("the big bird.\nthe small house runs.\n", encoding="utf-8")
    code, out, err = run_cli(["translate", "--model", run / "model", "--data", sentences], capsys, monkeypatch)
    assert code == 0, err
    assert out.splitlines() == model.predict(["the big bird.", "the small house runs."])


def test_a_finished_run_resumes_to_the_same_numbers(finished, capsys, monkeypatch):
    folder, _, args = finished
    run = folder / "again"
    code, _, err = run_cli([*args, "--epochs", "1", "--out", run], capsys, monkeypatch)
    assert code == 0, err
    first = json.loads((run / "metrics.json").read_text())
    code, _, err = run_cli(["translate", "--resume", run], capsys, monkeypatch)
    assert code == 0, err
    assert json.loads((run / "metrics.json").read_text()) == first
