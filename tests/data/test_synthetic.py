"""The long-time-lag task generators: shapes, labels, and the statistics the baselines rely on."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit.data import adding_problem, first_symbol
from lstmkit.errors import ParameterError


def test_first_symbol_label_is_the_first_symbol_and_noise_is_separate():
    x, labels = first_symbol(500, 30, num_symbols=3, num_distractors=5, rng=0)
    assert x.shape == (30, 500, 8)
    np.testing.assert_array_equal(x.sum(-1), 1.0)
    np.testing.assert_array_equal(x[0].argmax(-1), labels)
    assert labels.max() < 3 and np.all(x[1:].argmax(-1) >= 3)
    assert set(np.bincount(labels)) and np.bincount(labels).min() > 100  # roughly uniform over K


def test_first_symbol_without_separate_distractors_draws_noise_from_the_symbols():
    x, labels = first_symbol(200, 10, num_symbols=4, num_distractors=0, rng=1)
    assert x.shape == (10, 200, 4)
    assert set(np.unique(x[1:].argmax(-1))) == {0, 1, 2, 3}


def test_adding_problem_target_is_the_sum_of_the_marked_values():
    x, y = adding_problem(1000, 50, rng=0)
    assert x.shape == (50, 1000, 2) and y.shape == (1000, 1)
    np.testing.assert_array_equal(x[..., 1].sum(0), 2.0)
    assert np.all(x[:25, :, 1].sum(0) == 1.0)  # one marker in each half
    np.testing.assert_allclose((x[..., 0] * x[..., 1]).sum(0), y[:, 0])
    assert np.mean((y - 1.0) ** 2) == pytest.approx(1 / 6, abs=0.02)  # the constant guess's MSE


def test_generators_are_reproducible_and_check_their_arguments():
    a, b = adding_problem(4, 6, rng=3), adding_problem(4, 6, rng=3)
    np.testing.assert_array_equal(a[0], b[0])
    with pytest.raises(ParameterError, match="expected length to be an integer >= 2, got 1"):
        adding_problem(4, 1)
    with pytest.raises(ParameterError, match="num_symbols"):
        first_symbol(4, 5, num_symbols=1)


def test_the_1997_adding_problem_follows_the_papers_definition_sequence_by_sequence():
    from lstmkit.data.synthetic import adding_problem_1997

    T = 100
    x, lengths, targets = adding_problem_1997(3000, T, rng=0)
    assert x.shape == (3000, lengths.max(), 2) and targets.shape == (3000, 1)
    assert lengths.min() == T and lengths.max() == T + T // 10
    firsts, seconds = [], []
    for row, length, target in zip(x, lengths, targets[:, 0], strict=True):
        values, markers = row[:length, 0], row[:length, 1]
        assert np.all(row[length:] == 0.0) and np.all(np.abs(values) <= 1.0)
        marked = np.flatnonzero(markers == 1.0)
        assert len(marked) == 2
        assert marked.min() < 10 and marked.max() < T // 2 - 1  # one of the first ten, one of the first T/2 - 1
        others = np.setdiff1d(np.arange(length), marked)
        expected = np.zeros(len(others))
        expected[others == 0] = -1.0
        expected[others == length - 1] = -1.0
        np.testing.assert_array_equal(markers[others], expected)
        if 0 in marked:
            assert values[0] == 0.0  # a marked first pair counts 0 (the paper: X1 = 0 then)
        assert target == pytest.approx(0.5 + values[marked].sum() / 4.0)
        firsts.append(marked[0])
        seconds.extend(marked)
    assert set(firsts) >= set(range(10)) and set(seconds) == set(range(T // 2 - 1))
    # always answering 0.5 is right (error < 0.04) only when |X1 + X2| < 0.16: about 15% of sequences
    assert np.mean(np.abs(targets - 0.5) < 0.04) == pytest.approx(0.1536, abs=0.02)
    with pytest.raises(ParameterError, match="length"):
        adding_problem_1997(4, 21)
