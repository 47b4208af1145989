"""lstmkit.nn behaviour: streaming, traces, regularization modes, cells, Keras weights, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstmkit import nn as lnn
from lstmkit import reference as ref
from lstmkit.errors import DataError, ParameterError, ShapeError, UnknownCellError
from lstmkit.nn import convert
from lstmkit.nn.backends import kernels
from lstmkit.nn.dropout import sample_masks
from tests.nn.helpers import make_layer, parts
from tests.reference.helpers import KINDS
from tests.tolerances import SAME_MATH_ABS

LSTM_CELLS = ["lstm", "peephole", "coupled", "layernorm"]


@pytest.mark.parametrize("backend", ["native", "auto"])
@pytest.mark.parametrize("kind", KINDS)
def test_streaming_one_step_at_a_time_equals_the_whole_sequence(kind, backend):
    torch.manual_seed(0)
    layer = make_layer(kind, 3, 4, num_layers=2, backend=backend)
    x = torch.randn(7, 2, 3, dtype=torch.float64)
    out, final = layer(x)
    state, steps = None, []
    for x_t in x.unbind(0):
        out_t, state = layer(x_t[None], state)
        steps.append(out_t[0])
    torch.testing.assert_close(torch.stack(steps), out, rtol=0, atol=SAME_MATH_ABS)
    for a, b in zip(parts(state), parts(final), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=SAME_MATH_ABS)


@pytest.mark.parametrize("kind", KINDS)
def test_cells_equal_one_step_of_the_layer(kind):
    torch.manual_seed(0)
    layer = make_layer(kind, 3, 4)
    if kind == "gru":
        cell = lnn.GRUCell(3, 4, dtype=torch.float64)
    elif kind.startswith("rnn"):
        cell = lnn.RNNCell(3, 4, nonlinearity="relu" if kind == "rnn_relu" else "tanh", dtype=torch.float64)
    else:
        cell = lnn.LSTMCell(3, 4, cell=kind, dtype=torch.float64)
    cell.load_state_dict({name.removesuffix("_l0"): value for name, value in layer.state_dict().items()})
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    out, _ = layer(x)
    state = None
    for t, x_t in enumerate(x.unbind(0)):
        state = cell(x_t, state)
        torch.testing.assert_close(parts(state)[0], out[t], rtol=0, atol=SAME_MATH_ABS)
    unbatched = cell(x[0, 0])
    torch.testing.assert_close(parts(unbatched)[0], parts(cell(x[0, :1]))[0][0], rtol=0, atol=SAME_MATH_ABS)


def test_vanilla_cells_equal_torch_cells():
    torch.manual_seed(0)
    for ours, theirs in (
        (lnn.LSTMCell(3, 4), torch.nn.LSTMCell(3, 4)),
        (lnn.GRUCell(3, 4), torch.nn.GRUCell(3, 4)),
        (lnn.RNNCell(3, 4, nonlinearity="relu"), torch.nn.RNNCell(3, 4, nonlinearity="relu")),
    ):
        theirs.load_state_dict(ours.state_dict())
        x, h = torch.randn(2, 3), torch.randn(2, 4)
        hx = (h, torch.randn(2, 4)) if isinstance(ours, lnn.LSTMCell) else h
        for a, b in zip(parts(ours(x, hx)), parts(theirs(x, hx)), strict=True):
            torch.testing.assert_close(a, b, rtol=0, atol=1e-6)


@pytest.mark.parametrize("cell", LSTM_CELLS)
def test_trace_satisfies_the_cell_equations_and_equals_the_output(cell):
    torch.manual_seed(0)
    layer = lnn.LSTM(3, 5, num_layers=2, bidirectional=True, cell=cell, dtype=torch.float64)
    x = torch.randn(6, 3, 3, dtype=torch.float64)
    lengths = [6, 4, 2]
    out, (h_n, c_n), trace = layer(x, lengths=lengths, return_gates=True)
    assert trace.gates == layer.config.spec.gates and trace.mask.shape == (6, 3)
    np.testing.assert_array_equal(trace.mask[:, 2], [True, True, False, False, False, False])
    for layer_index in range(2):
        for direction in range(2):
            v = trace.layer(layer_index, direction)
            valid = trace.mask
            f = 1.0 - v["i"] if cell == "coupled" else v["f"]
            c = v["c"]
            # c_t = f c_{t-1} + i g, in the direction's own time order (the previous step is t-1 or t+1)
            for n, length in enumerate(lengths):
                steps = range(length) if direction == 0 else range(length - 1, -1, -1)
                c_prev = np.zeros(5)
                for t in steps:
                    np.testing.assert_allclose(c[t, n], f[t, n] * c_prev + v["i"][t, n] * v["g"][t, n], atol=1e-12)
                    c_prev = c[t, n]
            if cell in ("lstm", "coupled"):
                np.testing.assert_allclose(v["h"], v["o"] * np.tanh(v["c"]) * valid[..., None], atol=1e-12)
            assert np.all(v["c"][~valid] == 0.0)
    top = trace.layer(-1, 0)["h"], trace.layer(-1, 1)["h"]
    np.testing.assert_allclose(np.concatenate(top, axis=2), out.detach().numpy(), atol=0)
    np.testing.assert_allclose(trace.layer(0, 1)["c"][0], c_n[1].detach().numpy(), atol=0)  # reverse ends at t=0


def test_gru_trace_records_r_z_n_and_the_rnn_only_h():
    gru, rnn = lnn.GRU(2, 3), lnn.RNN(2, 3)
    x = torch.randn(4, 1, 2)
    _, h_n, trace = gru(x, return_gates=True)
    assert trace.gates == ("r", "z", "n") and set(trace.layer(0)) == {"r", "z", "n", "h"}
    v = trace.layer(0)
    h_prev = np.vstack([np.zeros((1, 3)), v["h"][:-1, 0]])
    np.testing.assert_allclose(v["h"][:, 0], (1 - v["z"][:, 0]) * v["n"][:, 0] + v["z"][:, 0] * h_prev, atol=1e-6)
    _, _, trace = rnn(x, return_gates=True)
    assert trace.gates == () and set(trace.layer(0)) == {"h"}
    with pytest.raises(ParameterError, match="expected layer in"):
        trace.layer(1)


@pytest.mark.parametrize("kind", KINDS)
def test_regularization_is_identity_in_eval_and_active_in_training(kind):
    torch.manual_seed(0)
    plain = make_layer(kind, 3, 4, num_layers=2)
    noisy = make_layer(kind, 3, 4, num_layers=2, dropout=0.5, recurrent_dropout=0.5, zoneout=0.5)
    noisy.load_state_dict(plain.state_dict())
    x = torch.randn(6, 2, 3, dtype=torch.float64)
    noisy.eval()
    torch.testing.assert_close(noisy(x)[0], plain(x)[0], rtol=0, atol=SAME_MATH_ABS)
    noisy.train()
    torch.manual_seed(1)
    first = noisy(x)[0]
    assert (first - plain(x)[0]).abs().max() > 1e-2
    torch.manual_seed(1)
    torch.testing.assert_close(noisy(x)[0], first, rtol=0, atol=0)  # same seed, same masks


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled-sampler", "torch-sampler"])
def test_sampled_masks_have_the_documented_statistics(compiled, monkeypatch):
    monkeypatch.setattr(kernels, "ENABLED", compiled and kernels.ENABLED)
    torch.manual_seed(0)
    layer = lnn.LSTM(4, 64, num_layers=2, dropout=0.3, recurrent_dropout=0.4, zoneout=0.2, backend="native")
    masks = sample_masks(layer.config, torch.zeros(50, 32, 4), 0.3, 0.4, 0.2)
    assert masks.recurrent.shape == (2, 32, 64)
    assert masks.recurrent.unique().tolist() == pytest.approx([0.0, 1 / 0.6])
    assert abs((masks.recurrent == 0).float().mean().item() - 0.4) < 0.02
    assert abs(masks.zoneout_h.float().mean().item() - 0.2) < 0.01
    assert abs((masks.layer_input[0] == 0).float().mean().item() - 0.3) < 0.01


def test_backend_choice_and_refusals():
    x = torch.randn(3, 1, 2)
    with pytest.raises(ParameterError, match="unknown backend 'cuda'; expected one of 'auto', 'native', 'fused'"):
        lnn.LSTM(2, 3, backend="cuda")
    with pytest.raises(ParameterError, match="backend 'fused' cannot run cell 'peephole'"):
        lnn.LSTM(2, 3, cell="peephole", backend="fused")
    with pytest.raises(ParameterError, match="backend 'fused' cannot run recurrent_dropout or zoneout"):
        lnn.LSTM(2, 3, zoneout=0.1, backend="fused")
    with pytest.raises(ParameterError, match="backend 'fused' cannot run return_gates=True"):
        lnn.LSTM(2, 3, backend="fused")(x, return_gates=True)
    auto = lnn.LSTM(2, 3)
    _, _, trace = auto(x, return_gates=True)  # auto falls back to native for traces
    assert trace.layer(0)["f"].shape == (3, 1, 3)


def test_bad_input_gives_typed_errors_that_say_expected_and_got():
    layer = lnn.LSTM(8, 4, num_layers=2)
    with pytest.raises(ShapeError, match=r"expected input of shape \(T, N, 8\) or \(T, 8\), got \(5, 7\)"):
        layer(torch.randn(5, 7))
    with pytest.raises(ShapeError, match=r"\(N, T, 8\) with batch_first=True"):
        lnn.LSTM(8, 4, batch_first=True)(torch.randn(2, 3, 4, 8))
    with pytest.raises(
        ShapeError, match="expected input of dtype torch.float32 like the parameters, got torch.float64"
    ):
        layer(torch.randn(5, 2, 8, dtype=torch.float64))
    with pytest.raises(ShapeError, match=r"expected hx of shape \(2, 3, 4\) and \(2, 3, 4\), got \(1, 3, 4\) and"):
        layer(torch.randn(5, 3, 8), (torch.zeros(1, 3, 4), torch.zeros(2, 3, 4)))
    with pytest.raises(ShapeError, match=r"expected hx as a tuple \(h_0, c_0\)"):
        layer(torch.randn(5, 3, 8), torch.zeros(2, 3, 4))
    with pytest.raises(DataError, match=r"expected every length in \[1, 5\] \(T = 5\), got \[6, 0\] at positions"):
        layer(torch.randn(5, 3, 8), lengths=[6, 0, 2])
    with pytest.raises(ShapeError, match=r"expected lengths of shape \(3,\)"):
        layer(torch.randn(5, 3, 8), lengths=[1, 2])
    with pytest.raises(
        ParameterError, match="proj_size is supported by the LSTM kinds only, got proj_size=2 for 'gru'"
    ):
        lnn.GRU(8, 4, proj_size=2)
    with pytest.raises(ParameterError, match="expected proj_size < hidden_size, got proj_size=4, hidden_size=4"):
        lnn.LSTM(8, 4, proj_size=4)
    with pytest.raises(UnknownCellError, match="unknown cell kind 'gru2'"):
        lnn.LSTM(8, 4, cell="gru2")
    with pytest.raises(ParameterError, match=r"LSTM takes cell in \('lstm', 'peephole', 'coupled', 'layernorm'\)"):
        lnn.LSTM(8, 4, cell="gru")
    with pytest.raises(ParameterError, match=r"expected dropout to be a probability in \[0, 1\), got 1.5"):
        lnn.GRU(8, 4, dropout=1.5)
    with pytest.raises(ParameterError, match="f = 1 - i there"):
        lnn.LSTM(8, 4, cell="coupled", forget_bias=1.0)
    with pytest.raises(ShapeError, match=r"expected input of shape \(N, 8\) or \(8,\), got \(2, 3\)"):
        lnn.LSTMCell(8, 4)(torch.randn(2, 3))


def test_unbatched_input_and_batch_first():
    torch.manual_seed(0)
    layer = lnn.GRU(3, 4, num_layers=2, bidirectional=True)
    x = torch.randn(5, 3)
    out, h = layer(x)
    out_b, h_b = layer(x[:, None])
    assert out.shape == (5, 8) and h.shape == (4, 4)
    torch.testing.assert_close(out, out_b[:, 0], rtol=0, atol=0)
    bf = lnn.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True, backend="native")
    bf.load_state_dict(layer.state_dict())
    torch.testing.assert_close(bf(x[None])[0][0], out, rtol=0, atol=1e-6)


def keras_lstm(x, kernel, recurrent_kernel, bias):
    """Keras' LSTM equations, written from its documentation (gates i, f, c, o; x @ kernel)."""
    H = recurrent_kernel.shape[0]
    h, c, outs = np.zeros((x.shape[1], H)), np.zeros((x.shape[1], H)), []
    sigmoid = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    for x_t in x:
        z = x_t @ kernel + h @ recurrent_kernel + bias
        i, f, cc, o = sigmoid(z[:, :H]), sigmoid(z[:, H : 2 * H]), np.tanh(z[:, 2 * H : 3 * H]), sigmoid(z[:, 3 * H :])
        c = f * c + i * cc
        h = o * np.tanh(c)
        outs.append(h)
    return np.stack(outs)


