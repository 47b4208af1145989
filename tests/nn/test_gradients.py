"""Measured gradient flow against the NumPy reference: dL/dh_t directly, dL/dc_t through the cell equations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstmkit import reference as ref
from lstmkit.nn import convert
from lstmkit.nn.gradients import gradient_norms, state_gradients
from tests.nn.helpers import make_layer


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn", "peephole"])
def test_hidden_state_gradients_equal_the_reference(kind):
    torch.manual_seed(0)
    layer = make_layer(kind, 3, 4, num_layers=2, bidirectional=True)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 2, 3))
    dout = rng.normal(size=(6, 2, 8))
    lengths = [6, 4]
    grads = state_gradients(layer, torch.from_numpy(x), lambda out: (out * torch.from_numpy(dout)).sum(), lengths)
    params = convert.to_reference(layer)
    _, _, cache = ref.forward(kind, params, x, lengths=lengths)
    expected = ref.backward_detailed(kind, params, cache, dout).dh  # (L*D, T, N, P)
    np.testing.assert_allclose(grads["dh"], expected, rtol=0, atol=1e-12)
    assert ("dc" in grads) == (kind in ("lstm", "peephole"))


def test_cell_state_gradients_are_total_derivatives():
    """dL/dc_t = (gradient through step t+1, the reference's d(initial c) of the rest) + dL/dh_t o_t tanh'(c_t)."""
    torch.manual_seed(1)
    layer = make_layer("lstm", 2, 3)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 2, 2))
    dout = rng.normal(size=(5, 2, 3))
    grads = state_gradients(layer, torch.from_numpy(x), lambda out: (out * torch.from_numpy(dout)).sum())
    params = convert.to_reference(layer)
    with torch.no_grad():
        _, _, trace = layer(torch.from_numpy(x), return_gates=True)
    values = trace.layer(0)
    for t in range(5):
        _, (h_t, c_t), _ = ref.forward("lstm", params, x[: t + 1])
        through_next = np.zeros((2, 3))
        if t < 4:
            _, _, rest = ref.forward("lstm", params, x[t + 1 :], (h_t, c_t))
            _, _, (_, dc0) = ref.backward("lstm", params, rest, dout[t + 1 :])
            through_next = dc0[0]
        through_h = grads["dh"][0, t] * values["o"][t] * (1 - np.tanh(values["c"][t]) ** 2)
        np.testing.assert_allclose(grads["dc"][0, t], through_next + through_h, rtol=0, atol=1e-12)


def test_gradient_norms_average_over_the_batch():
    g = np.zeros((1, 2, 3, 4))
    g[0, 0, 0] = [3, 4, 0, 0]  # norm 5 for sequence 0 at t = 0
    np.testing.assert_allclose(gradient_norms(g), [[5 / 3, 0.0]])
