"""Measured gradient flow: dL/dh_t and dL/dc_t of every step, by real backprop through a layer.

This is the vanishing-gradient picture measured rather than drawn: run a trained layer on real data,
take a loss, and differentiate it with respect to the hidden (and cell) state of each time step.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from lstmkit.masks import DropoutMasks
from lstmkit.nn.backends import native
from lstmkit.nn.functional import reverse_time
from lstmkit.nn.layers import RecurrentLayer


def state_gradients(
    layer: RecurrentLayer, x: torch.Tensor, loss: Callable[[torch.Tensor], torch.Tensor], lengths=None
) -> dict[str, np.ndarray]:
    """{"dh": (L*D, T, N, P), "dc": (L*D, T, N, H) for LSTM kinds}: dL/dh_t and dL/dc_t.

    ``x`` is (T, N, H_in) time-first; ``loss(out)`` maps the layer's output (T, N, D*P) to a scalar. The
    layer runs its plain cell (no dropout or zoneout) from a zero state; the gradient with respect to a
    state is its total derivative, through every later use of it (dL/dc_t includes the path through
    h_t = o tanh(c_t)). Indexed by position in the sequence for both directions.
    """
    config = layer.config
    T, N = x.shape[:2]
    lengths_t = None if lengths is None else torch.as_tensor(lengths, device=x.device)
    state = tuple(torch.zeros(shape, dtype=x.dtype, device=x.device) for shape in layer.state_shapes(N))
    out, _, records = native.run(config, layer.layer_weights(), x, state, lengths_t, DropoutMasks(), record=True)
    parts = ["dh", "dc"] if config.spec.has_cell_state else ["dh"]
    fields = {"dh": -1, "dc": -2}
    tensors = [step for _, recorded in records for part in parts for step in recorded[fields[part]]]
    grads = torch.autograd.grad(loss(out), tensors, allow_unused=True)
    grads = [torch.zeros_like(t) if g is None else g for t, g in zip(tensors, grads, strict=True)]
    result = {part: [] for part in parts}
    position = 0
    for reverse, _ in records:
        for part in parts:
            stacked = torch.stack(grads[position : position + T])  # (T, N, .)
            position += T
            result[part].append(reverse_time(stacked, lengths_t) if reverse else stacked)
    return {part: torch.stack(values).detach().cpu().numpy() for part, values in result.items()}


def gradient_norms(gradients: np.ndarray) -> np.ndarray:
    """(..., T, N, H) -> (..., T): the norm over units, averaged over the batch."""
    return np.linalg.norm(gradients, axis=-1).mean(axis=-1)
