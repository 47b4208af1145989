"""Vanilla lstmkit.nn layers against torch.nn, both backends, float64 and float32."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstmkit import nn as lnn
from lstmkit.nn import convert
from tests.nn.helpers import FAST_MODES, backend_under_test, make_layer
from tests.tolerances import FLOAT32_ABS, TORCH_FLOAT64_ABS

T, N, H_IN, H = 6, 4, 3, 5
LENGTHS = [6, 2, 5, 1]
TORCH_CLASSES = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN, "rnn_relu": torch.nn.RNN}

SWEEP = [
    case
    for case in itertools.product(
        ("lstm", "gru", "rnn", "rnn_relu"),
        ("native", "fused", *FAST_MODES),
        (True, False),
        (False, True),
        (False, True),
        (1, 2),
        (0, 2),
        (None, LENGTHS),
    )
    if not (case[6] and case[0] != "lstm") and not (case[1].startswith("fast") and (case[0] != "lstm" or case[6]))
]


def torch_twin(kind, layer):
    options = dict(
        num_layers=layer.num_layers,
        bias=layer.bias,
        batch_first=layer.batch_first,
        bidirectional=layer.bidirectional,
        dtype=layer.weight_ih_l0.dtype,
    )
    if kind == "lstm":
        options["proj_size"] = layer.proj_size
    if kind.startswith("rnn"):
        options["nonlinearity"] = "relu" if kind == "rnn_relu" else "tanh"
    twin = TORCH_CLASSES[kind](layer.input_size, layer.hidden_size, **options)
    twin.load_state_dict(layer.state_dict())
    return twin


def forward_backward(module, x, hx, lengths, dout_seed):
    """Packed input for torch.nn when lengths are given; lengths= for lstmkit."""
    x = x.clone().requires_grad_(True)
    hx = tuple(h.clone().requires_grad_(True) for h in hx)
    h_arg = hx if len(hx) == 2 else hx[0]
    if isinstance(module, torch.nn.RNNBase) and lengths is not None:  # torch.nn takes lengths by packing
        packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=module.batch_first, enforce_sorted=False)
        out, final = module(packed, h_arg)
        out, _ = pad_packed_sequence(out, batch_first=module.batch_first, total_length=T)
    else:
        out, final = module(x, h_arg, lengths=lengths) if lengths is not None else module(x, h_arg)
    final = final if isinstance(final, tuple) else (final,)
    generator = torch.Generator().manual_seed(dout_seed)
    loss = (out * torch.randn(out.shape, generator=generator, dtype=out.dtype)).sum()
    loss = loss + sum((f * torch.randn(f.shape, generator=generator, dtype=f.dtype)).sum() for f in final)
    module.zero_grad()
    loss.backward()
    grads = {name: p.grad.clone() for name, p in module.named_parameters()}
    return out.detach(), [f.detach() for f in final], grads, x.grad, [h.grad for h in hx]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize(
    ("kind", "backend", "bias", "batch_first", "bidirectional", "num_layers", "proj_size", "lengths"),
    SWEEP,
    ids=["-".join(map(str, case)).replace(str(LENGTHS), "lengths") for case in SWEEP],
)
def test_matches_torch_nn(
    kind, backend, bias, batch_first, bidirectional, num_layers, proj_size, lengths, dtype, monkeypatch
):
    backend = backend_under_test(backend, monkeypatch)
    torch.manual_seed(0)
    options = dict(
        bias=bias,
        batch_first=batch_first,
        bidirectional=bidirectional,
        num_layers=num_layers,
        backend=backend,
        dtype=dtype,
    )
    if proj_size:
        options["proj_size"] = proj_size
    layer = make_layer(kind, H_IN, H, **options)
    twin = torch_twin(kind, layer)
    x = torch.randn((N, T, H_IN) if batch_first else (T, N, H_IN), dtype=dtype)
    D, P = 2 if bidirectional else 1, proj_size or H
    hx = (torch.randn(num_layers * D, N, P, dtype=dtype),)
    if kind == "lstm":
        hx += (torch.randn(num_layers * D, N, H, dtype=dtype),)
    tol = TORCH_FLOAT64_ABS if dtype == torch.float64 else FLOAT32_ABS
    ours = forward_backward(layer, x, hx, lengths, dout_seed=1)
    theirs = forward_backward(twin, x, hx, lengths, dout_seed=1)
    torch.testing.assert_close(ours[0], theirs[0], rtol=0, atol=tol)
    for a, b in zip(ours[1], theirs[1], strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=tol)
    assert list(ours[2]) == list(theirs[2])
    for name in ours[2]:
        torch.testing.assert_close(ours[2][name], theirs[2][name], rtol=0, atol=tol * 10, msg=name)
    torch.testing.assert_close(ours[3], theirs[3], rtol=0, atol=tol)
    for a, b in zip(ours[4], theirs[4], strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=tol)


@pytest.mark.parametrize("backend", ["native", "fused"])
def test_packed_sequence_in_packed_sequence_out(backend):
    torch.manual_seed(0)
    layer = lnn.LSTM(H_IN, H, num_layers=2, bidirectional=True, proj_size=2, backend=backend)
    twin = torch_twin("lstm", layer)
    x = torch.randn(T, N, H_IN)
    packed = pack_padded_sequence(x, torch.tensor(LENGTHS), enforce_sorted=False)
    ours, (h, c) = layer(packed)
    theirs, (h2, c2) = twin(packed)
    assert isinstance(ours, torch.nn.utils.rnn.PackedSequence)
    torch.testing.assert_close(pad_packed_sequence(ours)[0], pad_packed_sequence(theirs)[0], rtol=0, atol=FLOAT32_ABS)
    torch.testing.assert_close(h, h2, rtol=0, atol=FLOAT32_ABS)
    torch.testing.assert_close(c, c2, rtol=0, atol=FLOAT32_ABS)


def test_state_dicts_load_both_ways_and_converters_round_trip():
    source = torch.nn.LSTM(3, 6, num_layers=2, bidirectional=True, proj_size=2)
    layer = lnn.LSTM(3, 6, num_layers=2, bidirectional=True, proj_size=2)
    layer.load_state_dict(source.state_dict())
    back = torch.nn.LSTM(3, 6, num_layers=2, bidirectional=True, proj_size=2)
    back.load_state_dict(layer.state_dict())
    x = torch.randn(4, 2, 3)
    torch.testing.assert_close(back(x)[0], source(x)[0], rtol=0, atol=0)
    torch.testing.assert_close(convert.to_torch(layer)(x)[0], source(x)[0], rtol=0, atol=0)
    gru = torch.nn.GRU(3, 4, batch_first=True)
    converted = convert.from_torch(gru, recurrent_dropout=0.1)
    assert isinstance(converted, lnn.GRU) and converted.recurrent_dropout == 0.1 and converted.batch_first
    converted.eval()
    xb = torch.randn(2, 5, 3)
    torch.testing.assert_close(converted(xb)[0], gru(xb)[0], rtol=0, atol=FLOAT32_ABS)
    relu = convert.from_torch(torch.nn.RNN(3, 4, nonlinearity="relu"))
    assert relu.cell == "rnn_relu" and relu.nonlinearity == "relu"


def test_signature_is_torchs_positionally():
    layer = lnn.LSTM(3, 4, 2, False, True, 0.25, True, 2)
    twin = torch.nn.LSTM(3, 4, 2, False, True, 0.25, True, 2)
    assert {k: v.shape for k, v in layer.state_dict().items()} == {k: v.shape for k, v in twin.state_dict().items()}
    assert (layer.num_layers, layer.bias, layer.batch_first, layer.dropout, layer.bidirectional, layer.proj_size) == (
        2,
        False,
        True,
        0.25,
        True,
        2,
    )
    rnn = lnn.RNN(3, 4, 1, "relu")
    assert rnn.nonlinearity == "relu" and rnn.cell == "rnn_relu"
    params = np.array([p.detach().abs().max().item() for p in layer.parameters()])
    assert np.all(params <= 0.5) and np.all(params > 0.1)  # U(-1/sqrt(4), 1/sqrt(4))


def test_small_calls_skip_onednn_with_the_same_numbers():
    """One step at batch 1 runs torch's own kernel (oneDNN prepares each call for about a millisecond); the output
    equals torch.nn.LSTM's through oneDNN, and the process-wide flag is back on afterwards."""
    torch.manual_seed(0)
    layer = lnn.LSTM(16, 64, num_layers=2, backend="fused")
    twin = torch.nn.LSTM(16, 64, num_layers=2)
    twin.load_state_dict(layer.state_dict())
    x, state = torch.randn(1, 1, 16), (torch.randn(2, 1, 64), torch.randn(2, 1, 64))
    assert torch.backends.mkldnn.enabled
    with torch.no_grad():
        ours, theirs = layer(x, state), twin(x, state)
    assert torch.backends.mkldnn.enabled
    torch.testing.assert_close(ours[0], theirs[0], rtol=0, atol=FLOAT32_ABS)
    torch.testing.assert_close(ours[1][1], theirs[1][1], rtol=0, atol=FLOAT32_ABS)
