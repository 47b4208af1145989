"""LSTM with forget gate (Hochreiter & Schmidhuber 1997; Gers, Schmidhuber & Cummins 2000).

PyTorch's formulation and gate order i, f, g, o. With xw_t = W_ih x_t + b_ih precomputed for all
steps (``linear.project_input``)::

    a_t = xw_t + W_hh h_{t-1} + b_hh                  (N, 4H), chunks [i | f | g | o]
    i = sigma(a_i)   f = sigma(a_f)   g = tanh(a_g)   o = sigma(a_o)
    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)                               (then h_t = W_hr h_t if proj_size > 0)

The step's backward sits right under it and mirrors it line by line, bottom to top.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lstmkit.reference.activations import dsigmoid, dtanh, sigmoid
from lstmkit.reference.linear import project_hidden, project_hidden_backward

State = tuple[np.ndarray, np.ndarray]  # (h, c): (N, P), (N, H)


class LSTMCache(NamedTuple):
    c_prev: np.ndarray  # (N, H)
    i: np.ndarray
    f: np.ndarray
    g: np.ndarray
    o: np.ndarray
    tanh_c: np.ndarray
    r: np.ndarray  # o * tanh(c_t), h_t before the projection


def lstm_step(xw_t: np.ndarray, hw_t: np.ndarray, state: State, p: dict[str, np.ndarray]) -> tuple[State, LSTMCache]:
    """One step: xw_t (N, 4H), hw_t = W_hh h_{t-1} (N, 4H), state (h_{t-1}, c_{t-1}) -> (h_t, c_t), cache."""
    _, c_prev = state
    H = c_prev.shape[1]
    a = xw_t + hw_t + p["bias_hh"]  # (N, 4H)
    i = sigmoid(a[:, 0 * H : 1 * H])
    f = sigmoid(a[:, 1 * H : 2 * H])
    g = np.tanh(a[:, 2 * H : 3 * H])
    o = sigmoid(a[:, 3 * H : 4 * H])
    c_t = f * c_prev + i * g
    tanh_c = np.tanh(c_t)
    r = o * tanh_c
    h_t = project_hidden(r, p)
    return (h_t, c_t), LSTMCache(c_prev, i, f, g, o, tanh_c, r)


def lstm_step_backward(dstate: State, cache: LSTMCache, p: dict[str, np.ndarray]):
    """Backward of ``lstm_step``: (dh_t, dc_t) -> (dxw_t, dhw_t, (0, dc_{t-1}), grads).

    ``dxw_t`` is the gradient of the input pre-activation, ``dhw_t`` that of W_hh h_{t-1} (here the
    same array: both are added into a_t); h_{t-1} reaches the step only through W_hh h_{t-1}, so its
    direct gradient is 0 (the sequence driver adds dhw_t W_hh). ``grads``: this step's share of the
    small parameters.
    """
    dh_t, dc_t = dstate
    c_prev, i, f, g, o, tanh_c, r = cache
    H = c_prev.shape[1]
    grads: dict[str, np.ndarray] = {}
    dr = project_hidden_backward(dh_t, r, p, grads)
    do = dr * tanh_c
    dc = dc_t + dr * o * dtanh(tanh_c)
    da = np.empty((dc.shape[0], 4 * H), dtype=dc.dtype)  # (N, 4H)
    da[:, 0 * H : 1 * H] = dc * g * dsigmoid(i)
    da[:, 1 * H : 2 * H] = dc * c_prev * dsigmoid(f)
    da[:, 2 * H : 3 * H] = dc * i * dtanh(g)
    da[:, 3 * H : 4 * H] = do * dsigmoid(o)
    dc_prev = dc * f
    grads["bias_hh"] = da.sum(axis=0)
    return da, da, (0.0, dc_prev), grads
