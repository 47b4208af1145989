"""Streams (lstmkit.nn.Stream) against the layer run over the whole sequence, for every cell kind.

Each engine runs: compiled with 512-bit and 256-bit vectors for the products, and the torch engine (the
extension switched off). H = 37 and batches of 1, 5 and 9 rows take the products through their vector
remainders, their single-row kernel and whole tiles; saturated inputs (x 40) take exp() to its clamps.
The oracle is the native backend (the readable time loop), in eval mode.
"""

from __future__ import annotations

import itertools

import pytest
import torch

from lstmkit import nn as lnn
from lstmkit.errors import ParameterError, ShapeError
from lstmkit.nn.backends import kernels
from tests.nn.helpers import make_layer, parts
from tests.tolerances import FLOAT32_ABS, SAME_MATH_ABS

T, H_IN, H = 6, 11, 37
KINDS = ("lstm", "peephole", "coupled", "layernorm", "gru", "rnn", "rnn_relu")
ENGINES = {
    "compiled": {},
    "compiled-narrow-vectors": {"WIDE_VECTORS": False},
    "torch": {"ENABLED": False},
}
CASES = list(itertools.product(ENGINES, KINDS, (torch.float32, torch.float64), (1, 5, 9)))


def engine(name: str, monkeypatch) -> bool:
    """Switch to engine ``name``; whether it is the compiled one."""
    for attribute, value in ENGINES[name].items():
        monkeypatch.setattr(kernels, attribute, value)
    return name.startswith("compiled")


def oracle_and_stream(kind, dtype, N, scale=1.0, **options):
    """A two-layer layer of ``kind`` (random weights, native backend), an input and an initial state."""
    torch.manual_seed(0)
    layer = make_layer(kind, H_IN, H, num_layers=2, backend="native", dtype=dtype, **options).eval()
    with torch.no_grad():
        for p in layer.parameters():  # relu's states grow without bound: smaller weights keep them O(1)
            p.normal_(0.0, 0.15 if kind == "rnn_relu" else 0.4)
    x = torch.randn(T, N, H_IN, dtype=dtype) * scale
    hx = tuple(torch.randn(shape, dtype=dtype) for shape in layer.state_shapes(N))
    return layer, x, hx if layer.config.spec.has_cell_state else hx[0]


def tolerance(dtype) -> float:
    return FLOAT32_ABS if dtype == torch.float32 else SAME_MATH_ABS


def run_stream(stream, x):
    return torch.stack([stream(x_t) for x_t in x])


@pytest.mark.parametrize(("name", "kind", "dtype", "N"), CASES, ids=["-".join(map(str, c)) for c in CASES])
def test_a_stream_equals_the_layer_over_the_whole_sequence(name, kind, dtype, N, monkeypatch):
    compiled = engine(name, monkeypatch)
    layer, x, hx = oracle_and_stream(kind, dtype, N)
    with torch.no_grad():
        want, want_state = layer(x, hx)
    stream = layer.stream(N, hx)
    assert stream.compiled is (compiled and kernels._kernels is not None)
    got = run_stream(stream, x)
    assert got.dtype == dtype and got.shape == want.shape
    torch.testing.assert_close(got, want, atol=tolerance(dtype), rtol=0)
    for g, w in zip(parts(stream.state), parts(want_state), strict=True):
        torch.testing.assert_close(g, w, atol=tolerance(dtype), rtol=0)


@pytest.mark.parametrize(("name", "kind"), list(itertools.product(ENGINES, ("lstm", "gru", "layernorm"))))
def test_saturated_gates(name, kind, monkeypatch):
    engine(name, monkeypatch)
    layer, x, hx = oracle_and_stream(kind, torch.float64, 3, scale=40.0)
    with torch.no_grad():
        want, _ = layer(x, hx)
    torch.testing.assert_close(run_stream(layer.stream(3, hx), x), want, atol=SAME_MATH_ABS, rtol=0)


@pytest.mark.parametrize(
    ("name", "kind", "dtype"),
    list(itertools.product(ENGINES, ("lstm", "peephole", "layernorm"), (torch.float32, torch.float64))),
)
def test_projected_layers(name, kind, dtype, monkeypatch):
    engine(name, monkeypatch)
    layer, x, _ = oracle_and_stream(kind, dtype, 5, proj_size=7)
    with torch.no_grad():
        want, (h_n, c_n) = layer(x)
    stream = lnn.Stream(layer, batch_size=5)
    torch.testing.assert_close(run_stream(stream, x), want, atol=tolerance(dtype), rtol=0)
    assert stream.state[0].shape == (2, 5, 7) and stream.state[1].shape == (2, 5, H)
    torch.testing.assert_close(stream.state[1], c_n, atol=tolerance(dtype), rtol=0)


