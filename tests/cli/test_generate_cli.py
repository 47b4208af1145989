"""``lstmkit generate text`` and ``lstmkit generate music``: a run's metrics are its saved model's scores on the
held-out part beside the baseline, its samples are the model's, and --model samples from a saved run."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lstmkit.data.datasets import load_jsb_chorales
from lstmkit.data.midi import read_midi_roll
from lstmkit.data.text import split_text
from lstmkit.tasks import MusicGenerator, TextGenerator, load
from lstmkit.tasks.baselines import CharNGram, key_frequency_nll
from tests.cli.helpers import run_cli
from tests.tasks.test_generate import entropy_rate, lexicon_text


def test_a_text_run_scores_the_held_out_text_and_samples_after(tmp_path, capsys, monkeypatch):
    text = lexicon_text(3000, seed=0)
    data = tmp_path / "words.txt"
    data.write_text(text, encoding="utf-8")
    run = tmp_path / "run"
    args = ["generate", "text", "--data", data, "--hidden-size", "48", "--layers", "1", "--epochs", "2"]
    code, out, err = run_cli([*args, "--prime", "love", "--length", "80", "--out", run], capsys, monkeypatch)
    assert code == 0, err
    written = {p.name for p in run.iterdir()}
    assert {"run.json", "model", "metrics.json", "samples.txt", "training.png", "cells.png", "cells.html"} <= written
    metrics = json.loads((run / "metrics.json").read_text())
    train_text, held_out = split_text(text, 0.1)
    model = load(run / "model")
    assert isinstance(model, TextGenerator)
    assert metrics["validation"]["lstm"]["nats_per_char"] == pytest.approx(model.score(held_out).nats_per_char)
    ngram = metrics["validation"]["5-gram"]["nats_per_char"]
    assert ngram == pytest.approx(CharNGram(5).fit(train_text).nats_per_char(held_out))
    assert ngram < 1.3 * entropy_rate()  # five characters of context nearly pin the lexicon's words down
    assert metrics["characters"] == {"train": len(train_text), "validation": len(held_out)}
    samples = (run / "samples.txt").read_text(encoding="utf-8")
    assert samples.count("--- temperature") == 3
    assert model.generate("love", 80, temperature=0.8, seed=0) in samples
    assert "<span" in (run / "cells.html").read_text(encoding="utf-8")
    assert "nats/char" in out and "5-gram" in out

    code, out, err = run_cli(
        ["generate", "text", "--model", run, "--prime", "sweet", "--length", "50", "--seed", "4", "--top-k", "3"],
        capsys,
        monkeypatch,
    )
    assert code == 0, err
    assert out.rstrip("\n") == "sweet" + model.generate("sweet", 50, top_k=3, seed=4).rstrip("\n")


def test_a_music_run_scores_the_test_chorales_and_writes_midi(tmp_path, capsys, monkeypatch):
    pytest.importorskip("mido")
    run = tmp_path / "run"
    args = ["generate", "music", "--hidden-size", "16", "--epochs", "3", "--samples", "2", "--length", "12"]
    code, out, err = run_cli([*args, "--seed", "3", "--out", run], capsys, monkeypatch)
    assert code == 0, err
    metrics = json.loads((run / "metrics.json").read_text())
    chorales = load_jsb_chorales()
    model = load(run / "model")
    assert isinstance(model, MusicGenerator)
    assert metrics["test"]["lstm"]["nll"] == pytest.approx(model.nll(chorales.test))
    assert metrics["test"]["key_frequencies"]["nll"] == pytest.approx(key_frequency_nll(chorales.train, chorales.test))
    for k in (1, 2):
        roll = model.generate(12, seed=3 + k)
        back = read_midi_roll(run / "samples" / f"sample_{k}.mid")
        assert np.array_equal(back, roll[: len(back)]) and not roll[len(back) :].any()
        assert (run / "samples" / f"sample_{k}.png").stat().st_size > 2000

    code, out, err = run_cli(
        ["generate", "music", "--model", run, "--samples", "1", "--length", "8", "--out", tmp_path / "more"],
        capsys,
        monkeypatch,
    )
    assert code == 0, err
    back = read_midi_roll(tmp_path / "more" / "sample_1.mid")
    roll = model.generate(8, seed=1)
    assert np.array_equal(back, roll[: len(back)])
