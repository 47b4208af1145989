"""Peephole LSTM (Gers & Schmidhuber 2000): the gates also look at the cell state.

Diagonal peepholes from c_{t-1} into i and f, and from c_t into o. With xw_t = W_ih x_t + b_ih::

    a_t = xw_t + W_hh h_{t-1} + b_hh                  (N, 4H), chunks [i | f | g | o]
    i = sigma(a_i + w_ci * c_{t-1})
    f = sigma(a_f + w_cf * c_{t-1})
    g = tanh(a_g)
    c_t = f * c_{t-1} + i * g
    o = sigma(a_o + w_co * c_t)
    h_t = o * tanh(c_t)                               (then h_t = W_hr h_t if proj_size > 0)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lstmkit.reference.activations import dsigmoid, dtanh, sigmoid
from lstmkit.reference.linear import project_hidden, project_hidden_backward

State = tuple[np.ndarray, np.ndarray]


class PeepholeCache(NamedTuple):
    c_prev: np.ndarray  # (N, H)
    i: np.ndarray
    f: np.ndarray
    g: np.ndarray
    c_t: np.ndarray
    o: np.ndarray
    tanh_c: np.ndarray
    r: np.ndarray


def peephole_step(
    xw_t: np.ndarray, hw_t: np.ndarray, state: State, p: dict[str, np.ndarray]
) -> tuple[State, PeepholeCache]:
    """One step: xw_t (N, 4H), hw_t = W_hh h_{t-1} (N, 4H), state (h_{t-1}, c_{t-1}) -> (h_t, c_t), cache."""
    _, c_prev = state
    H = c_prev.shape[1]
    a = xw_t + hw_t + p["bias_hh"]  # (N, 4H)
    i = sigmoid(a[:, 0 * H : 1 * H] + p["weight_ci"] * c_prev)
    f = sigmoid(a[:, 1 * H : 2 * H] + p["weight_cf"] * c_prev)
    g = np.tanh(a[:, 2 * H : 3 * H])
    c_t = f * c_prev + i * g
    o = sigmoid(a[:, 3 * H : 4 * H] + p["weight_co"] * c_t)
    tanh_c = np.tanh(c_t)
    r = o * tanh_c
    h_t = project_hidden(r, p)
    return (h_t, c_t), PeepholeCache(c_prev, i, f, g, c_t, o, tanh_c, r)


def peephole_step_backward(dstate: State, cache: PeepholeCache, p: dict[str, np.ndarray]):
    """Backward of ``peephole_step``: (dh_t, dc_t) -> (dxw_t, dhw_t, (0, dc_{t-1}), grads)."""
    dh_t, dc_t = dstate
    c_prev, i, f, g, c_t, o, tanh_c, r = cache
    H = c_prev.shape[1]
    grads: dict[str, np.ndarray] = {}
    dr = project_hidden_backward(dh_t, r, p, grads)
    da = np.empty((dh_t.shape[0], 4 * H), dtype=dh_t.dtype)  # (N, 4H)
    da_o = da[:, 3 * H : 4 * H]
    da_o[:] = dr * tanh_c * dsigmoid(o)
    dc = dc_t + dr * o * dtanh(tanh_c) + da_o * p["weight_co"]
    da_i = da[:, 0 * H : 1 * H]
    da_f = da[:, 1 * H : 2 * H]
    da_i[:] = dc * g * dsigmoid(i)
    da_f[:] = dc * c_prev * dsigmoid(f)
    da[:, 2 * H : 3 * H] = dc * i * dtanh(g)
    dc_prev = dc * f + da_i * p["weight_ci"] + da_f * p["weight_cf"]
    grads["weight_ci"] = (da_i * c_prev).sum(axis=0)
    grads["weight_cf"] = (da_f * c_prev).sum(axis=0)
    grads["weight_co"] = (da_o * c_t).sum(axis=0)
    grads["bias_hh"] = da.sum(axis=0)
    return da, da, (0.0, dc_prev), grads
