"""The ``fused`` backend: torch's own recurrent kernels (oneDNN on CPU, cuDNN on GPU).

It serves the configurations ``torch.nn.LSTM/GRU/RNN`` support: the vanilla cells, stacked and
bidirectional, with projections and dropout between layers. Variable lengths go through a
``PackedSequence``, exactly as torch.nn does.
"""

from __future__ import annotations

from torch import _VF, Tensor
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from lstmkit.specs import RecurrentConfig

KERNELS = {"lstm": _VF.lstm, "gru": _VF.gru, "rnn": _VF.rnn_tanh, "rnn_relu": _VF.rnn_relu}


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
