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
from lstmkit.reference.cells import CellFunctions, get_cell
from lstmkit.reference.checks import as_float_array, check_input, check_lengths, check_state
from lstmkit.reference.params import Params, RecurrentConfig, infer_config, layer_params, param_name

State = tuple[np.ndarray, ...]  # (h,) or (h, c), each (N, .) inside, (L*D, N, .) at the surface


class DirectionCache(NamedTuple):
    """What one layer and direction keeps from forward for backward."""

    params: dict[str, np.ndarray]  # the layer's parameters under base names, absent biases as zeros
    input_cache: Any  # from the cell's project_input
    step_caches: list  # T step caches (NamedTuples)
    h_seq: np.ndarray  # (T+1, N, P): h_{-1} .. h_{T-1} after masking, in this direction's time order
    mask: np.ndarray | None  # (T, N, 1) bool, True at valid steps


class SequenceCache(NamedTuple):
    kind: str
    config: RecurrentConfig
    lengths: np.ndarray | None
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
    cell: CellFunctions, p: dict[str, np.ndarray], x: np.ndarray, state: State, mask: np.ndarray | None
) -> tuple[np.ndarray, State, DirectionCache]:
    """One layer, one direction, in its own time order: x (T, N, H_in) -> out (T, N, P)."""
    xw, input_cache = cell.project_input(x, p)  # (T, N, G*H)
    h_seq = np.empty((len(xw) + 1, *state[0].shape), dtype=xw.dtype)  # (T+1, N, P)
    h_seq[0] = state[0]
    step_caches = []
    for t, xw_t in enumerate(xw):
        new_state, step_cache = cell.step(xw_t, state, p)
        if mask is not None:  # padded steps hold the state
            new_state = tuple(np.where(mask[t], new, old) for new, old in zip(new_state, state, strict=True))
        state = new_state
        h_seq[t + 1] = state[0]
        step_caches.append(step_cache)
    out = h_seq[1:] if mask is None else np.where(mask, h_seq[1:], 0.0)
    return out, state, DirectionCache(p, input_cache, step_caches, h_seq, mask)


def _backprop_direction(
    cell: CellFunctions, cache: DirectionCache, dout: np.ndarray, dstate: State
) -> tuple[np.ndarray, State, dict[str, np.ndarray], np.ndarray]:
    """Backward of ``_run_direction``: dout (T, N, P), dstate at T-1 -> dx, dstate at -1, grads, dh."""
    p, input_cache, step_caches, h_seq, mask = cache
    T, N, P = dout.shape
    if mask is not None:
        dout = np.where(mask, dout, 0.0)  # padded outputs are constant zeros
    dh_seq = np.empty_like(dout)  # (T, N, P)
    dxw = dhw = None
    grads: dict[str, np.ndarray] = {}
    for t in reversed(range(T)):
        dstate = (dstate[0] + dout[t], *dstate[1:])  # dL/dh_t: from the output at t and from step t+1
        dh_seq[t] = dstate[0]
        if mask is None:
            dxw_t, dhw_t, dstate, step_grads = cell.step_backward(dstate, step_caches[t], p)
        else:
            m = mask[t]
            valid = tuple(np.where(m, d, 0.0) for d in dstate)
            dxw_t, dhw_t, dprev, step_grads = cell.step_backward(valid, step_caches[t], p)
            dstate = tuple(dp + np.where(m, 0.0, d) for dp, d in zip(dprev, dstate, strict=True))
        if dxw is None:
            dxw = np.empty((T, *dxw_t.shape), dtype=dout.dtype)  # (T, N, G*H)
            dhw = dxw if dhw_t is dxw_t else np.empty_like(dxw)  # one array where the cell adds both into a_t
        dxw[t] = dxw_t
        if dhw is not dxw:
            dhw[t] = dhw_t
        for name, value in step_grads.items():
            grads[name] = grads[name] + value if name in grads else value
    grads["weight_hh"] = dhw.reshape(T * N, -1).T @ h_seq[:-1].reshape(T * N, P)  # (G*H, P)
    dx, input_grads = cell.project_input_backward(dxw, input_cache, p)
    grads.update(input_grads)
    if mask is not None:
        dh_seq = np.where(mask, dh_seq, 0.0)
    return dx, dstate, grads, dh_seq


