"""Every gradient of every cell against central finite differences, in float64.

Non-zero biases and initial states, random upstream gradients on every output and on the final state,
T = 4, two layers, both directions, variable lengths.
"""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit import reference as ref
from tests.reference.helpers import (
    KINDS,
    LSTM_KINDS,
    random_masks,
    random_params,
    random_state,
    state_parts,
    weighted_loss,
)
from tests.tolerances import FINITE_DIFFERENCE_REL

T, N, H_IN, H = 4, 3, 3, 3

CASES = [(kind, {"num_layers": 2, "bidirectional": True}) for kind in KINDS]
CASES += [(kind, {"num_layers": 2, "bidirectional": True, "proj_size": 2}) for kind in LSTM_KINDS]
CASES += [("lstm", {"num_layers": 2, "bias": False}), ("layernorm", {"bias": False}), ("gru", {"bias": False})]


def case_id(case):
    kind, options = case
    return kind + "".join(f"-{k}={v}" for k, v in options.items())


@pytest.mark.parametrize("lengths", [None, [4, 2, 3]], ids=["full", "lengths"])
@pytest.mark.parametrize(("kind", "options"), CASES, ids=map(case_id, CASES))
def test_gradients_match_finite_differences(kind, options, lengths):
    rng = np.random.default_rng(7)
    params = random_params(kind, H_IN, H, **options)
    x = rng.normal(size=(T, N, H_IN))
    state0 = random_state(kind, params, N, rng)
    out, final, cache = ref.forward(kind, params, x, state0, lengths)
    dout = rng.normal(size=out.shape)
    dfinal = tuple(rng.normal(size=s.shape) for s in state_parts(final))
    dfinal = dfinal if isinstance(final, tuple) else dfinal[0]

    grads, dx, dstate0 = ref.backward(kind, params, cache, dout, dfinal)

    def loss():
        out, final, _ = ref.forward(kind, params, x, state0, lengths)
        return weighted_loss(out, final, dout, dfinal)

    arrays = dict(params) | {"x": x} | {f"state0[{k}]": s for k, s in enumerate(state_parts(state0))}
    analytic = dict(grads) | {"x": dx} | {f"state0[{k}]": s for k, s in enumerate(state_parts(dstate0))}
    errors = ref.check_gradients(loss, arrays, analytic)
    assert set(grads) == set(params)
    worst = max(errors, key=errors.get)
    assert errors[worst] <= FINITE_DIFFERENCE_REL, f"{worst}: relative error {errors[worst]:.2e}"


@pytest.mark.parametrize("kind", KINDS)
def test_gradients_with_dropout_and_zoneout_masks_match_finite_differences(kind):
    rng = np.random.default_rng(8)
    params = random_params(kind, H_IN, H, num_layers=2, bidirectional=True)
    x = rng.normal(size=(T, N, H_IN))
    state0 = random_state(kind, params, N, rng)
    masks = random_masks(kind, params, T, N, rng)
    lengths = [4, 2, 3]
    out, final, cache = ref.forward(kind, params, x, state0, lengths, masks)
    dout = rng.normal(size=out.shape)
    grads, dx, _ = ref.backward(kind, params, cache, dout)

    def loss():
        return float(np.sum(ref.forward(kind, params, x, state0, lengths, masks)[0] * dout))

    errors = ref.check_gradients(loss, dict(params) | {"x": x}, dict(grads) | {"x": dx})
    worst = max(errors, key=errors.get)
    assert errors[worst] <= FINITE_DIFFERENCE_REL, f"{worst}: relative error {errors[worst]:.2e}"
    plain, _, _ = ref.forward(kind, params, x, state0, lengths)
    assert np.abs(out - plain).max() > 1e-3  # the masks do act


def test_padded_steps_get_no_gradient():
    rng = np.random.default_rng(0)
    params = random_params("lstm", H_IN, H, bidirectional=True)
    x = rng.normal(size=(T, N, H_IN))
    out, _, cache = ref.forward("lstm", params, x, lengths=[4, 1, 2])
    _, dx, _ = ref.backward("lstm", params, cache, rng.normal(size=out.shape))
    assert np.all(out[1:, 1] == 0) and np.all(out[2:, 2] == 0)
    assert np.all(dx[1:, 1] == 0) and np.all(dx[2:, 2] == 0)
    assert np.all(dx[:1, 1] != 0) and np.all(dx[:2, 2] != 0)


def test_recorded_hidden_gradients_match_finite_differences():
    """backward_detailed's dL/dh_t: perturb h_t by adding a constant to the output path via a hook-free
    route, i.e. compare against the gradient of the loss with respect to the initial state of a run
    started at step t from the recorded state."""
    rng = np.random.default_rng(3)
    kind, t0 = "lstm", 2
    params = random_params(kind, H_IN, H)
    x = rng.normal(size=(T, N, H_IN))
    out, _, cache = ref.forward(kind, params, x)
    dout = rng.normal(size=out.shape)
    dh = ref.backward_detailed(kind, params, cache, dout).dh  # (L*D, T, N, P)
    # dL/dh_{t0} where L = sum over t > t0 of out_t * dout_t + out_t0 * dout_t0 (h_t0 is out_t0)
    _, (h_t0, c_t0), _ = ref.forward(kind, params, x[: t0 + 1])
    rest_out, _, rest_cache = ref.forward(kind, params, x[t0 + 1 :], (h_t0, c_t0))
    _, _, (dh_t0, _) = ref.backward(kind, params, rest_cache, dout[t0 + 1 :])
    np.testing.assert_allclose(dh[0, t0], dh_t0[0] + dout[t0], rtol=1e-12, atol=1e-12)
