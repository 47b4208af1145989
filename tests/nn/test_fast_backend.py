"""The fast backend in each of its modes against the native backend, float32 and float64.

Sizes are chosen so that the compiled loops run both their vector bodies and their remainders (H = 37),
every variant and option at once (two bidirectional layers, lengths, recurrent dropout and zoneout
masks), and once more with saturated gates (inputs x 40), where exp() meets its clamps.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from lstmkit import nn as lnn
from lstmkit.errors import ShapeError
from lstmkit.nn.backends import _kernels, kernels
from tests.nn.helpers import FAST_MODES, backend_under_test, make_layer, reference_params, torch_masks
from tests.reference.helpers import random_masks
from tests.tolerances import FLOAT32_ABS, NN_VS_REFERENCE_FLOAT64_ABS

T, N, H_IN, H = 7, 5, 19, 37
LENGTHS = [7, 3, 6, 1, 7]
KINDS = ("lstm", "peephole", "coupled", "layernorm")
CASES = list(itertools.product(FAST_MODES, KINDS, (torch.float32, torch.float64), ("plain", "masks", "saturated")))


def run(layer, x, hx, lengths, masks, weights):
    """Output, final state, trace, and the gradients of sum(out * weights) w.r.t. every input."""
    x = x.clone().requires_grad_(True)
    hx = tuple(h.clone().requires_grad_(True) for h in hx)
    out, final, trace = layer(x, hx, lengths=lengths, masks=masks, return_gates=True)
    layer.zero_grad()
    (out * weights).sum().add(final[0].sum() * 0.5 + final[1].sum() * 0.25).backward()
    grads = {name: p.grad.clone() for name, p in layer.named_parameters()}
    return out.detach(), [f.detach() for f in final], trace, grads, x.grad, [h.grad for h in hx]


@pytest.mark.parametrize(("mode", "kind", "dtype", "case"), CASES, ids=["-".join(map(str, c)) for c in CASES])
def test_fast_modes_match_the_native_backend(mode, kind, dtype, case, monkeypatch):
    torch.manual_seed(0)
    native = make_layer(kind, H_IN, H, num_layers=2, bidirectional=True, backend="native", dtype=dtype)
    fast = make_layer(kind, H_IN, H, num_layers=2, bidirectional=True, backend="fast", dtype=dtype)
    with torch.no_grad():
        for p in native.parameters():
            p.normal_(0.0, 0.4)
    fast.load_state_dict(native.state_dict())
    x = torch.randn(T, N, H_IN, dtype=dtype) * (40.0 if case == "saturated" else 1.0)
    hx = (torch.randn(4, N, H, dtype=dtype), torch.randn(4, N, H, dtype=dtype))
    masks = None
    if case == "masks":
        rng = np.random.default_rng(1)
        masks = torch_masks(random_masks(kind, reference_params(native), T, N, rng))  # float64: cast inside
        native.train(), fast.train()
    weights = torch.randn(T, N, 2 * H, dtype=dtype)
    theirs = run(native, x, hx, LENGTHS, masks, weights)
    backend_under_test(mode, monkeypatch)
    ours = run(fast, x, hx, LENGTHS, masks, weights)
    tol = FLOAT32_ABS if dtype == torch.float32 else NN_VS_REFERENCE_FLOAT64_ABS

    def close(a, b, what, scale=1, rtol=0.0):
        torch.testing.assert_close(a, b, rtol=rtol, atol=tol * scale, msg=what)

    close(ours[0], theirs[0], "output")
    for a, b in zip(ours[1], theirs[1], strict=True):
        close(a, b, "final state")
    for ours_part, theirs_part in zip(ours[2].values, theirs[2].values, strict=True):
        assert list(ours_part) == list(theirs_part)
        for name in theirs_part:
            close(torch.from_numpy(ours_part[name]), torch.from_numpy(theirs_part[name]), f"trace {name}")
    for name in theirs[3]:
        close(ours[3][name], theirs[3][name], name, scale=10, rtol=tol)  # sums over T*N rows, of x up to 40
    close(ours[4], theirs[4], "dx")
    for a, b in zip(ours[5], theirs[5], strict=True):
        close(a, b, "d initial state")


def test_the_compiled_kernels_were_built():
    """CI builds the extension, with OpenMP; a silent fallback to the torch loop (or to one thread) would hide
    a broken build."""
    assert kernels.ENABLED, "lstmkit.nn.backends._kernels did not build (or LSTMKIT_KERNELS=0 is set)"
    assert kernels.THREADED, "lstmkit.nn.backends._kernels was built without OpenMP"


@pytest.mark.parametrize(("kind", "dtype"), list(itertools.product(KINDS, (torch.float32, torch.float64))))
def test_threads_split_the_batch_and_agree_with_one_thread(kind, dtype, monkeypatch):
    """Forward rows are independent: the same numbers on any thread count. The backward's parameter
    gradients are sums over rows, each thread's added after: equal up to reassociation (float32: ~1e-6 of
    the sums' size)."""
    monkeypatch.setattr(kernels, "products_in_c", lambda *shape, backward: True)
    torch.manual_seed(0)
    layer = make_layer(kind, H_IN, H, num_layers=2, bidirectional=True, backend="fast", dtype=dtype)
    x = torch.randn(T, 13, H_IN, dtype=dtype)  # 13 rows: shares of 7 + 6 and 5 + 4 + 4
    weights = torch.randn(T, 13, 2 * H, dtype=dtype)
    threads = torch.get_num_threads()
    results = []
    try:
        for count in (1, 2, 3):
            torch.set_num_threads(count)
            assert kernels.threads() == count
            x_grad = x.clone().requires_grad_(True)
            out, _ = layer(x_grad)
            layer.zero_grad()
            (out * weights).sum().backward()
            results.append((out.detach(), x_grad.grad, {n: p.grad.clone() for n, p in layer.named_parameters()}))
    finally:
        torch.set_num_threads(threads)
    rtol = 1e-5 if dtype == torch.float32 else 1e-12
    for out, dx, grads in results[1:]:
        assert torch.equal(out, results[0][0])
        torch.testing.assert_close(dx, results[0][1], rtol=rtol, atol=rtol)
        for name, grad in grads.items():
            scale = results[0][2][name].abs().max().item()
            torch.testing.assert_close(grad, results[0][2][name], rtol=0, atol=rtol * scale, msg=name)


