"""GRU (Cho et al. 2014) in PyTorch's formulation: the reset gate multiplies W_hn h + b_hn.

Gate order r, z, n. With xw_t = W_ih x_t + b_ih precomputed for all steps::

    hw_t = W_hh h_{t-1} + b_hh                        (N, 3H), chunks [r | z | n]
    r = sigma(xw_r + hw_r)
    z = sigma(xw_z + hw_z)
    n = tanh(xw_n + r * hw_n)
    h_t = (1 - z) * n + z * h_{t-1}
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lstmkit.reference.activations import dsigmoid, dtanh, sigmoid

State = tuple[np.ndarray]  # (h,): (N, H)


class GRUCache(NamedTuple):
    h_prev: np.ndarray  # (N, H)
    r: np.ndarray
    z: np.ndarray
    n: np.ndarray
    hw_n: np.ndarray  # W_hn h_{t-1} + b_hn


def gru_step(xw_t: np.ndarray, hw_t: np.ndarray, state: State, p: dict[str, np.ndarray]) -> tuple[State, GRUCache]:
    """One step: xw_t (N, 3H), hw_t = W_hh h_{t-1} (N, 3H), state (h_{t-1},) -> (h_t,), cache."""
    (h_prev,) = state
    H = h_prev.shape[1]
    hw = hw_t + p["bias_hh"]  # (N, 3H)
    r = sigmoid(xw_t[:, 0 * H : 1 * H] + hw[:, 0 * H : 1 * H])
    z = sigmoid(xw_t[:, 1 * H : 2 * H] + hw[:, 1 * H : 2 * H])
    hw_n = hw[:, 2 * H : 3 * H]
    n = np.tanh(xw_t[:, 2 * H : 3 * H] + r * hw_n)
    h_t = (1.0 - z) * n + z * h_prev
    return (h_t,), GRUCache(h_prev, r, z, n, hw_n)


def gru_step_backward(dstate: State, cache: GRUCache, p: dict[str, np.ndarray]):
    """Backward of ``gru_step``: (dh_t,) -> (dxw_t, dhw_t, (dh_{t-1} through z * h_{t-1},), grads).

    ``dxw_t`` and ``dhw_t`` differ in the n chunk: the reset gate scales only the recurrent part. The
    sequence driver adds the path through W_hh h_{t-1}, dhw_t W_hh.
    """
    (dh_t,) = dstate
    h_prev, r, z, n, hw_n = cache
    H = h_prev.shape[1]
    da_n = dh_t * (1.0 - z) * dtanh(n)
    dxw = np.empty((dh_t.shape[0], 3 * H), dtype=dh_t.dtype)  # (N, 3H)
    dxw[:, 0 * H : 1 * H] = da_n * hw_n * dsigmoid(r)
    dxw[:, 1 * H : 2 * H] = dh_t * (h_prev - n) * dsigmoid(z)
    dxw[:, 2 * H : 3 * H] = da_n
    dhw = dxw.copy()
    dhw[:, 2 * H : 3 * H] *= r
    return dxw, dhw, (dh_t * z,), {"bias_hh": dhw.sum(axis=0)}
