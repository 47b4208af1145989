"""Vanilla (Elman) RNN, as ``torch.nn.RNN``: with xw_t = W_ih x_t + b_ih precomputed for all steps::

h_t = tanh(xw_t + W_hh h_{t-1} + b_hh)            (or relu for nonlinearity="relu")
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lstmkit.reference.activations import dtanh

State = tuple[np.ndarray]  # (h,): (N, H)


class RNNCache(NamedTuple):
    h_t: np.ndarray  # (N, H); the derivative of either nonlinearity is a function of its output
    nonlinearity: str


def rnn_step(
    xw_t: np.ndarray, hw_t: np.ndarray, state: State, p: dict[str, np.ndarray], nonlinearity: str = "tanh"
) -> tuple[State, RNNCache]:
    """One step: xw_t (N, H), hw_t = W_hh h_{t-1} (N, H), state (h_{t-1},) -> (h_t,), cache."""
    a = xw_t + hw_t + p["bias_hh"]  # (N, H)
    h_t = np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0.0)
    return (h_t,), RNNCache(h_t, nonlinearity)


def rnn_step_backward(dstate: State, cache: RNNCache, p: dict[str, np.ndarray]):
    """Backward of ``rnn_step``: (dh_t,) -> (dxw_t, dhw_t, (0,), grads); h_{t-1} enters only via W_hh."""
    (dh_t,) = dstate
    h_t, nonlinearity = cache
    da = dh_t * (dtanh(h_t) if nonlinearity == "tanh" else (h_t > 0))
    return da, da, (0.0,), {"bias_hh": da.sum(axis=0)}