def test_a_stream_computes_the_eval_mode_layer_whatever_the_layer_mode():
    torch.manual_seed(0)
    layer = lnn.LSTM(H_IN, H, 2, dropout=0.5, recurrent_dropout=0.3, zoneout=0.2).train()
    x = torch.randn(T, 1, H_IN)
    stream = layer.stream()
    got = run_stream(stream, x)
    with torch.no_grad():
        want, _ = layer.eval()(x)
    torch.testing.assert_close(got, want, atol=FLOAT32_ABS, rtol=0)


def test_unbatched_steps_out_and_reset(monkeypatch):
    layer, x, hx = oracle_and_stream("lstm", torch.float64, 1)
    with torch.no_grad():
        want, _ = layer(x[:, 0], tuple(h[:, 0] for h in hx))  # unbatched (T, H_in)
    stream = layer.stream(1, hx)
    out = torch.empty(H, dtype=torch.float64)
    steps = []
    for x_t in x[:, 0]:
        assert stream(x_t, out=out) is out
        steps.append(out.clone())
    torch.testing.assert_close(torch.stack(steps), want, atol=SAME_MATH_ABS, rtol=0)
    stream.reset(hx)  # the same start again: the same first step
    torch.testing.assert_close(stream(x[0, 0]), want[0], atol=SAME_MATH_ABS, rtol=0)
    stream.reset()
    with torch.no_grad():
        from_zeros, _ = layer(x[:1, 0])
    torch.testing.assert_close(stream(x[0, 0]), from_zeros[0], atol=SAME_MATH_ABS, rtol=0)


@pytest.mark.parametrize("name", list(ENGINES))
def test_the_parameters_are_copied_when_the_stream_is_made(name, monkeypatch):
    engine(name, monkeypatch)
    layer, x, _ = oracle_and_stream("gru", torch.float64, 2)
    with torch.no_grad():
        want, _ = layer(x)
    stream = layer.stream(2)
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(1.0)
    torch.testing.assert_close(run_stream(stream, x), want, atol=SAME_MATH_ABS, rtol=0)


def test_bad_streams_and_steps_are_refused_with_what_was_expected():
    layer = lnn.LSTM(4, 6, 2)
    with pytest.raises(ParameterError, match="bidirectional"):
        lnn.LSTM(4, 6, bidirectional=True).stream()
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ParameterError, match="batch_size"):
            layer.stream(bad)
    with pytest.raises(ShapeError, match=r"expected hx of shape \(2, 3, 6\)"):
        layer.stream(3, (torch.zeros(2, 1, 6), torch.zeros(2, 1, 6)))
    stream = layer.stream(3)
    with pytest.raises(ShapeError, match=r"expected input of shape \(3, 4\), got \(4,\)"):
        stream(torch.zeros(4))
    with pytest.raises(ShapeError, match=r"expected input of shape \(1, 4\) or \(4,\), got \(2, 4\)"):
        layer.stream()(torch.zeros(2, 4))
    with pytest.raises(ShapeError, match="dtype torch.float32"):
        stream(torch.zeros(3, 4, dtype=torch.float64))
    with pytest.raises(ShapeError, match="torch.Tensor"):
        stream([[0.0] * 4] * 3)
    with pytest.raises(ShapeError, match=r"expected out of shape \(3, 6\)"):
        stream(torch.zeros(3, 4), out=torch.empty(3, 5))
    with pytest.raises(ShapeError, match="contiguous"):
        stream(torch.zeros(3, 4), out=torch.empty(6, 3).t())


@pytest.mark.parametrize(("name", "kind"), list(itertools.product(ENGINES, ("lstm", "layernorm", "gru", "rnn"))))
def test_layers_without_biases(name, kind, monkeypatch):
    engine(name, monkeypatch)
    layer, x, hx = oracle_and_stream(kind, torch.float64, 3, bias=False)
    with torch.no_grad():
        want, _ = layer(x, hx)
    torch.testing.assert_close(run_stream(layer.stream(3, hx), x), want, atol=SAME_MATH_ABS, rtol=0)
