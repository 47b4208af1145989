"""Anomaly evaluation parts: range-based scores against prts, NAB's windows, and the baselines."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit.data.datasets import load_nab
from lstmkit.tasks.baselines import isolation_forest_scores, rolling_zscore, seasonal_naive_residual
from lstmkit.tasks.metrics import anomaly_scores, range_scores, ranges
from tests.shared_data import shared


def reference_side(targets: np.ndarray, others: np.ndarray, alpha: float) -> float:
    """Tatbul et al.'s (2018) reward, from step sets: for each range of ``targets``, alpha * [it shares a step with
    ``others``] + (1 - alpha) * (its steps shared with others' ranges / its length) / (the number of others' ranges
    it meets, when more than one); the mean over the ranges (flat bias, reciprocal cardinality)."""

    def runs(mask):
        steps, found, current = np.flatnonzero(mask), [], []
        for t in steps:
            if current and t != current[-1] + 1:
                found.append(set(current))
                current = []
            current.append(int(t))
        return found + ([set(current)] if current else [])

    rewards = []
    for target in runs(targets):
        met = [other for other in runs(others) if target & other]
        shared = len(target & set().union(*met)) / len(target) if met else 0.0
        rewards.append(alpha * bool(met) + (1 - alpha) * shared / max(len(met), 1))
    return float(np.mean(rewards)) if rewards else 0.0


def test_range_scores_match_the_definitions_on_random_labels():
    rng = np.random.default_rng(0)
    for _ in range(500):
        T = int(rng.integers(5, 40))
        real, predicted = (rng.random(T) < 0.3).astype(int), (rng.random(T) < 0.3).astype(int)
        for alpha in (0.0, 0.5):
            ours = range_scores(real, predicted, alpha)
            assert ours["precision"] == pytest.approx(reference_side(predicted, real, 0.0))
            assert ours["recall"] == pytest.approx(reference_side(real, predicted, alpha))
    assert ranges([0, 1, 1, 0, 1]) == [(1, 2), (4, 4)]


def test_range_scores_reward_coverage_not_a_single_touch():
    actual = np.zeros(100, dtype=int)
    actual[40:60] = 1
    touch = np.zeros(100, dtype=int)
    touch[50] = 1  # point-adjusted F1 would call this a perfect detection
    scores = range_scores(actual, touch)
    assert scores["precision"] == 1.0 and scores["recall"] == pytest.approx(1 / 20)
    assert range_scores(actual, touch, alpha=1.0)["recall"] == 1.0  # existence alone


def test_nab_windows_are_marked_by_rows_despite_repeated_and_missing_timestamps():
    folder = shared("nab")
    expected = {  # rows inside the windows, from the data README
        "artificialWithAnomaly/art_daily_jumpsup": (4032, 403),
        "realKnownCause/machine_temperature_system_failure": (22695, 2268),
        "realKnownCause/nyc_taxi": (10320, 1035),
        "realKnownCause/ambient_temperature_system_failure": (7267, 726),
        "artificialNoAnomaly/art_daily_small_noise": (4032, 0),
    }
    for name, (rows, inside) in expected.items():
        series = load_nab(name, folder)
        assert (len(series.values), int(series.labels.sum())) == (rows, inside), name
    machine = load_nab("realKnownCause/machine_temperature_system_failure", folder)
    assert machine.timestamps.duplicated().sum() == 12 and not machine.timestamps.is_monotonic_increasing
    assert len(ranges(machine.labels)) == 4


def test_baselines_compute_what_they_say():
    x = np.array([1.0, 2.0, 3.0, 10.0, 4.0])
    z = rolling_zscore(x, 3)
    assert z[:3].tolist() == [0, 0, 0] and z[3] == pytest.approx(abs(10 - 2) / np.std([1, 2, 3]))
    np.testing.assert_array_equal(seasonal_naive_residual(x, 2), [0, 0, 2, 8, 1])
    rng = np.random.default_rng(0)
    series = np.sin(np.arange(600) * 2 * np.pi / 50) + 0.05 * rng.normal(size=600)
    series[400:410] += 3  # a burst
    labels = np.zeros(600, dtype=int)
    labels[400:410] = 1
    for scores in (rolling_zscore(series, 50), isolation_forest_scores(series, 10)):
        result = anomaly_scores(labels, scores)
        assert result["peak_in_window"] == 1.0 and result["roc_auc"] > 0.95
