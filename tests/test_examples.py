"""Every example runs (in its quick mode) and reports what it promises."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.shared_data import shared

ROOT = Path(__file__).resolve().parents[1]


def run(script: str, *args: str, cwd: Path) -> str:
    env = dict(os.environ, MPLBACKEND="Agg")
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_reference_gradients_example_checks_every_gradient(tmp_path):
    out = run("reference_gradients.py", cwd=tmp_path)
    errors = [float(e) for e in re.findall(r"relative error ([0-9.e+-]+)", out)]
    assert len(errors) == 1 + 2 * 2 * 7 + 1  # x and 7 parameters per layer and direction, plus the summary line
    assert max(errors) < 1e-6 and "exact" in out


def test_forecast_example_backtests_and_draws(tmp_path):
    out = run("forecast_airline.py", "--quick", "--out", "f.png", cwd=tmp_path)
    assert "seasonal_naive" in out and "forecast for 1961-01" in out
    assert (tmp_path / "f.png").stat().st_size > 10_000


def test_classification_example_trains_and_draws(tmp_path):
    out = run("classify_with_variants.py", "--quick", "--out", "g.png", cwd=tmp_path)
    accuracy = float(re.search(r"validation accuracy (\S+)", out).group(1))
    assert accuracy >= 0.9  # chance 0.5 (sd 0.035 over 200 sequences); a model reading the loud padding stays near it
    assert (tmp_path / "g.png").stat().st_size > 10_000


def accuracies(out: str) -> dict[str, float]:
    return {name: float(value) for name, value in re.findall(r"(\w+) test accuracy ([0-9.]+)", out)}


def test_speaker_example_recognizes_the_nine_speakers(tmp_path):
    scores = accuracies(run("classify_speakers.py", "--quick", "--out", "s.png", cwd=tmp_path))
    assert scores["LSTM"] >= 0.95 and scores["majority"] < 0.1  # nine speakers: chance about 0.11
    assert (tmp_path / "s.png").stat().st_size > 10_000


def test_motion_example_tells_the_four_activities_apart(tmp_path):
    scores = accuracies(run("classify_motion.py", "--quick", cwd=tmp_path))
    assert scores["LSTM"] >= 0.9 and scores["majority"] == 0.25  # 40 test recordings, 10 per activity


def test_sentiment_example_reads_the_real_sentences(tmp_path):
    out = run("classify_sentiment.py", "--quick", "--data-dir", str(shared("sentiment_sentences")), cwd=tmp_path)
    lstm = float(re.search(r"amazon lstm accuracy ([0-9.]+)", out).group(1))
    tfidf = float(re.search(r"amazon tfidf_logreg accuracy ([0-9.]+)", out).group(1))
    assert lstm >= 0.7 and tfidf >= 0.75  # 200 balanced test sentences: chance 0.5, sd 0.035
    assert float(re.search(r"= ([0-9.]+)$", out.strip()).group(1)) < 0.5  # a clearly negative sentence


def test_tag_example_scores_wnut17_beside_its_baseline(tmp_path):
    out = run("tag_entities.py", "--quick", cwd=tmp_path)
    ours = float(re.search(r"BiLSTM-CRF: entity F1 ([0-9.]+)", out).group(1))
    baseline = float(re.search(r"most frequent tag: entity F1 ([0-9.]+)", out).group(1))
    assert "Reykjavik/" in out and "person" in out
    assert ours > baseline  # the entities of the test set are mostly unseen: the lookup finds few of them


def test_translation_example_beats_copying_the_source(tmp_path):
    out = run("translate_en_fr.py", "--quick", "--out", "alignment.png", cwd=tmp_path)
    ours = float(re.search(r"held-out BLEU ([0-9.]+)", out).group(1))
    floor = float(re.search(r"copying the English sentence: BLEU ([0-9.]+)", out).group(1))
    assert ours > floor + 8  # an untrained or broken decoder stays near the floor (measured: 13.8 against 1.4)
    assert "nrefs:var" in out and (tmp_path / "alignment.png").stat().st_size > 5000


def test_anomaly_example_ranks_the_labelled_windows_above_the_z_score(tmp_path):
    out = run("detect_anomalies.py", "--quick", "--out", "scores.png", cwd=tmp_path)
    ours = float(re.search(r"autoencoder, top 5% flagged +ROC-AUC ([0-9.]+)", out).group(1))
    baseline = float(re.search(r"rolling z-score, top 5% flagged +ROC-AUC ([0-9.]+)", out).group(1))
    assert ours > 0.7 and ours > baseline + 0.1  # measured 0.77 against 0.53; chance is 0.5
    assert "flagged 20" in out and (tmp_path / "scores.png").stat().st_size > 10000


def test_text_generation_example_beats_the_unigram_model(tmp_path):
    out = run("generate_text.py", "--quick", "--out", "cells.png", cwd=tmp_path)
    ours = float(re.search(r"held-out loss: ([0-9.]+) nats/char", out).group(1))
    unigram = float(re.search(r"1-gram model: +([0-9.]+) nats/char", out).group(1))
    assert ours < unigram - 0.5  # a model that learned no more than letter frequencies sits at the unigram
    assert "ROMEO:" in out and (tmp_path / "cells.png").stat().st_size > 10000


def test_music_example_beats_the_key_frequencies(tmp_path):
    out = run("generate_music.py", "--quick", "--out", "chorale", cwd=tmp_path)
    ours = float(re.search(r"test NLL per step: ([0-9.]+) nats", out).group(1))
    baseline = float(re.search(r"training frequency: ([0-9.]+) nats", out).group(1))
    assert ours < baseline - 1.0
    assert (tmp_path / "chorale.mid").read_bytes()[:4] == b"MThd" and (tmp_path / "chorale.png").stat().st_size > 5000
