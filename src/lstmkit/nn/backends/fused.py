"""The ``fused`` backend: torch's own recurrent kernels (oneDNN on CPU, cuDNN on GPU).

It serves the configurations ``torch.nn.LSTM/GRU/RNN`` support: the vanilla cells, stacked and
bidirectional, with projections and dropout between layers. Variable lengths go through a
``PackedSequence``, exactly as torch.nn does.
"""

from __future__ import annotations

from torch import _VF, Tensor
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

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
    packed = pack_padded_sequence(x, lengths.cpu(), enforce_sorted=False)
    sorted_hx = tuple(h.index_select(1, packed.sorted_indices) for h in state)
    hx = sorted_hx if config.spec.has_cell_state else sorted_hx[0]
    data, *final = kernel(packed.data, packed.batch_sizes, hx, flat_weights, *options)
    out, _ = pad_packed_sequence(packed._replace(data=data), total_length=len(x))
    return out, tuple(h.index_select(1, packed.unsorted_indices) for h in final)