def test_compiled_loop_refuses_bad_plans_and_steps():
    with pytest.raises(ValueError, match="kind, dtype or sizes out of range"):
        _kernels.plan(7, 0, 3, 2, 4, 4, 3, 0, 1e-5, False, False, {})
    with pytest.raises(ValueError, match="kind, dtype or sizes out of range"):  # proj_size must be below H
        _kernels.plan(0, 0, 3, 2, 4, 4, 3, 4, 1e-5, False, False, {})
    plan = _kernels.plan(0, 0, 3, 2, 4, 4, 3, 0, 1e-5, False, False, {})
    with pytest.raises(ValueError, match="steps out of range"):
        _kernels.forward(plan, 0, 4, None)
    with pytest.raises(ValueError, match="a product both given and made here, or neither"):
        _kernels.forward(plan, 0, 1, None)
    with pytest.raises(ValueError, match="products asked of a plan without the tensors they need"):
        _kernels.backward(_kernels.plan(0, 0, 3, 2, 4, 4, 3, 0, 1e-5, True, False, {}), 0, 3, None)
    with pytest.raises(ValueError, match="keep_h and keep_c come together"):
        _kernels.plan(0, 0, 3, 2, 4, 4, 3, 0, 1e-5, False, False, {"keep_h": 1})
    with pytest.raises(ValueError, match="a GRU or RNN plan is for a stream"):
        _kernels.forward(_kernels.plan(4, 0, 3, 2, 4, 3, 3, 0, 1e-5, False, False, {}), 0, 1, 1)
    with pytest.raises(ValueError, match="one plan per layer"):
        _kernels.stream([])
    with pytest.raises(ValueError, match="plans of one step"):  # T = 3, and no tensors
        _kernels.stream([plan])


