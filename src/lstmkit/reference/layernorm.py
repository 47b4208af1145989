"""Layer-normalized LSTM (Ba, Kiros & Hinton 2016, section 3.1 / appendix).

Layer norm over the G*H gate pre-activations of the input and of the recurrent product, each with its
own gain, and over the cell state before the output tanh, with gain and bias::

    LN(v) = (v - mean(v)) / sqrt(var(v) + eps)        over the last axis, eps = 1e-5
    xw_t = g_ih * LN(W_ih x_t) + b_ih                 (precomputed for all t: ``project_input``)
    a_t  = xw_t + g_hh * LN(W_hh h_{t-1}) + b_hh      (N, 4H), chunks [i | f | g | o]
    i = sigma(a_i)   f = sigma(a_f)   g = tanh(a_g)   o = sigma(a_o)
    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(g_c * LN(c_t) + b_c)               (then h_t = W_hr h_t if proj_size > 0)

``bias_ih`` and ``bias_hh`` serve as the layer-norm biases of the two pre-activations (a separate
bias there would be redundant); the gains are ``ln_weight_ih``, ``ln_weight_hh``, ``ln_weight_c``
and the cell bias ``ln_bias_c``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lstmkit.reference.activations import dsigmoid, dtanh, sigmoid
from lstmkit.reference.linear import affine, affine_backward, project_hidden, project_hidden_backward

EPS = 1e-5
State = tuple[np.ndarray, np.ndarray]


def layer_norm(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """v (..., K) -> (v_hat, rstd): v_hat = (v - mean) * rstd, rstd = 1 / sqrt(var + eps), (..., 1)."""
    centred = v - v.mean(axis=-1, keepdims=True)
    rstd = 1.0 / np.sqrt((centred * centred).mean(axis=-1, keepdims=True) + EPS)
    return centred * rstd, rstd


def layer_norm_backward(dv_hat: np.ndarray, v_hat: np.ndarray, rstd: np.ndarray) -> np.ndarray:
    """dv = rstd * (dv_hat - mean(dv_hat) - v_hat * mean(dv_hat * v_hat))."""
    mean_d = dv_hat.mean(axis=-1, keepdims=True)
    mean_dv = (dv_hat * v_hat).mean(axis=-1, keepdims=True)
    return rstd * (dv_hat - mean_d - v_hat * mean_dv)


class InputNormCache(NamedTuple):
    x: np.ndarray  # (T, N, H_in)
    xw_hat: np.ndarray  # (T, N, 4H)
    rstd: np.ndarray  # (T, N, 1)


def layernorm_project_input(x: np.ndarray, p: dict[str, np.ndarray]) -> tuple[np.ndarray, InputNormCache]:
    """xw_t = g_ih * LN(W_ih x_t) + b_ih for every step: x (T, N, H_in) -> (T, N, 4H)."""
    xw_hat, rstd = layer_norm(affine(x, p["weight_ih"], None))
    return p["ln_weight_ih"] * xw_hat + p["bias_ih"], InputNormCache(x, xw_hat, rstd)


def layernorm_project_input_backward(dxw: np.ndarray, cache: InputNormCache, p: dict[str, np.ndarray]):
    """Gradients of ``layernorm_project_input``: dx (T, N, H_in) and the input-side parameters."""
    x, xw_hat, rstd = cache
    flat = dxw.reshape(-1, dxw.shape[-1])
    grads = {
        "ln_weight_ih": (flat * xw_hat.reshape(flat.shape)).sum(axis=0),
        "bias_ih": flat.sum(axis=0),
    }
    dx, grads["weight_ih"], _ = affine_backward(
        layer_norm_backward(dxw * p["ln_weight_ih"], xw_hat, rstd), x, p["weight_ih"]
    )
    return dx, grads


class LayerNormCache(NamedTuple):
    c_prev: np.ndarray  # (N, H)
    hw_hat: np.ndarray  # (N, 4H)
    hw_rstd: np.ndarray  # (N, 1)
    i: np.ndarray
    f: np.ndarray
    g: np.ndarray
    o: np.ndarray
    c_hat: np.ndarray
    c_rstd: np.ndarray
    tanh_y: np.ndarray
    r: np.ndarray


def layernorm_step(
    xw_t: np.ndarray, hw_t: np.ndarray, state: State, p: dict[str, np.ndarray]
) -> tuple[State, LayerNormCache]:
    """One step: xw_t (N, 4H), hw_t = W_hh h_{t-1} (N, 4H), state (h_{t-1}, c_{t-1}) -> (h_t, c_t), cache."""
    _, c_prev = state
    H = c_prev.shape[1]
    hw_hat, hw_rstd = layer_norm(hw_t)  # (N, 4H)
    a = xw_t + p["ln_weight_hh"] * hw_hat + p["bias_hh"]
    i = sigmoid(a[:, 0 * H : 1 * H])
    f = sigmoid(a[:, 1 * H : 2 * H])
    g = np.tanh(a[:, 2 * H : 3 * H])
    o = sigmoid(a[:, 3 * H : 4 * H])
    c_t = f * c_prev + i * g
    c_hat, c_rstd = layer_norm(c_t)
    tanh_y = np.tanh(p["ln_weight_c"] * c_hat + p["ln_bias_c"])
    r = o * tanh_y
    h_t = project_hidden(r, p)
    return (h_t, c_t), LayerNormCache(c_prev, hw_hat, hw_rstd, i, f, g, o, c_hat, c_rstd, tanh_y, r)


def layernorm_step_backward(dstate: State, cache: LayerNormCache, p: dict[str, np.ndarray]):
    """Backward of ``layernorm_step``: (dh_t, dc_t) -> (dxw_t, dhw_t, (0, dc_{t-1}), grads).

    ``dhw_t`` is the gradient of the raw recurrent product W_hh h_{t-1}, before its layer norm.
    """
    dh_t, dc_t = dstate
    c_prev, hw_hat, hw_rstd, i, f, g, o, c_hat, c_rstd, tanh_y, r = cache
    H = c_prev.shape[1]
    grads: dict[str, np.ndarray] = {}
    dr = project_hidden_backward(dh_t, r, p, grads)
    do = dr * tanh_y
    dy = dr * o * dtanh(tanh_y)
    grads["ln_weight_c"] = (dy * c_hat).sum(axis=0)
    grads["ln_bias_c"] = dy.sum(axis=0)
    dc = dc_t + layer_norm_backward(dy * p["ln_weight_c"], c_hat, c_rstd)
    da = np.empty((dc.shape[0], 4 * H), dtype=dc.dtype)  # (N, 4H)
    da[:, 0 * H : 1 * H] = dc * g * dsigmoid(i)
    da[:, 1 * H : 2 * H] = dc * c_prev * dsigmoid(f)
    da[:, 2 * H : 3 * H] = dc * i * dtanh(g)
    da[:, 3 * H : 4 * H] = do * dsigmoid(o)
    grads["bias_hh"] = da.sum(axis=0)
    grads["ln_weight_hh"] = (da * hw_hat).sum(axis=0)
    dhw = layer_norm_backward(da * p["ln_weight_hh"], hw_hat, hw_rstd)
    dc_prev = dc * f
    return da, dhw, (0.0, dc_prev), grads
