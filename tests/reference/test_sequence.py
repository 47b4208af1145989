"""Sequence semantics of the reference: stepping, padding, reversal, initial values, options."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit import reference as ref
from lstmkit.errors import ParameterError, ShapeError
from lstmkit.specs import get_spec
from tests.reference.helpers import KINDS, random_params, random_state, state_parts
from tests.tolerances import SAME_MATH_ABS


@pytest.mark.parametrize("kind", KINDS)
def test_step_by_step_equals_whole_sequence(kind):
    rng = np.random.default_rng(0)
    params = random_params(kind, 3, 4, num_layers=2, **({"proj_size": 2} if kind == "lstm" else {}))
    x = rng.normal(size=(6, 2, 3))
    state = random_state(kind, params, 2, rng)
    out, final, _ = ref.forward(kind, params, x, state)
    for t in range(len(x)):
        out_t, state, _ = ref.forward(kind, params, x[t : t + 1], state)
        np.testing.assert_allclose(out_t[0], out[t], rtol=0, atol=SAME_MATH_ABS)
    for a, b in zip(state_parts(state), state_parts(final), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=SAME_MATH_ABS)


@pytest.mark.parametrize("kind", KINDS)
def test_padded_batch_equals_each_sequence_alone(kind):
    rng = np.random.default_rng(1)
    params = random_params(kind, 3, 4, num_layers=2, bidirectional=True)
    lengths = [6, 3, 1, 5]
    x = rng.normal(size=(6, 4, 3))
    state = random_state(kind, params, 4, rng)
    out, final, cache = ref.forward(kind, params, x, state, lengths)
    dout = rng.normal(size=out.shape)
    grads, dx, _ = ref.backward(kind, params, cache, dout)
    summed = {key: np.zeros_like(value) for key, value in params.items()}
    for n, length in enumerate(lengths):
        alone_state = tuple(s[:, n : n + 1] for s in state_parts(state))
        alone_state = alone_state if isinstance(state, tuple) else alone_state[0]
        out_n, final_n, cache_n = ref.forward(kind, params, x[:length, n : n + 1], alone_state)
        np.testing.assert_allclose(out[:length, n], out_n[:, 0], rtol=0, atol=SAME_MATH_ABS)
        assert np.all(out[length:, n] == 0.0)
        for a, b in zip(state_parts(final), state_parts(final_n), strict=True):
            np.testing.assert_allclose(a[:, n], b[:, 0], rtol=0, atol=SAME_MATH_ABS)
        grads_n, dx_n, _ = ref.backward(kind, params, cache_n, dout[:length, n : n + 1])
        np.testing.assert_allclose(dx[:length, n], dx_n[:, 0], rtol=0, atol=SAME_MATH_ABS)
        for key in summed:
            summed[key] += grads_n[key]
    for key in params:
        np.testing.assert_allclose(grads[key], summed[key], rtol=0, atol=1e-11, err_msg=key)


def test_reverse_time_reverses_within_each_length_and_is_its_own_inverse():
    x = np.arange(12.0).reshape(4, 3, 1)
    lengths = np.array([4, 2, 1])
    y = ref.reverse_time(x, lengths)
    assert y[:, 0, 0].tolist() == [9.0, 6.0, 3.0, 0.0]
    assert y[:, 1, 0].tolist() == [4.0, 1.0, 7.0, 10.0]
    assert y[:, 2, 0].tolist() == [2.0, 5.0, 8.0, 11.0]
    np.testing.assert_array_equal(ref.reverse_time(y, lengths), x)


def test_init_params_follows_torch_defaults_and_gate_biases():
    params = ref.init_params("lstm", 5, 8, num_layers=2, bidirectional=True, forget_bias=5.0, input_bias=-3.0, seed=1)
    bound = 1 / np.sqrt(8)
    spec = get_spec("lstm")
    for key, value in params.items():
        assert value.dtype == np.float64
        if not key.startswith("bias"):
            assert np.all(np.abs(value) <= bound) and value.std() > bound / 3, key
    for key in ("bias_ih_l0", "bias_ih_l1_reverse"):
        assert np.all(params[key][spec.gate_slice("f", 8)] == 5.0)
        assert np.all(params[key][spec.gate_slice("i", 8)] == -3.0)
        assert np.all(np.abs(params[key][spec.gate_slice("g", 8)]) <= bound)
    assert np.all(params["bias_hh_l1"][spec.gate_slice("f", 8)] == 0.0)
    again = ref.init_params("lstm", 5, 8, num_layers=2, bidirectional=True, forget_bias=5.0, input_bias=-3.0, seed=1)
    assert all(np.array_equal(params[k], again[k]) for k in params)


def test_parameter_keys_and_shapes_are_torch_state_dict():
    torch = pytest.importorskip("torch")
    cases = [
        ("lstm", torch.nn.LSTM(3, 6, num_layers=2, bidirectional=True, proj_size=2), {"proj_size": 2}),
        ("gru", torch.nn.GRU(3, 6, num_layers=2, bidirectional=True, bias=False), {"bias": False}),
        ("rnn", torch.nn.RNN(3, 6, num_layers=2, bidirectional=True), {}),
    ]
    for kind, module, options in cases:
        params = ref.init_params(kind, 3, 6, num_layers=2, bidirectional=True, **options)
        expected = {key: tuple(value.shape) for key, value in module.state_dict().items()}
        assert {key: value.shape for key, value in params.items()} == expected
        assert list(params) == list(expected)


def test_variant_parameters_follow_torch_naming():
    peephole = ref.init_params("peephole", 3, 4, bidirectional=True)
    assert {"weight_ci_l0", "weight_cf_l0", "weight_co_l0_reverse"} <= set(peephole)
    assert ref.init_params("coupled", 3, 4)["weight_ih_l0"].shape == (12, 3)
    layernorm = ref.init_params("layernorm", 3, 4)
    assert np.all(layernorm["ln_weight_hh_l0"] == 1.0) and np.all(layernorm["ln_bias_c_l0"] == 0.0)
    assert layernorm["ln_weight_ih_l0"].shape == (16,) and layernorm["ln_weight_c_l0"].shape == (4,)


def test_coupled_cell_forgets_exactly_what_it_writes():
    """CIFG: with g = c_{t-1} the cell state cannot change, whatever the input gate does."""
    params = ref.init_params("coupled", 1, 1, bias=True, seed=0)
    params["weight_ih_l0"][:] = [[3.0], [0.0], [0.0]]  # i depends on x, g and o do not
    params["weight_hh_l0"][:] = 0.0
    params["bias_ih_l0"][:] = [0.0, np.arctanh(0.5), 0.0]  # g = 0.5
    params["bias_hh_l0"][:] = 0.0
    x = np.array([[[-2.0]], [[0.5]], [[4.0]]])
    _, (_, c_n), _ = ref.forward("coupled", params, x, (np.zeros((1, 1, 1)), np.full((1, 1, 1), 0.5)))
    assert c_n[0, 0, 0] == pytest.approx(0.5, abs=1e-15)


def test_layernorm_cell_is_invariant_to_scaling_the_weights():
    rng = np.random.default_rng(4)
    params = random_params("layernorm", 3, 4)
    x = rng.normal(size=(5, 2, 3))
    outs = []
    for scale in (100.0, 300.0):  # large enough that eps in sqrt(var + eps) is negligible
        scaled = params | {key: params[key] * scale for key in ("weight_ih_l0", "weight_hh_l0")}
        outs.append(ref.forward("layernorm", scaled, x)[0])
    np.testing.assert_allclose(outs[0], outs[1], rtol=0, atol=1e-7)
    assert np.abs(outs[0]).max() > 0.1


def test_float32_parameters_compute_in_float32():
    params = ref.init_params("lstm", 3, 4, dtype=np.float32)
    out, (h, c), cache = ref.forward("lstm", params, np.ones((2, 1, 3)))
    grads, dx, _ = ref.backward("lstm", params, cache, np.ones_like(out))
    assert out.dtype == h.dtype == c.dtype == dx.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())


def test_cross_entropy_matches_definition_and_ignores_masked_positions():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(3, 2, 5))
    targets = rng.integers(0, 5, size=(3, 2))
    mask = np.array([[True, False], [True, True], [False, True]])
    loss, dlogits = ref.cross_entropy_loss(logits, targets, mask)
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    expected = -np.mean([np.log(p[t, n, targets[t, n]]) for t in range(3) for n in range(2) if mask[t, n]])
    assert loss == pytest.approx(expected, rel=1e-12)
    assert np.all(dlogits[~mask] == 0.0)
    numeric = ref.numerical_gradient(lambda: ref.cross_entropy_loss(logits, targets, mask)[0], logits)
    assert ref.relative_error(dlogits, numeric) < 1e-8


def test_clip_grad_norm_scales_to_the_limit():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    clipped, norm = ref.clip_grad_norm(grads, 1.0)
    assert norm == pytest.approx(5.0)
    assert ref.global_norm(clipped) == pytest.approx(1.0, rel=1e-5)
    unclipped, _ = ref.clip_grad_norm(grads, 10.0)
    np.testing.assert_array_equal(unclipped["a"], grads["a"])


def test_zoneout_everywhere_freezes_the_state_and_zero_recurrent_mask_cuts_the_recurrence():
    rng = np.random.default_rng(9)
    params = random_params("lstm", 3, 4)
    x = rng.normal(size=(5, 2, 3))
    h0, c0 = rng.normal(size=(1, 2, 4)), rng.normal(size=(1, 2, 4))
    frozen = ref.DropoutMasks(zoneout_h=np.ones((1, 5, 2, 4), bool), zoneout_c=np.ones((1, 5, 2, 4), bool))
    out, (h_n, c_n), _ = ref.forward("lstm", params, x, (h0, c0), masks=frozen)
    np.testing.assert_array_equal(out, np.broadcast_to(h0, out.shape))
    np.testing.assert_array_equal(c_n, c0)
    cut = ref.DropoutMasks(recurrent=np.zeros((1, 2, 4)))
    out, _, _ = ref.forward("lstm", params, x, (h0, c0), masks=cut)
    for t in range(5):  # each step sees h_{t-1} = 0 in the recurrent product, the cell state still flows
        _, (h_t, c_t), _ = ref.forward("lstm", params, x[t : t + 1], (np.zeros_like(h0), c0))
        np.testing.assert_allclose(out[t], h_t[0], rtol=0, atol=SAME_MATH_ABS)
        c0 = c_t


def test_masks_of_the_wrong_shape_are_refused():
    params = ref.init_params("gru", 3, 4, num_layers=2)
    x = np.zeros((5, 2, 3))
    with pytest.raises(ShapeError, match=r"expected masks.recurrent of shape \(2, 2, 4\), got \(1, 2, 4\)"):
        ref.forward("gru", params, x, masks=ref.DropoutMasks(recurrent=np.ones((1, 2, 4))))
    with pytest.raises(ParameterError, match="masks.zoneout_c is for cells with a cell state, not 'gru'"):
        ref.forward("gru", params, x, masks=ref.DropoutMasks(zoneout_c=np.ones((2, 5, 2, 4), bool)))
    with pytest.raises(ShapeError, match=r"expected 1 masks.layer_input arrays"):
        ref.forward("gru", params, x, masks=ref.DropoutMasks(layer_input=[]))