def test_given_masks_are_cast_to_the_layer_and_checked():
    torch.manual_seed(0)
    native = lnn.LSTM(3, 16, cell="peephole", num_layers=2, backend="native")
    fast = lnn.LSTM(3, 16, cell="peephole", num_layers=2, backend="fast")
    fast.load_state_dict(native.state_dict())
    x = torch.randn(4, 2, 3)
    masks = lnn.DropoutMasks(
        layer_input=[np.full((4, 2, 16), 2.0)],  # float64 NumPy for a float32 layer
        recurrent=torch.full((2, 2, 16), 2.0, dtype=torch.float64),
        zoneout_h=torch.rand(2, 4, 2, 16) < 0.3,
        zoneout_c=(torch.rand(2, 4, 2, 16) < 0.3).float(),  # 0/1 values: held where 1
    )
    torch.testing.assert_close(fast(x, masks=masks)[0], native(x, masks=masks)[0], rtol=0, atol=FLOAT32_ABS)
    with pytest.raises(ShapeError, match=r"expected masks.recurrent of shape \(2, 2, 16\), got \(1, 2, 15\)"):
        fast(x, masks=lnn.DropoutMasks(recurrent=torch.ones(1, 2, 15)))
    with pytest.raises(ShapeError, match="expected masks.layer_input as 1 masks, got 0"):
        fast(x, masks=lnn.DropoutMasks(layer_input=[]))


@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.97, 1.0])
def test_compiled_bernoulli_has_the_asked_frequency_and_no_correlation(p):
    torch.manual_seed(0)
    draws = kernels.bernoulli((1000, 1000), p, torch.device("cpu"))
    assert draws.dtype == torch.bool and draws.shape == (1000, 1000)
    values = draws.double().flatten()
    sigma = (p * (1 - p) / values.numel()) ** 0.5
    assert abs(values.mean().item() - p) <= 5 * sigma
    if 0 < p < 1:  # neighbours (in memory, and one row apart) are uncorrelated
        for lag in (1, 1000):
            corr = torch.corrcoef(torch.stack([values[:-lag], values[lag:]]))[0, 1].item()
            assert abs(corr) < 5 / values.numel() ** 0.5


def test_compiled_bernoulli_follows_torch_manual_seed():
    shape, cpu = (4, 50, 32), torch.device("cpu")
    torch.manual_seed(3)
    first = kernels.bernoulli(shape, 0.3, cpu)
    torch.manual_seed(3)
    assert torch.equal(kernels.bernoulli(shape, 0.3, cpu), first)
    assert not torch.equal(kernels.bernoulli(shape, 0.3, cpu), first)
    with pytest.raises(ValueError, match="p in \\[0, 1\\]"):
        _kernels.bernoulli(first.data_ptr(), first.numel(), 1.5, 0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("kind", ["peephole", "coupled", "layernorm"])
@pytest.mark.parametrize("bias", [True, False])
def test_cells_without_grad_take_the_compiled_step_and_match_the_torch_step(kind, dtype, bias, monkeypatch):
    torch.manual_seed(0)
    cell = lnn.LSTMCell(5, 37, bias=bias, cell=kind, dtype=dtype)
    with torch.no_grad():
        for p in cell.parameters():
            p.normal_(0.0, 0.5)
    x, h, c = torch.randn(3, 5, dtype=dtype), torch.randn(3, 37, dtype=dtype), torch.randn(3, 37, dtype=dtype)
    calls = []
    monkeypatch.setattr(kernels, "step", lambda *args, step=kernels.step: calls.append(1) or step(*args))
    with torch.no_grad():
        ours = cell(x, (h, c))
        ours_unbatched = cell(x[0], (h[0], c[0]))
        empty = cell(x[:0], (h[:0], c[:0]))  # an empty batch: the torch step, as with grad
    assert len(calls) == 2 and [tuple(e.shape) for e in empty] == [(0, 37), (0, 37)]
    theirs = cell(x, (h, c))  # grad enabled: the torch step, differentiable
    assert len(calls) == 2 and theirs[0].requires_grad
    tol = FLOAT32_ABS if dtype == torch.float32 else NN_VS_REFERENCE_FLOAT64_ABS
    for a, b, b0 in zip(ours, theirs, ours_unbatched, strict=True):
        torch.testing.assert_close(a, b.detach(), rtol=0, atol=tol)
        torch.testing.assert_close(b0, a[0], rtol=0, atol=tol)


def test_environment_switch_turns_the_compiled_loop_off():
    code = (
        "import torch; from lstmkit import nn; from lstmkit.nn.backends import kernels; "
        "print(kernels.ENABLED, kernels.WIDE_VECTORS, kernels.THREADED, nn.LSTM(3, 4).stream().compiled)"
    )
    env = {**os.environ, "LSTMKIT_KERNELS": "0"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False", "False", "False"]