def _public_state(config: RecurrentConfig, state: State):
    return state if config.spec.has_cell_state else state[0]


def _forward(config: RecurrentConfig, params: Params, x: np.ndarray, state0: State, lengths: np.ndarray | None):
    """``forward`` after validation; ``lengths`` may hold zeros here (chunks of truncated BPTT)."""
    cell = get_cell(config.kind)
    D = config.num_directions
    mask = None if lengths is None else (np.arange(len(x))[:, None] < lengths)[:, :, None]  # (T, N, 1)
    finals: list[State] = []
    caches: list[DirectionCache] = []
    layer_input = x
    for layer in range(config.num_layers):
        outs = []
        for reverse in (False, True)[:D]:
            k = layer * D + reverse
            p = _with_zero_biases(layer_params(params, layer, reverse), config, x.dtype)
            xin = reverse_time(layer_input, lengths) if reverse else layer_input
            out, final, cache = _run_direction(cell, p, xin, tuple(s[k] for s in state0), mask)
            outs.append(reverse_time(out, lengths) if reverse else out)
            finals.append(final)
            caches.append(cache)
        layer_input = np.concatenate(outs, axis=2) if D == 2 else outs[0]  # (T, N, D*P)
    state = tuple(np.stack(parts) for parts in zip(*finals, strict=True))  # (L*D, N, .)
    return layer_input, _public_state(config, state), SequenceCache(config.kind, config, lengths, caches)


def forward(kind: str, params: Params, x, state=None, lengths=None):
    """Run a (stacked, optionally bidirectional) recurrent layer over a batch of sequences.

    Args:
        kind: "rnn", "rnn_relu", "lstm", "peephole", "coupled", "layernorm" or "gru".
        params: parameter dict in ``torch.nn``'s names and shapes (see ``init_params``).
        x: (T, N, H_in) inputs, time first.
        state: initial state, ``(h_0, c_0)`` for the LSTM kinds, ``h_0`` otherwise; shapes (L*D, N, P)
            and (L*D, N, H); zeros if None.
        lengths: (N,) valid steps of each sequence, in [1, T]; None means all T.

    Returns:
        out (T, N, D*P), the final state (structured like ``state``), and the cache for ``backward``.
    """
    config = infer_config(kind, params)
    dtype = params["weight_ih_l0"].dtype
    x = check_input(x, config, dtype)
    lengths = check_lengths(lengths, x.shape[0], x.shape[1])
    state0 = check_state(state, config, x.shape[1], dtype)
    return _forward(config, params, x, state0, lengths)


def backward_detailed(kind: str, params: Params, cache: SequenceCache, dout, dstate=None) -> BackwardResult:
    """``backward``, also returning dL/dh_t of every layer, direction and step (see ``BackwardResult``)."""
    config = infer_config(kind, params)
    if not isinstance(cache, SequenceCache) or cache.kind != kind or cache.config != config:
        raise ParameterError(f"cache does not come from forward({kind!r}, ...) with these parameters")
    dtype = params["weight_ih_l0"].dtype
    T, N = len(cache.directions[0].step_caches), cache.directions[0].h_seq.shape[1]
    D, P = config.num_directions, config.state_size
    if dout is None:
        dout = np.zeros((T, N, D * P), dtype=dtype)
    dout = as_float_array("dout", dout, dtype)
    if dout.shape != (T, N, D * P):
        raise ShapeError(f"expected dout of shape {(T, N, D * P)} like the output, got {dout.shape}")
    dfinal = check_state(dstate, config, N, dtype, name="dstate")
    cell, lengths = get_cell(kind), cache.lengths
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
        out, final, cache = _forward(config, params, chunk, state, chunk_lengths)
        loss, dout = loss_grad(out, start)
        chunk_grads = backward_detailed(kind, params, cache, dout).params
        total_loss += loss
        for key, value in chunk_grads.items():
            grads[key] += value
        state = final if config.spec.has_cell_state else (final,)
    return total_loss, grads, _public_state(config, state)
