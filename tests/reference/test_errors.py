"""Bad input to the reference: typed errors that say what was expected and what came."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit import reference as ref
from lstmkit.errors import DataError, ParameterError, ShapeError, UnknownCellError


@pytest.fixture
def params():
    return ref.init_params("lstm", 3, 4, num_layers=2)


def test_unknown_cell_lists_the_known_ones():
    with pytest.raises(UnknownCellError, match="unknown cell kind 'lstn'.*'lstm'.*'gru'"):
        ref.init_params("lstn", 3, 4)
    with pytest.raises(ValueError, match="unknown cell kind"):
        ref.forward("convlstm", {}, np.zeros((1, 1, 3)))


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (np.zeros((5, 7)), r"expected x of shape \(T, N, 3\) with T, N >= 1, got \(5, 7\)"),
        (np.zeros((5, 2, 4)), r"expected x of shape \(T, N, 3\).*got \(5, 2, 4\)"),
        (np.zeros((0, 2, 3)), r"got \(0, 2, 3\)"),
    ],
)
def test_wrong_input_shape(params, x, message):
    with pytest.raises(ShapeError, match=message):
        ref.forward("lstm", params, x)


def test_nan_and_inf_inputs_are_refused_with_their_position(params):
    x = np.zeros((4, 2, 3))
    x[2, 1, 0] = np.nan
    with pytest.raises(DataError, match=r"x has 1 NaN or inf value\(s\), the first at index \(2, 1, 0\)"):
        ref.forward("lstm", params, x)
    x[2, 1, 0] = np.inf
    with pytest.raises(DataError, match="NaN or inf"):
        ref.forward("lstm", params, x)
    with pytest.raises(DataError, match="real numbers"):
        ref.forward("lstm", params, np.full((1, 1, 3), "a"))


@pytest.mark.parametrize(
    ("lengths", "error", "message"),
    [
        ([4, 0], DataError, r"expected every length in \[1, 4\] \(T = 4\), got \[0\] at positions \[1\]"),
        ([5, 2], DataError, r"got \[5\] at positions \[0\]"),
        ([4], ShapeError, r"expected lengths of shape \(2,\), one per sequence, got \(1,\)"),
        ([1.5, 2], DataError, "expected integer lengths"),
    ],
)
def test_bad_lengths(params, lengths, error, message):
    with pytest.raises(error, match=message):
        ref.forward("lstm", params, np.zeros((4, 2, 3)), lengths=lengths)


def test_wrong_state(params):
    x = np.zeros((4, 2, 3))
    with pytest.raises(ShapeError, match=r"expected state as a tuple \(h, c\) of shape \(2, 2, 4\) and \(2, 2, 4\)"):
        ref.forward("lstm", params, x, np.zeros((2, 2, 4)))
    with pytest.raises(ShapeError, match=r"expected state of shape \(2, 2, 4\) and \(2, 2, 4\), got \(1, 2, 4\)"):
        ref.forward("lstm", params, x, (np.zeros((1, 2, 4)), np.zeros((2, 2, 4))))
    gru = ref.init_params("gru", 3, 4)
    with pytest.raises(ShapeError, match=r"expected state as an array h of shape \(1, 2, 4\)"):
        ref.forward("gru", gru, x, (np.zeros((1, 2, 4)), np.zeros((1, 2, 4))))


def test_missing_and_misshapen_parameters(params):
    broken = dict(params)
    del broken["bias_hh_l1"]
    with pytest.raises(ParameterError, match=r"missing \['bias_hh_l1'\], unexpected \[\]"):
        ref.forward("lstm", broken, np.zeros((1, 1, 3)))
    broken = dict(params) | {"weight_hh_l1": np.zeros((16, 5))}
    with pytest.raises(ShapeError, match=r"expected weight_hh_l1 of shape \(16, 4\), got \(16, 5\)"):
        ref.forward("lstm", broken, np.zeros((1, 1, 3)))
    with pytest.raises(ShapeError, match=r"expected weight_ih_l0 of shape \(3\*H, H_in\) for 'gru', got \(16, 3\)"):
        ref.forward("gru", {"weight_ih_l0": np.zeros((16, 3))}, np.zeros((1, 1, 3)))
    with pytest.raises(ParameterError, match="params has no 'weight_ih_l0'"):
        ref.forward("lstm", {}, np.zeros((1, 1, 3)))
    with pytest.raises(ParameterError, match="floating-point NumPy array"):
        ref.forward("lstm", dict(params) | {"bias_ih_l0": [0.0] * 16}, np.zeros((1, 1, 3)))


def test_bad_options():
    with pytest.raises(ParameterError, match="expected hidden_size to be an integer >= 1, got 0"):
        ref.init_params("lstm", 3, 0)
    with pytest.raises(ParameterError, match="proj_size is supported by the LSTM kinds only"):
        ref.init_params("gru", 3, 4, proj_size=2)
    with pytest.raises(ParameterError, match="f = 1 - i there: use input_bias"):
        ref.init_params("coupled", 3, 4, forget_bias=1.0)
    with pytest.raises(ParameterError, match="needs bias=True"):
        ref.init_params("lstm", 3, 4, bias=False, forget_bias=1.0)
    with pytest.raises(ParameterError, match="bidirectional"):
        ref.truncated_backward("lstm", ref.init_params("lstm", 3, 4, bidirectional=True), np.zeros((4, 1, 3)), 2, None)


def test_backward_checks_its_arguments(params):
    out, _, cache = ref.forward("lstm", params, np.zeros((4, 2, 3)))
    with pytest.raises(ShapeError, match=r"expected dout of shape \(4, 2, 4\) like the output, got \(4, 2, 5\)"):
        ref.backward("lstm", params, cache, np.zeros((4, 2, 5)))
    with pytest.raises(ParameterError, match="cache does not come from forward"):
        ref.backward("lstm", ref.init_params("lstm", 3, 4), cache, out)
    with pytest.raises(DataError, match="expected targets in"):
        ref.cross_entropy_loss(np.zeros((2, 3)), np.array([0, 3]))
