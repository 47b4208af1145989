"""The per-step math of every cell kind in PyTorch, mirroring ``lstmkit.reference`` line by line.

Autograd provides the backward. As in the reference, a step receives the input's share of the
pre-activations ``xw_t`` (all T steps computed in one product by ``project_input``) and the raw
recurrent product ``hw_t = W_hh h_{t-1}`` (N, G*H), and returns the new state and the gates it
computed (for gate traces). ``p`` maps base names (``weight_ih``, ``bias_hh``, ``weight_ci`` ...) to
tensors; absent biases are ``None``.

Where b_hh enters the pre-activation linearly (RNN, LSTM, peephole, coupled), ``project_input``
adds it together with b_ih, once for all steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

State = tuple[Tensor, ...]  # (h,) or (h, c)
LN_EPS = 1e-5


def _add(a: Tensor, b: Tensor | None) -> Tensor:
    return a if b is None else a + b


def _project_hidden(r_t: Tensor, p: dict[str, Tensor | None]) -> Tensor:
    """h_t = W_hr r_t with a projection (LSTM kinds, proj_size > 0), else r_t."""
    return r_t if p.get("weight_hr") is None else r_t @ p["weight_hr"].t()


def dense_input(x: Tensor, p: dict[str, Tensor | None]) -> Tensor:
    """xw = x W_ih^T + b_ih + b_hh for all steps: x (T, N, H_in) -> (T, N, G*H)."""
    xw = x @ p["weight_ih"].t()
    return _add(_add(xw, p["bias_ih"]), p["bias_hh"])


def dense_input_without_bias_hh(x: Tensor, p: dict[str, Tensor | None]) -> Tensor:
    """xw = x W_ih^T + b_ih (the GRU adds b_hh inside its reset gate)."""
    return _add(x @ p["weight_ih"].t(), p["bias_ih"])


def layernorm_input(x: Tensor, p: dict[str, Tensor | None]) -> Tensor:
    """xw = g_ih * LN(x W_ih^T) + b_ih, layer norm over the G*H pre-activations."""
    xw = x @ p["weight_ih"].t()
    return _add(p["ln_weight_ih"] * F.layer_norm(xw, xw.shape[-1:], eps=LN_EPS), p["bias_ih"])


def rnn_tanh_step(xw_t: Tensor, hw_t: Tensor, state: State, p) -> tuple[State, tuple[Tensor, ...]]:
    """h_t = tanh(xw_t + W_hh h_{t-1})   (b_ih, b_hh are in xw_t)."""
    return (torch.tanh(xw_t + hw_t),), ()


def rnn_relu_step(xw_t: Tensor, hw_t: Tensor, state: State, p) -> tuple[State, tuple[Tensor, ...]]:
    """h_t = relu(xw_t + W_hh h_{t-1})."""
    return (torch.relu(xw_t + hw_t),), ()


def lstm_step(xw_t: Tensor, hw_t: Tensor, state: State, p) -> tuple[State, tuple[Tensor, ...]]:
    """i, f, g, o from a_t = xw_t + W_hh h_{t-1}; c_t = f c_{t-1} + i g; h_t = o tanh(c_t)."""
    _, c_prev = state
    i, f, g, o = (xw_t + hw_t).chunk(4, dim=1)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c_t = f * c_prev + i * g
    h_t = _project_hidden(o * torch.tanh(c_t), p)
    return (h_t, c_t), (i, f, g, o)


def peephole_step(xw_t: Tensor, hw_t: Tensor, state: State, p) -> tuple[State, tuple[Tensor, ...]]:
    """i, f look at c_{t-1} (w_ci, w_cf), o looks at c_t (w_co); otherwise as ``lstm_step``."""
    _, c_prev = state
    a_i, a_f, a_g, a_o = (xw_t + hw_t).chunk(4, dim=1)
    i = torch.sigmoid(a_i + p["weight_ci"] * c_prev)
    f = torch.sigmoid(a_f + p["weight_cf"] * c_prev)
    g = torch.tanh(a_g)
    c_t = f * c_prev + i * g
    o = torch.sigmoid(a_o + p["weight_co"] * c_t)
    h_t = _project_hidden(o * torch.tanh(c_t), p)
    return (h_t, c_t), (i, f, g, o)


def coupled_step(xw_t: Tensor, hw_t: Tensor, state: State, p) -> tuple[State, tuple[Tensor, ...]]:
    """CIFG: gates i, g, o; f = 1 - i, so c_t = (1 - i) c_{t-1} + i g."""
    _, c_prev = state
    i, g, o = (xw_t + hw_t).chunk(3, dim=1)
    i, g, o = torch.sigmoid(i), torch.tanh(g), torch.sigmoid(o)
    c_t = (1.0 - i) * c_prev + i * g
    h_t = _project_hidden(o * torch.tanh(c_t), p)
    return (h_t, c_t), (i, g, o)


def layernorm_step(xw_t: Tensor, hw_t: Tensor, state: State, p) -> tuple[State, tuple[Tensor, ...]]:
    """a_t = xw_t + g_hh LN(W_hh h_{t-1}) + b_hh; LSTM gates; h_t = o tanh(g_c LN(c_t) + b_c)."""
    _, c_prev = state
    a = _add(xw_t + p["ln_weight_hh"] * F.layer_norm(hw_t, hw_t.shape[-1:], eps=LN_EPS), p["bias_hh"])
    i, f, g, o = a.chunk(4, dim=1)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c_t = f * c_prev + i * g
    c_norm = p["ln_weight_c"] * F.layer_norm(c_t, c_t.shape[-1:], eps=LN_EPS)
    h_t = _project_hidden(o * torch.tanh(_add(c_norm, p.get("ln_bias_c"))), p)
    return (h_t, c_t), (i, f, g, o)


def gru_step(xw_t: Tensor, hw_t: Tensor, state: State, p) -> tuple[State, tuple[Tensor, ...]]:
    """r, z from xw + hw; n = tanh(xw_n + r (W_hn h + b_hn)); h_t = (1 - z) n + z h_{t-1}."""
    (h_prev,) = state
    xw_r, xw_z, xw_n = xw_t.chunk(3, dim=1)
    hw_r, hw_z, hw_n = _add(hw_t, p["bias_hh"]).chunk(3, dim=1)
    r = torch.sigmoid(xw_r + hw_r)
    z = torch.sigmoid(xw_z + hw_z)
    n = torch.tanh(xw_n + r * hw_n)
    h_t = (1.0 - z) * n + z * h_prev
    return (h_t,), (r, z, n)


class TorchCell(NamedTuple):
    project_input: Callable[[Tensor, dict], Tensor]
    step: Callable[[Tensor, Tensor, State, dict], tuple[State, tuple[Tensor, ...]]]


CELLS: dict[str, TorchCell] = {
    "rnn": TorchCell(dense_input, rnn_tanh_step),
    "rnn_relu": TorchCell(dense_input, rnn_relu_step),
    "lstm": TorchCell(dense_input, lstm_step),
    "peephole": TorchCell(dense_input, peephole_step),
    "coupled": TorchCell(dense_input, coupled_step),
    "layernorm": TorchCell(layernorm_input, layernorm_step),
    "gru": TorchCell(dense_input_without_bias_hh, gru_step),
}


def reverse_time(x: Tensor, lengths: Tensor | None) -> Tensor:
    """Reverse each sequence within its own length: y[t, n] = x[len_n - 1 - t, n] for t < len_n.

    Padded steps stay; the map is its own inverse.  x (T, N, ...) -> (T, N, ...).
    """
    if lengths is None:
        return x.flip(0)
    T = x.shape[0]
    t = torch.arange(T, device=x.device)[:, None]
    index = torch.where(t < lengths, lengths - 1 - t, t)  # (T, N)
    return x.gather(0, index.view(T, -1, *([1] * (x.dim() - 2))).expand_as(x))
