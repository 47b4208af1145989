"""The ``native`` backend: a readable time loop over the cell math of ``lstmkit.nn.functional``.

It supports every cell kind and option, records gate traces, and is the torch-side oracle the fast
backends are tested against. Structure as in ``lstmkit.reference.sequence``: per layer and
direction, the input projection of all steps at once, then a loop over time in which
hw_t = W_hh (m * h_{t-1}), the cell's step, and held units (padding, zoneout) keep their values.
"""

from __future__ import annotations

import torch
from torch import Tensor

from lstmkit.masks import DropoutMasks
from lstmkit.nn.functional import CELLS, State, TorchCell, reverse_time
from lstmkit.specs import RecurrentConfig

Record = tuple[bool, list[list[Tensor] | Tensor]]  # (reverse, per field its T steps (a list or stacked), in
# processing order: gates, c (LSTM kinds), h)


def run_direction(
    cell: TorchCell,
    p: dict,
    x: Tensor,
    *,
    state: State,
    keep: tuple[Tensor, ...] | None,
    recurrent_mask: Tensor | None,
    record: bool,
) -> tuple[Tensor, State, list[list[Tensor]] | None]:
    """One layer, one direction, in its own time order: x (T, N, H_in) -> out (T, N, P)."""
    xw = cell.project_input(x, p)  # (T, N, G*H)
    weight_hh_t = p["weight_hh"].t()
    keep_t = None if keep is None else [k.unbind(0) for k in keep]
    outs, recorded = [], []
    for t, xw_t in enumerate(xw.unbind(0)):
        h_in = state[0] if recurrent_mask is None else state[0] * recurrent_mask
        new_state, gates = cell.step(xw_t, h_in @ weight_hh_t, state, p)
        if keep_t is not None:
            new_state = tuple(torch.where(k[t], old, new) for k, new, old in zip(keep_t, new_state, state, strict=True))
        state = new_state
        outs.append(state[0])
        if record:
            recorded.append((*gates, *state[1:], state[0]))
    fields = [list(field) for field in zip(*recorded, strict=True)] if record else None  # per field: T steps
    return torch.stack(outs), state, fields


def _keep_masks(
    config: RecurrentConfig, masks: DropoutMasks, k: int, valid: Tensor | None, x: Tensor, lengths, reverse: bool
) -> tuple[Tensor, ...] | None:
    """Per state part, (T, N, .) bool: True where the unit holds its previous value (padding or zoneout)."""
    zoneout = (masks.zoneout_h, masks.zoneout_c)[: 1 + config.spec.has_cell_state]
    if valid is None and all(z is None for z in zoneout):
        return None
    keep = []
    for z, size in zip(zoneout, (config.state_size, config.hidden_size), strict=False):
        held = torch.zeros((*x.shape[:2], size), dtype=torch.bool, device=x.device)
        if valid is not None:
            held |= ~valid
        if z is not None:
            held |= reverse_time(z[k], lengths) if reverse else z[k]
        keep.append(held)
    return tuple(keep)


def run(
    config: RecurrentConfig,
    weights: list[dict],
    x: Tensor,
    state: State,
    lengths: Tensor | None,
    masks: DropoutMasks,
    record: bool,
    per_direction=None,
) -> tuple[Tensor, State, list[Record] | None]:
    """All layers and directions: x (T, N, H_in), state parts (L*D, N, .) -> out (T, N, D*P), state.

    ``weights[layer * D + direction]`` holds that layer's parameters under base names. With
    ``record``, also returns per layer and direction the very per-step tensors of the computation
    (gates, c, h; in the direction's processing order), so callers can trace them or differentiate the
    output with respect to them. ``per_direction`` replaces the readable per-direction loop ``run_direction``
    (the ``fast`` backend passes its own); it takes and returns what ``run_direction`` does.
    """
    cell = CELLS[config.kind]
    per_direction = per_direction or run_direction
    D = config.num_directions
    valid = None if lengths is None else (torch.arange(len(x), device=x.device)[:, None] < lengths)[:, :, None]
    finals, records = [], []
    layer_input = x
    for layer in range(config.num_layers):
        if layer and masks.layer_input is not None:
            layer_input = layer_input * masks.layer_input[layer - 1]  # dropout between layers
        outs = []
        for reverse in (False, True)[:D]:
            k = layer * D + reverse
            xin = reverse_time(layer_input, lengths) if reverse else layer_input
            keep = _keep_masks(config, masks, k, valid, x, lengths, reverse)
            recurrent_mask = None if masks.recurrent is None else masks.recurrent[k]
            out, final, recorded = per_direction(
                cell,
                weights[k],
                xin,
                state=tuple(s[k] for s in state),
                keep=keep,
                recurrent_mask=recurrent_mask,
                record=record,
            )
            if valid is not None:
                out = out * valid  # padded outputs are zero
            outs.append(reverse_time(out, lengths) if reverse else out)
            finals.append(final)
            if record:
                records.append((reverse, recorded))
        layer_input = torch.cat(outs, dim=2) if D == 2 else outs[0]  # (T, N, D*P)
    final_state = tuple(torch.stack(parts) for parts in zip(*finals, strict=True))  # (L*D, N, .)
    return layer_input, final_state, (records if record else None)
