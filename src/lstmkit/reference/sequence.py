"""Unroll any cell of the family over time: layers, directions, lengths, initial state, truncation.

Shapes: x (T, N, H_in); out (T, N, D*P); states (L*D, N, P) for h and (L*D, N, H) for c, as in
``torch.nn.LSTM``. Layer k > 0 reads the concatenated outputs of both directions of layer k - 1.

Variable lengths follow torch's packed sequences: at a padded step (t >= lengths[n]) the state is
held, the output is zero and no gradient flows; the final state is each sequence's last valid state;
the reverse direction starts at each sequence's own last valid step.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from lstmkit.errors import ParameterError, ShapeError
from lstmkit.masks import DropoutMasks
from lstmkit.reference.cells import CellFunctions, get_cell
from lstmkit.reference.checks import as_float_array, check_input, check_lengths, check_state
from lstmkit.reference.masks import check_masks
from lstmkit.reference.params import Params, RecurrentConfig, infer_config, layer_params, param_name

State = tuple[np.ndarray, ...]  # (h,) or (h, c), each (N, .) inside, (L*D, N, .) at the surface


class DirectionCache(NamedTuple):
    """What one layer and direction keeps from forward for backward."""

    params: dict[str, np.ndarray]  # the layer's parameters under base names, absent biases as zeros
    input_cache: Any  # from the cell's project_input
    step_caches: list  # T step caches (NamedTuples)
    recurrent_inputs: np.ndarray  # (T, N, P): m * h_{t-1}, what W_hh multiplied, in this direction's time order
    recurrent_mask: np.ndarray | None  # (N, P)
    keep: tuple[np.ndarray, ...] | None  # per state part (T, N, .) bool: True where the state is held
    valid: np.ndarray | None  # (T, N, 1) bool, True at steps within the sequence's length


class SequenceCache(NamedTuple):
    kind: str
    config: RecurrentConfig
    lengths: np.ndarray | None
    masks: DropoutMasks
    directions: list[DirectionCache]  # index: layer * D + direction


class BackwardResult(NamedTuple):
    params: Params  # gradients, same keys and order as the parameters
    dx: np.ndarray  # (T, N, H_in)
    dstate0: Any  # gradient of the initial state, structured like the state
    dh: np.ndarray  # (L*D, T, N, P): dL/dh_t, the total gradient of each hidden state; 0 at padded steps


def reverse_time(x: np.ndarray, lengths: np.ndarray | None) -> np.ndarray:
    """Reverse each sequence within its own length: y[t, n] = x[len_n - 1 - t, n] for t < len_n.

    Padded steps stay where they are, so the map is its own inverse.  x (T, N, ...) -> (T, N, ...).
    """
    if lengths is None:
        return x[::-1]
    t = np.arange(x.shape[0])[:, None]
    index = np.where(t < lengths, lengths - 1 - t, t)  # (T, N)
    return x[index, np.arange(x.shape[1])]


def _with_zero_biases(p: dict[str, np.ndarray], config: RecurrentConfig, dtype) -> dict[str, np.ndarray]:
    """Cells always add their biases; a layer built with bias=False gets zeros (and no gradient)."""
    spec = config.spec
    sizes = {"H": config.hidden_size, "G*H": spec.num_chunks * config.hidden_size}
    biases = {"bias_ih": "G*H", "bias_hh": "G*H"} | {e.name: e.size for e in spec.extra_params if e.is_bias}
    return {name: np.zeros(sizes[size], dtype=dtype) for name, size in biases.items()} | p


def _run_direction(
    cell: CellFunctions,
    p: dict[str, np.ndarray],
    x: np.ndarray,
    state: State,
    valid: np.ndarray | None,
    keep: tuple[np.ndarray, ...] | None,
    recurrent_mask: np.ndarray | None,
) -> tuple[np.ndarray, State, DirectionCache]:
    """One layer, one direction, in its own time order: x (T, N, H_in) -> out (T, N, P).

    At each step: hw_t = W_hh (m * h_{t-1}); the cell's step; then every state unit that ``keep``
    marks (padding, zoneout) holds its previous value.
    """
    xw, input_cache = cell.project_input(x, p)  # (T, N, G*H)
    T, (N, P) = len(xw), state[0].shape
    recurrent_inputs = np.empty((T, N, P), dtype=xw.dtype)
    out = np.empty((T, N, P), dtype=xw.dtype)
    step_caches = []
    for t, xw_t in enumerate(xw):
        h_in = state[0] if recurrent_mask is None else state[0] * recurrent_mask
        recurrent_inputs[t] = h_in
        new_state, step_cache = cell.step(xw_t, h_in @ p["weight_hh"].T, state, p)
        if keep is not None:
            new_state = tuple(np.where(k[t], old, new) for k, new, old in zip(keep, new_state, state, strict=True))
        state = new_state
        out[t] = state[0]
        step_caches.append(step_cache)
    if valid is not None:
        out = np.where(valid, out, 0.0)  # padded outputs are zero
    cache = DirectionCache(p, input_cache, step_caches, recurrent_inputs, recurrent_mask, keep, valid)
    return out, state, cache


def _backprop_direction(
    cell: CellFunctions, cache: DirectionCache, dout: np.ndarray, dstate: State
) -> tuple[np.ndarray, State, dict[str, np.ndarray], np.ndarray]:
    """Backward of ``_run_direction``: dout (T, N, P), dstate at T-1 -> dx, dstate at -1, grads, dh."""
    p, input_cache, step_caches, recurrent_inputs, recurrent_mask, keep, valid = cache
    T, N, P = dout.shape
    if valid is not None:
        dout = np.where(valid, dout, 0.0)  # padded outputs are constant zeros
    dh_seq = np.empty_like(dout)  # (T, N, P)
    dxw = dhw = None
    grads: dict[str, np.ndarray] = {}
    for t in reversed(range(T)):
        dstate = (dstate[0] + dout[t], *dstate[1:])  # dL/dh_t: from the output at t and from step t+1
        dh_seq[t] = dstate[0]
        if keep is None:
            dnew, dheld = dstate, None
        else:  # a held unit passes its gradient straight to the previous state
            dnew = tuple(np.where(k[t], 0.0, d) for k, d in zip(keep, dstate, strict=True))
            dheld = tuple(np.where(k[t], d, 0.0) for k, d in zip(keep, dstate, strict=True))
        dxw_t, dhw_t, dprev, step_grads = cell.step_backward(dnew, step_caches[t], p)
        dh_in = dhw_t @ p["weight_hh"]  # (N, P): through hw_t = W_hh (m * h_{t-1})
        if recurrent_mask is not None:
            dh_in *= recurrent_mask
        dstate = (dprev[0] + dh_in, *dprev[1:])
        if dheld is not None:
            dstate = tuple(d + h for d, h in zip(dstate, dheld, strict=True))
        if dxw is None:
            dxw = np.empty((T, *dxw_t.shape), dtype=dout.dtype)  # (T, N, G*H)
            dhw = dxw if dhw_t is dxw_t else np.empty_like(dxw)  # one array where the cell adds both into a_t
        dxw[t] = dxw_t
        if dhw is not dxw:
            dhw[t] = dhw_t
        for name, value in step_grads.items():
            grads[name] = grads[name] + value if name in grads else value
    grads["weight_hh"] = dhw.reshape(T * N, -1).T @ recurrent_inputs.reshape(T * N, P)  # (G*H, P)
    dx, input_grads = cell.project_input_backward(dxw, input_cache, p)
    grads.update(input_grads)
    if valid is not None:
        dh_seq = np.where(valid, dh_seq, 0.0)
    return dx, dstate, grads, dh_seq


def _public_state(config: RecurrentConfig, state: State):
    return state if config.spec.has_cell_state else state[0]


def _keep_masks(
    config: RecurrentConfig,
    masks: DropoutMasks,
    k: int,
    valid: np.ndarray | None,
    shape: tuple[int, int],
    lengths,
    reverse: bool,
) -> tuple[np.ndarray, ...] | None:
    """Per state part, (T, N, .) bool: True where the unit holds its previous value (padding or zoneout)."""
    zoneout = (masks.zoneout_h, masks.zoneout_c)[: 1 + config.spec.has_cell_state]
    if valid is None and all(z is None for z in zoneout):
        return None
    keep = []
    for z, size in zip(zoneout, (config.state_size, config.hidden_size), strict=False):
        held = np.zeros((*shape, size), dtype=bool)
        if valid is not None:
            held |= ~valid
        if z is not None:
            held |= reverse_time(z[k], lengths) if reverse else z[k]
        keep.append(held)
    return tuple(keep)


def _forward(
    config: RecurrentConfig,
    params: Params,
    x: np.ndarray,
    state0: State,
    lengths: np.ndarray | None,
    masks: DropoutMasks,
):
    """``forward`` after validation; ``lengths`` may hold zeros here (chunks of truncated BPTT)."""
    cell = get_cell(config.kind)
    D = config.num_directions
    valid = None if lengths is None else (np.arange(len(x))[:, None] < lengths)[:, :, None]  # (T, N, 1)
    finals: list[State] = []
    caches: list[DirectionCache] = []
    layer_input = x
    for layer in range(config.num_layers):
        if layer and masks.layer_input is not None:
            layer_input = layer_input * masks.layer_input[layer - 1]  # dropout between layers
        outs = []
        for reverse in (False, True)[:D]:
            k = layer * D + reverse
            p = _with_zero_biases(layer_params(params, layer, reverse), config, x.dtype)
            xin = reverse_time(layer_input, lengths) if reverse else layer_input
            keep = _keep_masks(config, masks, k, valid, x.shape[:2], lengths, reverse)
            recurrent_mask = None if masks.recurrent is None else masks.recurrent[k]
            out, final, cache = _run_direction(cell, p, xin, tuple(s[k] for s in state0), valid, keep, recurrent_mask)
            outs.append(reverse_time(out, lengths) if reverse else out)
            finals.append(final)
            caches.append(cache)
        layer_input = np.concatenate(outs, axis=2) if D == 2 else outs[0]  # (T, N, D*P)
    state = tuple(np.stack(parts) for parts in zip(*finals, strict=True))  # (L*D, N, .)
    cache = SequenceCache(config.kind, config, lengths, masks, caches)
    return layer_input, _public_state(config, state), cache


def forward(kind: str, params: Params, x, state=None, lengths=None, masks: DropoutMasks | None = None):
    """Run a (stacked, optionally bidirectional) recurrent layer over a batch of sequences.

    Args:
        kind: "rnn", "rnn_relu", "lstm", "peephole", "coupled", "layernorm" or "gru".
        params: parameter dict in ``torch.nn``'s names and shapes (see ``init_params``).
        x: (T, N, H_in) inputs, time first.
        state: initial state, ``(h_0, c_0)`` for the LSTM kinds, ``h_0`` otherwise; shapes (L*D, N, P)
            and (L*D, N, H); zeros if None.
        lengths: (N,) valid steps of each sequence, in [1, T]; None means all T.
        masks: fixed dropout / zoneout masks (``DropoutMasks``); None for none.

    Returns:
        out (T, N, D*P), the final state (structured like ``state``), and the cache for ``backward``.
    """
    config = infer_config(kind, params)
    dtype = params["weight_ih_l0"].dtype
    x = check_input(x, config, dtype)
    T, N = x.shape[:2]
    lengths = check_lengths(lengths, T, N)
    state0 = check_state(state, config, N, dtype)
    masks = check_masks(masks, config, T, N, dtype)
    return _forward(config, params, x, state0, lengths, masks)


def backward_detailed(kind: str, params: Params, cache: SequenceCache, dout, dstate=None) -> BackwardResult:
    """``backward``, also returning dL/dh_t of every layer, direction and step (see ``BackwardResult``)."""
    config = infer_config(kind, params)
    if not isinstance(cache, SequenceCache) or cache.kind != kind or cache.config != config:
        raise ParameterError(f"cache does not come from forward({kind!r}, ...) with these parameters")
    dtype = params["weight_ih_l0"].dtype
    T, N = len(cache.directions[0].step_caches), cache.directions[0].recurrent_inputs.shape[1]
    D, P = config.num_directions, config.state_size
    if dout is None:
        dout = np.zeros((T, N, D * P), dtype=dtype)
    dout = as_float_array("dout", dout, dtype)
    if dout.shape != (T, N, D * P):
        raise ShapeError(f"expected dout of shape {(T, N, D * P)} like the output, got {dout.shape}")
    dfinal = check_state(dstate, config, N, dtype, name="dstate")
    cell, lengths, masks = get_cell(kind), cache.lengths, cache.masks
    grads: dict[str, np.ndarray] = {}
    dstate0: list[State] = [()] * (config.num_layers * D)
    dh = np.empty((config.num_layers * D, T, N, P), dtype=dtype)
    for layer in reversed(range(config.num_layers)):
        dx = 0.0
        for reverse in (False, True)[:D]:
            k = layer * D + reverse
            dout_k = dout[:, :, reverse * P : (reverse + 1) * P]
            if reverse:
                dout_k = reverse_time(dout_k, lengths)
            dx_k, dstate0[k], layer_grads, dh_k = _backprop_direction(
                cell, cache.directions[k], dout_k, tuple(s[k] for s in dfinal)
            )
            dx = dx + (reverse_time(dx_k, lengths) if reverse else dx_k)
            dh[k] = reverse_time(dh_k, lengths) if reverse else dh_k
            grads |= {param_name(name, layer, reverse): g for name, g in layer_grads.items()}
        if layer and masks.layer_input is not None:
            dx = dx * masks.layer_input[layer - 1]
        dout = dx  # the gradient of this layer's input is the upstream gradient of the layer below
    ordered = {key: grads[key] for key in params}
    state_grad = tuple(np.stack(parts) for parts in zip(*dstate0, strict=True))
    return BackwardResult(ordered, dout, _public_state(config, state_grad), dh)


def backward(kind: str, params: Params, cache: SequenceCache, dout, dstate=None):
    """Backprop through time of ``forward``.

    Args:
        cache: the third result of ``forward``.
        dout: (T, N, D*P) gradient of the loss with respect to ``out`` (None for zeros).
        dstate: gradient with respect to the final state, structured like it (None for zeros).

    Returns:
        grads (same keys as ``params``), dx (T, N, H_in), dstate0 (gradient of the initial state).
    """
    result = backward_detailed(kind, params, cache, dout, dstate)
    return result.params, result.dx, result.dstate0


def truncated_backward(kind: str, params: Params, x, chunk_size: int, loss_grad, state=None, lengths=None):
    """Truncated backprop through time: forward over x (T, N, H_in) in chunks of ``chunk_size`` steps.

    Each chunk starts from the final state of the chunk before (the state is carried across the
    boundary), and its backward stays inside the chunk: no gradient crosses a boundary, so memory
    grows with ``chunk_size``, not with T. ``loss_grad(out_chunk, start) -> (loss, dout_chunk)`` gives
    one chunk's loss and its gradient; ``out_chunk`` is (k, N, P) for the steps start .. start+k-1.

    Returns (total loss, gradients summed over chunks, final state).
    """
    config = infer_config(kind, params)
    if config.bidirectional:
        raise ParameterError("truncated backprop carries state forward in time; a bidirectional layer has none")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int | np.integer) or chunk_size < 1:
        raise ParameterError(f"expected chunk_size to be an integer >= 1, got {chunk_size!r}")
    dtype = params["weight_ih_l0"].dtype
    x = check_input(x, config, dtype)
    T, N = x.shape[:2]
    lengths = check_lengths(lengths, T, N)
    state = check_state(state, config, N, dtype)
    total_loss, grads = 0.0, {key: np.zeros_like(value) for key, value in params.items()}
    for start in range(0, T, chunk_size):
        chunk = x[start : start + chunk_size]
        chunk_lengths = None if lengths is None else np.clip(lengths - start, 0, len(chunk))
        out, final, cache = _forward(config, params, chunk, state, chunk_lengths, DropoutMasks())
        loss, dout = loss_grad(out, start)
        chunk_grads = backward_detailed(kind, params, cache, dout).params
        total_loss += loss
        for key, value in chunk_grads.items():
            grads[key] += value
        state = final if config.spec.has_cell_state else (final,)
    return total_loss, grads, _public_state(config, state)
