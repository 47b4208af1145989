"""Affine maps: the input projection of every cell, the LSTM hidden projection, readout heads.

All shapes keep leading axes: ``x`` may be (N, H_in) or (T, N, H_in). Weight gradients are one
large matrix product over every leading axis at once.
"""

from __future__ import annotations

import numpy as np


def affine(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """y = x W^T + b.  x (..., H_in), W (H_out, H_in), b (H_out,) -> y (..., H_out)."""
    y = (x.reshape(-1, x.shape[-1]) @ weight.T).reshape(*x.shape[:-1], -1)  # one product, not one per step
    if bias is not None:
        y += bias
    return y


def affine_backward(dy: np.ndarray, x: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of ``affine``: dx = dy W, dW = sum dy^T x, db = sum dy over leading axes."""
    dy_2d = dy.reshape(-1, dy.shape[-1])  # (T*N, H_out)
    dx = (dy_2d @ weight).reshape(*dy.shape[:-1], -1)
    dweight = dy_2d.T @ x.reshape(-1, x.shape[-1])  # (H_out, H_in)
    dbias = dy_2d.sum(axis=0)
    return dx, dweight, dbias


def project_input(x: np.ndarray, p: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """xw_t = W_ih x_t + b_ih for every step at once: x (T, N, H_in) -> xw (T, N, G*H); cache x."""
    return affine(x, p["weight_ih"], p["bias_ih"]), x


def project_input_backward(
    dxw: np.ndarray, x: np.ndarray, p: dict[str, np.ndarray]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Gradients of ``project_input``: dx (T, N, H_in) and {weight_ih, bias_ih}."""
    dx, dweight, dbias = affine_backward(dxw, x, p["weight_ih"])
    return dx, {"weight_ih": dweight, "bias_ih": dbias}


def project_hidden(r_t: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
    """h_t = W_hr r_t with ``proj_size > 0`` (LSTM kinds), else h_t = r_t.  r_t (N, H) -> h_t (N, P)."""
    return r_t @ p["weight_hr"].T if "weight_hr" in p else r_t


def project_hidden_backward(
    dh_t: np.ndarray, r_t: np.ndarray, p: dict[str, np.ndarray], grads: dict[str, np.ndarray]
) -> np.ndarray:
    """dr_t from dh_t; adds dW_hr = dh_t^T r_t to ``grads`` when there is a projection."""
    if "weight_hr" not in p:
        return dh_t
    grads["weight_hr"] = dh_t.T @ r_t  # (P, H)
    return dh_t @ p["weight_hr"]