def keras_gru(x, kernel, recurrent_kernel, bias):
    """Keras' GRU with reset_after=True (gates z, r, h; bias rows: input, recurrent)."""
    H = recurrent_kernel.shape[0]
    h, outs = np.zeros((x.shape[1], H)), []
    sigmoid = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    for x_t in x:
        xz = x_t @ kernel + bias[0]
        hz = h @ recurrent_kernel + bias[1]
        z = sigmoid(xz[:, :H] + hz[:, :H])
        r = sigmoid(xz[:, H : 2 * H] + hz[:, H : 2 * H])
        hh = np.tanh(xz[:, 2 * H :] + r * hz[:, 2 * H :])
        h = z * h + (1 - z) * hh
        outs.append(h)
    return np.stack(outs)


def test_keras_weights_convert_to_the_same_function():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 2, 3))
    kernel, recurrent, bias = rng.normal(size=(3, 16)), rng.normal(size=(4, 16)), rng.normal(size=16)
    params = convert.from_keras("lstm", kernel, recurrent, bias)
    np.testing.assert_allclose(ref.forward("lstm", params, x)[0], keras_lstm(x, kernel, recurrent, bias), atol=1e-12)
    kernel, recurrent, bias = rng.normal(size=(3, 12)), rng.normal(size=(4, 12)), rng.normal(size=(2, 12))
    params = convert.from_keras("gru", kernel, recurrent, bias)
    np.testing.assert_allclose(ref.forward("gru", params, x)[0], keras_gru(x, kernel, recurrent, bias), atol=1e-12)
    layer = convert.load_reference(lnn.GRU(3, 4, dtype=torch.float64), params)
    np.testing.assert_allclose(
        layer(torch.from_numpy(x))[0].detach().numpy(), keras_gru(x, kernel, recurrent, bias), atol=1e-12
    )
    with pytest.raises(ShapeError, match=r"expected a Keras gru bias of shape \(2, 12\), got \(12,\)"):
        convert.from_keras("gru", kernel, recurrent, bias[0])


def test_reference_round_trip_for_every_variant():
    for kind in ("peephole", "coupled", "layernorm"):
        layer = make_layer(kind, 3, 4, num_layers=2, bidirectional=True, proj_size=2)
        params = convert.to_reference(layer)
        assert list(params) == list(ref.init_params(kind, 3, 4, 2, True, proj_size=2))
        fresh = convert.load_reference(make_layer(kind, 3, 4, num_layers=2, bidirectional=True, proj_size=2), params)
        for (name, a), b in zip(fresh.named_parameters(), params.values(), strict=True):
            np.testing.assert_array_equal(a.detach().numpy(), b, err_msg=name)
    with pytest.raises(ParameterError, match="the module is"):
        convert.load_reference(make_layer("lstm", 3, 5), ref.init_params("lstm", 3, 4))
