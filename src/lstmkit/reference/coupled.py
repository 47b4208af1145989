"""Coupled input-forget gate LSTM, "CIFG" (Greff et al. 2017): one gate decides both what to write
and what to forget, f = 1 - i, so there are three gate chunks, in the order i, g, o::

    a_t = xw_t + W_hh h_{t-1} + b_hh                  (N, 3H), chunks [i | g | o]
    i = sigma(a_i)   g = tanh(a_g)   o = sigma(a_o)
    c_t = (1 - i) * c_{t-1} + i * g
    h_t = o * tanh(c_t)                               (then h_t = W_hr h_t if proj_size > 0)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lstmkit.reference.activations import dsigmoid, dtanh, sigmoid
from lstmkit.reference.linear import project_hidden, project_hidden_backward

State = tuple[np.ndarray, np.ndarray]


class CoupledCache(NamedTuple):
    c_prev: np.ndarray  # (N, H)
    i: np.ndarray
    g: np.ndarray
    o: np.ndarray
    tanh_c: np.ndarray
    r: np.ndarray


def coupled_step(
    xw_t: np.ndarray, hw_t: np.ndarray, state: State, p: dict[str, np.ndarray]
) -> tuple[State, CoupledCache]:
    """One step: xw_t (N, 3H), hw_t = W_hh h_{t-1} (N, 3H), state (h_{t-1}, c_{t-1}) -> (h_t, c_t), cache."""
    _, c_prev = state
    H = c_prev.shape[1]
    a = xw_t + hw_t + p["bias_hh"]  # (N, 3H)
    i = sigmoid(a[:, 0 * H : 1 * H])
    g = np.tanh(a[:, 1 * H : 2 * H])
    o = sigmoid(a[:, 2 * H : 3 * H])
    c_t = (1.0 - i) * c_prev + i * g
    tanh_c = np.tanh(c_t)
    r = o * tanh_c
    h_t = project_hidden(r, p)
    return (h_t, c_t), CoupledCache(c_prev, i, g, o, tanh_c, r)


def coupled_step_backward(dstate: State, cache: CoupledCache, p: dict[str, np.ndarray]):
    """Backward of ``coupled_step``: (dh_t, dc_t) -> (dxw_t, dhw_t, (0, dc_{t-1}), grads)."""
    dh_t, dc_t = dstate
    c_prev, i, g, o, tanh_c, r = cache
    H = c_prev.shape[1]
    grads: dict[str, np.ndarray] = {}
    dr = project_hidden_backward(dh_t, r, p, grads)
    do = dr * tanh_c
    dc = dc_t + dr * o * dtanh(tanh_c)
    da = np.empty((dc.shape[0], 3 * H), dtype=dc.dtype)  # (N, 3H)
    da[:, 0 * H : 1 * H] = dc * (g - c_prev) * dsigmoid(i)
    da[:, 1 * H : 2 * H] = dc * i * dtanh(g)
    da[:, 2 * H : 3 * H] = do * dsigmoid(o)
    dc_prev = dc * (1.0 - i)
    grads["bias_hh"] = da.sum(axis=0)
    return da, da, (0.0, dc_prev), grads
