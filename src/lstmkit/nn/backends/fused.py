"""The ``fused`` backend: torch's own recurrent kernels (oneDNN on CPU, cuDNN on GPU).

It serves the configurations ``torch.nn.LSTM/GRU/RNN`` support: the vanilla cells, stacked and
bidirectional, with projections and dropout between layers. Variable lengths go through a
``PackedSequence``, exactly as torch.nn does.

Small calls skip oneDNN: on CPU, torch hands its recurrent kernels to oneDNN, which prepares each call at a cost of
about a millisecond. Over a training batch (T 128, N 32) oneDNN is twice as fast as torch's own kernel, but one
step of a 2 x 256 LSTM at batch 1 (sampling text, scoring a live series) took 0.5-1.8 ms through it against
0.14-0.18 ms without it, and at batch 1 it only breaks even near T = 64 (measured on this project's CPU).
Calls of ``T * N <= SMALL_CALL`` steps therefore run with oneDNN switched off for their duration (the same
numbers, to float rounding; the flag is process-wide, so a call in another thread meanwhile runs without it too).
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import _VF, Tensor
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from lstmkit.specs import RecurrentConfig

KERNELS = {"lstm": _VF.lstm, "gru": _VF.gru, "rnn": _VF.rnn_tanh, "rnn_relu": _VF.rnn_relu}
SMALL_CALL = 32  # T * N at or below which torch's own kernel beats oneDNN's (see the module docstring)


@contextmanager
def without_onednn(x: Tensor):
    """oneDNN off while a small call on ``x`` (T, N, H_in) runs on the CPU (T * N <= SMALL_CALL)."""
    small = x.device.type == "cpu" and x.shape[0] * x.shape[1] <= SMALL_CALL
    if not small or not torch.backends.mkldnn.enabled:
        yield
        return
    previous = torch.backends.mkldnn.set_flags(False)  # set_flags, unlike the property, works under frozen flags
    try:
        yield
    finally:
        torch.backends.mkldnn.set_flags(*previous)


def run(
    config: RecurrentConfig,
    flat_weights: list[Tensor],
    x: Tensor,
    state: tuple[Tensor, ...],
    lengths: Tensor | None,
    dropout: float,
    training: bool,
) -> tuple[Tensor, tuple[Tensor, ...]]:
    """x (T, N, H_in), state parts (L*D, N, .) -> out (T, N, D*P), final state; ``flat_weights`` in
    torch's order (per layer and direction: weight_ih, weight_hh, bias_ih, bias_hh, weight_hr)."""
    kernel = KERNELS[config.kind]
    hx = state if config.spec.has_cell_state else state[0]
    options = (config.bias, config.num_layers, dropout, training, config.bidirectional)
    if lengths is None:
        with without_onednn(x):
            out, *final = kernel(x, hx, flat_weights, *options, False)
        return out, tuple(final)
    packed, final = run_packed(
        config, flat_weights, pack_padded_sequence(x, lengths.cpu(), enforce_sorted=False), state, dropout, training
    )
    out, _ = pad_packed_sequence(packed, total_length=len(x))
    return out, final


def run_packed(
    config: RecurrentConfig,
    flat_weights: list[Tensor],
    packed: PackedSequence,
    state: tuple[Tensor, ...],
    dropout: float,
    training: bool,
) -> tuple[PackedSequence, tuple[Tensor, ...]]:
    """A PackedSequence straight through torch's kernel (no padding on either side), as torch.nn does;
    ``state`` and the final state are in the batch's own order."""
    kernel = KERNELS[config.kind]
    options = (config.bias, config.num_layers, dropout, training, config.bidirectional)
    order, undo = packed.sorted_indices, packed.unsorted_indices
    sorted_hx = state if order is None else tuple(h.index_select(1, order) for h in state)
    hx = sorted_hx if config.spec.has_cell_state else sorted_hx[0]
    data, *final = kernel(packed.data, packed.batch_sizes, hx, flat_weights, *options)
    final = tuple(final) if undo is None else tuple(h.index_select(1, undo) for h in final)
    return packed._replace(data=data), final
