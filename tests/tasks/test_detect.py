"""AnomalyDetector: both scorers find an injected anomaly, thresholds, ranges, the normal mask, persistence."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstmkit.errors import DataError, ParameterError
from lstmkit.tasks import AnomalyDetector, load
from lstmkit.tasks.detect import dynamic_threshold
from lstmkit.tasks.metrics import anomaly_scores, ranges


def seasonal_with_burst(T=1500, seed=0):
    rng = np.random.default_rng(seed)
    x = np.sin(np.arange(T) * 2 * np.pi / 40) + 0.05 * rng.normal(size=T)
    labels = np.zeros(T, dtype=int)
    x[1100:1130] = 0.9 + 0.05 * rng.normal(size=30)  # the rhythm stops: a flat stretch where a swing should be
    labels[1100:1130] = 1
    return x, labels


@pytest.mark.parametrize("scorer", ["forecast", "autoencoder", "seq2seq"])
def test_every_scorer_finds_an_injected_anomaly(scorer):
    x, labels = seasonal_with_burst()
    detector = AnomalyDetector(scorer=scorer, window=40, epochs=15, seed=0).fit(x[:1000])  # normal data only
    scores = detector.score_samples(x)
    assert scores.shape == x.shape
    result = anomaly_scores(labels, scores)
    assert result["peak_in_window"] == 1.0 and result["roc_auc"] > 0.9
    flagged = detector.anomalies(x)
    assert any(a["start"] <= 1129 and a["end"] >= 1100 for a in flagged)
    peak = max(flagged, key=lambda a: a["peak"])
    assert peak["peak"] == pytest.approx(scores.max()) and 1090 <= peak["start"] <= 1130
    training = detector.score_samples(x[:1000])
    assert np.mean(training > detector.threshold_) == pytest.approx(0.01, abs=0.005)  # the 0.99 quantile
    assert abs(training.mean()) < 1e-6 and training.std() == pytest.approx(1.0, rel=1e-6)


def test_the_normal_mask_keeps_anomalous_windows_out_of_training(tmp_path):
    x, labels = seasonal_with_burst()
    detector = AnomalyDetector(scorer="autoencoder", window=40, epochs=2)
    z = (x - x.mean()) / x.std()
    starts = detector._windows(z, labels == 0, 10)
    assert len(starts) and all(labels[s : s + 40].sum() == 0 for s in starts)
    assert any(s + 40 > 1100 for s in starts) and not any(1060 < s < 1130 for s in starts)
    detector.fit(x, normal=labels == 0)
    assert detector.mean_ == pytest.approx(x[labels == 0].mean())
    detector.save(tmp_path / "model")
    loaded = load(tmp_path / "model")
    np.testing.assert_allclose(loaded.score_samples(x), detector.score_samples(x), rtol=1e-6)
    assert ranges(loaded.predict(x)) == ranges(detector.predict(x))


def test_bad_series_are_refused():
    with pytest.raises(DataError, match="at least 65 numbers"):
        AnomalyDetector().fit(np.arange(10.0))
    x = np.sin(np.arange(300.0))
    x[5] = np.nan
    with pytest.raises(DataError, match="missing or infinite values at steps"):
        AnomalyDetector().fit(x)
    with pytest.raises(DataError, match="expected normal as 300 0/1 flags"):
        AnomalyDetector().fit(np.sin(np.arange(300.0)), normal=np.ones(10))


def test_streaming_scores_equal_the_whole_series_scores():
    x, _ = seasonal_with_burst()
    detector = AnomalyDetector(window=40, epochs=3, seed=1).fit(x[:400])
    whole = detector.score_samples(x)
    detector.start_stream()
    streamed = [detector.update(v) for v in x]
    np.testing.assert_allclose(streamed, whole, rtol=1e-4, atol=1e-4)
    detector.start_stream(history=x[:1000])  # the state after 1,000 values, their scores dropped
    np.testing.assert_allclose([detector.update(v) for v in x[1000:]], whole[1000:], rtol=1e-4, atol=1e-4)
    with pytest.raises(DataError, match="expected a finite value"):
        detector.update(float("nan"))
    with pytest.raises(ParameterError, match="streaming scores need scorer='forecast'"):
        AnomalyDetector(scorer="autoencoder", window=40, epochs=1).fit(x[:400]).start_stream()


def test_the_dynamic_threshold_cuts_off_a_contiguous_outlying_run():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=2000)
    scores[1500:1520] = 9 + rng.random(20)  # one run of 20 clearly outlying scores
    eps = dynamic_threshold(scores)
    assert ranges(scores > eps) == [(1500, 1519)]
    assert dynamic_threshold(np.zeros(50)) == np.inf  # nothing to cut
    x, labels = seasonal_with_burst()
    detector = AnomalyDetector(scorer="autoencoder", window=40, epochs=15, threshold="dynamic").fit(x[:1000])
    flagged = detector.predict(x)
    assert flagged[1100:1130].any() and flagged.mean() < 0.05
    found = detector.anomalies(x)
    assert all(flagged[a["start"] : a["end"] + 1].all() for a in found)


def test_sets_of_sequences_get_one_score_each(tmp_path):
    rng = np.random.default_rng(0)
    t = np.linspace(0, 2 * np.pi, 60)
    normal = np.sin(t)[None] * rng.uniform(0.9, 1.1, (120, 1)) + 0.05 * rng.normal(size=(120, 60))
    odd = np.sign(np.sin(t))[None] * rng.uniform(0.9, 1.1, (20, 1)) + 0.05 * rng.normal(size=(20, 60))  # squares
    detector = AnomalyDetector(epochs=40, seed=0).fit_sequences(normal[:100])
    scores = detector.score_sequences(np.concatenate([normal[100:], odd]))
    assert scores.shape == (40,)
    assert anomaly_scores(np.r_[np.zeros(20), np.ones(20)], scores)["roc_auc"] > 0.95
    detector.save(tmp_path / "beats")
    np.testing.assert_allclose(load(tmp_path / "beats").score_sequences(odd), detector.score_sequences(odd), rtol=1e-6)
    with pytest.raises(DataError, match=r"expected the sequences as an array \(N, 60\), got shape \(2, 50\)"):
        detector.score_sequences(np.zeros((2, 50)))
    with pytest.raises(ParameterError, match="needs a detector fitted with fit_sequences"):
        AnomalyDetector(window=40, epochs=1).fit(normal[0].repeat(3)).score_sequences(normal)


class FixedState(torch.nn.Module):
    """An encoder stand-in that always returns the same summary."""

    def __init__(self, state):
        super().__init__()
        self.state = state

    def forward(self, x):
        return None, self.state


def test_the_seq2seq_decoder_rebuilds_in_reverse_teacher_forced_then_free_running():
    from lstmkit.tasks.detect import Seq2SeqAutoencoder

    torch.manual_seed(0)
    model = Seq2SeqAutoencoder(hidden_size=8, num_layers=1, cell="lstm")
    x = torch.randn(1, 6, 1)
    _, state = model.encoder(x)
    model.encoder = FixedState(state)  # hold the summary fixed: only the decoder's inputs vary
    changed = x.clone()
    changed[0, 3] += 1.0  # teacher-forced, x[3] is the input that rebuilds x[2], then carries on to x[1], x[0]
    moved = (model(changed) - model(x)).abs()[0]
    assert (moved[:3] > 0).all() and (moved[3:] == 0).all()
    model.eval()  # free-running: the inputs are the model's own outputs, so x itself is never read
    with torch.no_grad():
        torch.testing.assert_close(model(changed), model(x))
