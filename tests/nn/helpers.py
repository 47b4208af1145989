"""Running an lstmkit.nn layer forward and backward with given upstream gradients."""

from __future__ import annotations

import numpy as np
import torch

from lstmkit import nn as lnn
from lstmkit.nn import convert
from lstmkit.nn.backends import kernels

# The fast backend's ways to run its time loop, as backend names the sweeps take:
# compiled steps and products (all T steps per call); the same with 256-bit vectors for the products;
# compiled steps with each step's product made by torch; no extension (the loop in torch).
FAST_MODES = {
    "fast": {"products_in_c": lambda *shape, backward: True},
    "fast:narrow-vectors": {"products_in_c": lambda *shape, backward: True, "WIDE_VECTORS": False},
    "fast:products-from-torch": {"products_in_c": lambda *shape, backward: False},
    "fast:torch-loop": {"ENABLED": False},
}


def backend_under_test(name: str, monkeypatch) -> str:
    """The layer's backend for a sweep's backend ``name``, with the fast mode it names switched on."""
    for attribute, value in FAST_MODES.get(name, {}).items():
        monkeypatch.setattr(kernels, attribute, value)
    return name.split(":")[0]


def make_layer(kind: str, input_size: int, hidden_size: int, **options):
    """An lstmkit.nn layer of cell ``kind`` (reference names), float64."""
    options = {"dtype": torch.float64, **options}
    if kind == "gru":
        return lnn.GRU(input_size, hidden_size, **options)
    if kind in ("rnn", "rnn_relu"):
        return lnn.RNN(input_size, hidden_size, nonlinearity="relu" if kind == "rnn_relu" else "tanh", **options)
    return lnn.LSTM(input_size, hidden_size, cell=kind, **options)


def parts(state) -> tuple:
    return tuple(state) if isinstance(state, tuple | list) else (state,)


def run_layer(layer, x: np.ndarray, state0, lengths, dout: np.ndarray, dfinal, masks=None, return_gates=False):
    """Forward with ``x`` time-first (transposed for batch_first layers), then backward of
    L = sum(out * dout) + sum(final * dfinal). Returns out (time-first), final parts, grads by name,
    dx (time-first), d(initial state) parts, and the trace if asked."""
    x_t = torch.tensor(x.swapaxes(0, 1) if layer.batch_first else x, requires_grad=True)
    state_t = tuple(torch.tensor(s, requires_grad=True) for s in parts(state0))
    hx = None if state0 is None else (state_t if len(state_t) == 2 else state_t[0])
    result = layer(x_t, hx, lengths=lengths, masks=masks, return_gates=return_gates)
    out, final = result[0], parts(result[1])
    loss = (out * torch.from_numpy(dout.swapaxes(0, 1) if layer.batch_first else dout)).sum()
    loss = loss + sum((f * torch.from_numpy(d)).sum() for f, d in zip(final, parts(dfinal), strict=True))
    layer.zero_grad()
    loss.backward()
    out = out.detach().numpy()
    dx = x_t.grad.numpy()
    if layer.batch_first:
        out, dx = out.swapaxes(0, 1), dx.swapaxes(0, 1)
    grads = {name: p.grad.numpy() for name, p in layer.named_parameters()}
    dstate0 = tuple(s.grad.numpy() for s in state_t) if state0 is not None else ()
    trace = result[2] if return_gates else None
    return out, [f.detach().numpy() for f in final], grads, dx, dstate0, trace


def reference_params(layer) -> dict[str, np.ndarray]:
    return convert.to_reference(layer)


def torch_masks(masks):
    """Reference DropoutMasks (NumPy) as tensors for lstmkit.nn."""
    as_tensor = lambda a: None if a is None else torch.from_numpy(np.asarray(a))  # noqa: E731
    return lnn.DropoutMasks(
        layer_input=None if masks.layer_input is None else [as_tensor(m) for m in masks.layer_input],
        recurrent=as_tensor(masks.recurrent),
        zoneout_h=as_tensor(masks.zoneout_h),
        zoneout_c=as_tensor(masks.zoneout_c),
    )
