"""The ``fast`` backend: LSTM, peephole, coupled (CIFG) and layer-normalized cells with a hand-written backward.

One ``torch.autograd.Function`` per layer and direction. Its forward runs the time loop without
building an autograd graph, writing every step into preallocated buffers; its backward runs the loop
once, backwards, with the same equations as ``lstmkit.reference`` (reference/lstm.py, peephole.py,
coupled.py, layernorm.py), and forms dW_ih and dW_hh with one large product each over all T*N rows.
Recurrent dropout, zoneout, lengths and gate traces use the same masks as the native backend, whose
layer/direction/length logic it reuses. Matrix products of float32 CPU tensors go to oneDNN.
"""

from __future__ import annotations

from functools import partial

import torch
from torch import Tensor

from lstmkit.masks import DropoutMasks
from lstmkit.nn.backends import native
from lstmkit.nn.functional import LN_EPS
from lstmkit.specs import RecurrentConfig

KINDS = ("lstm", "peephole", "coupled", "layernorm")
ONEDNN = torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight^T (+ bias), x (M, K), weight (N, K).

    float32 on CPU goes to oneDNN's matrix kernel when torch has it: measured here at about twice the
    speed of torch.mm (MKL's sgemm) for every product this backend makes. Elsewhere, torch's linear.
    """
    if ONEDNN and x.dtype == torch.float32 and x.device.type == "cpu":
        return torch.ops.mkldnn._linear_pointwise(x.contiguous(), weight.contiguous(), bias, "none", [], "")
    return torch.nn.functional.linear(x, weight, bias)


def _dsigmoid(s: Tensor) -> Tensor:
    return s - s * s


def _layer_norm(v: Tensor) -> tuple[Tensor, Tensor]:
    """(v - mean) * rstd over the last axis, and rstd (..., 1)."""
    v_hat, _, rstd = torch.native_layer_norm(v, v.shape[-1:], None, None, LN_EPS)
    return v_hat, rstd


def _layer_norm_backward(dv_hat: Tensor, v_hat: Tensor, rstd: Tensor) -> Tensor:
    """dv = rstd * (dv_hat - mean(dv_hat) - v_hat * mean(dv_hat * v_hat))."""
    return rstd * (dv_hat - dv_hat.mean(-1, keepdim=True) - v_hat * (dv_hat * v_hat).mean(-1, keepdim=True))


def _add(a: Tensor, b: Tensor | None) -> Tensor:
    return a if b is None else a + b


class _Direction(torch.autograd.Function):
    """One layer, one direction: x (T, N, H_in), h0, c0 (N, H) -> out (T, N, H), h_T, c_T, and for traces the
    activated gates (T, N, G*H) and the cell states (T, N, H)."""

    @staticmethod
    def forward(
        ctx,
        kind,
        keep_h,
        keep_c,
        mask,
        x,
        h0,
        c0,
        weight_ih,
        weight_hh,
        bias_ih,
        bias_hh,
        w_ci,
        w_cf,
        w_co,
        ln_ih,
        ln_hh,
        ln_c,
        ln_bias_c,
    ):
        T, N, H = x.shape[0], x.shape[1], h0.shape[1]
        G = 3 if kind == "coupled" else 4
        empty = partial(torch.empty, dtype=x.dtype, device=x.device)
        layernorm = kind == "layernorm"
        if layernorm:  # xw_t = g_ih * LN(W_ih x_t) + b_ih; b_hh comes after the recurrent layer norm
            xw_hat, xw_rstd = _layer_norm(linear(x.reshape(T * N, -1), weight_ih))
            acts = _add(ln_ih * xw_hat, bias_ih).view(T, N, G * H)
            hw_hat, hw_rstd = empty(T, N, G * H), empty(T, N, 1)
            c_hat, c_rstd = empty(T, N, H), empty(T, N, 1)
        else:  # xw_t = W_ih x_t + b_ih + b_hh for all t at once
            bias = None if bias_ih is None else bias_ih + bias_hh
            acts = linear(x.reshape(T * N, -1), weight_ih, bias).view(T, N, G * H)
            xw_hat = xw_rstd = hw_hat = hw_rstd = c_hat = c_rstd = None
        held = keep_h is not None  # padding or zoneout: the state is not always the new one
        h_seq = empty(T + 1, N, H)  # h_{-1} .. h_{T-1}, the state after held units
        c_new = empty(T, N, H)  # c_t before held units (the state itself when nothing is held)
        c_seq = empty(T + 1, N, H) if held else None
        tanh_c = empty(T, N, H)  # tanh(c_t), or tanh(g_c LN(c_t) + b_c) for layernorm
        h_in = empty(T, N, H) if mask is not None else None  # m * h_{t-1}, what W_hh multiplies
        h_seq[0] = h0
        if held:
            c_seq[0] = c0
        for t in range(T):
            c_prev = c_seq[t] if held else (c0 if t == 0 else c_new[t - 1])
            h_prev = h_seq[t] if mask is None else torch.mul(h_seq[t], mask, out=h_in[t])
            hw = linear(h_prev, weight_hh)  # (N, G*H)
            if layernorm:
                hw, hw_rstd[t] = _layer_norm(hw)
                hw_hat[t] = hw
                hw = _add(ln_hh * hw, bias_hh)
            a = acts[t].add_(hw)  # (N, G*H) pre-activations, activated in place below
            if kind == "coupled":
                i, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H :]
                i.sigmoid_()
                g.tanh_()
                o.sigmoid_()
                torch.addcmul(c_prev - i * c_prev, i, g, out=c_new[t])  # (1 - i) c + i g
            else:
                i, f, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
                if kind == "peephole":
                    i.addcmul_(w_ci, c_prev)
                    f.addcmul_(w_cf, c_prev)
                a[:, : 2 * H].sigmoid_()
                g.tanh_()
                torch.addcmul(f * c_prev, i, g, out=c_new[t])
                if kind == "peephole":
                    o.addcmul_(w_co, c_new[t])
                o.sigmoid_()
            if layernorm:
                c_hat[t], c_rstd[t] = _layer_norm(c_new[t])
                torch.tanh(_add(ln_c * c_hat[t], ln_bias_c), out=tanh_c[t])
            else:
                torch.tanh(c_new[t], out=tanh_c[t])
            if held:
                torch.where(keep_h[t], h_seq[t], o * tanh_c[t], out=h_seq[t + 1])
                torch.where(keep_c[t], c_prev, c_new[t], out=c_seq[t + 1])
            else:
                torch.mul(o, tanh_c[t], out=h_seq[t + 1])
        c_states = c_seq if held else torch.cat([c0[None], c_new])  # (T+1, N, H)
        h_in = h_seq[:-1] if mask is None else h_in
        ctx.kind, ctx.has_bias = kind, bias_ih is not None
        ctx.save_for_backward(
            x,
            weight_ih,
            weight_hh,
            acts,
            c_states,
            c_new,
            tanh_c,
            h_in,
            keep_h,
            keep_c,
            mask,
            w_ci,
            w_cf,
            w_co,
            ln_ih,
            ln_hh,
            ln_c,
            xw_hat,
            xw_rstd,
            hw_hat,
            hw_rstd,
            c_hat,
            c_rstd,
        )
        ctx.mark_non_differentiable(acts)
        return h_seq[1:], h_seq[T].clone(), c_states[T].clone(), acts, c_states[1:]

    @staticmethod
    def backward(ctx, dout, dh_T, dc_T, _dacts, _dc_seq):
        (
            x,
            weight_ih,
            weight_hh,
            acts,
            c_states,
            c_new,
            tanh_c,
            h_in,
            keep_h,
            keep_c,
            mask,
            w_ci,
            w_cf,
            w_co,
            ln_ih,
            ln_hh,
            ln_c,
            xw_hat,
            xw_rstd,
            hw_hat,
            hw_rstd,
            c_hat,
            c_rstd,
        ) = ctx.saved_tensors
        kind = ctx.kind
        T, N, H = tanh_c.shape
        zeros = partial(torch.zeros, dtype=x.dtype, device=x.device)
        dA = torch.empty_like(acts)  # (T, N, G*H): gradients of the pre-activations
        layernorm, peephole = kind == "layernorm", kind == "peephole"
        dHW = torch.empty_like(acts) if layernorm else dA  # gradients of the raw W_hh (m * h_{t-1})
        dh = dh_T.clone() if dh_T is not None else zeros(N, H)
        dc = dc_T.clone() if dc_T is not None else zeros(N, H)
        weight_hh_t = weight_hh.t().contiguous()  # (H, G*H): dh_{t-1} = dhw W_hh
        small = {name: zeros(H) for name in ("ci", "cf", "co", "ln_c", "ln_bias_c")}
        dln_hh = zeros(4 * H) if layernorm else None
        for t in reversed(range(T)):
            if dout is not None:
                dh += dout[t]
            if keep_h is not None:  # held units pass their gradient straight to the previous state
                dh_held, dc_held = dh * keep_h[t], dc * keep_c[t]
                dh, dc = dh - dh_held, dc - dc_held
            c_prev, a, da = c_states[t], acts[t], dA[t]
            if kind == "coupled":
                i, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H :]
                da_i, da_g, da_o = da[:, :H], da[:, H : 2 * H], da[:, 2 * H :]
            else:
                i, f, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
                da_i, da_f, da_g, da_o = da[:, :H], da[:, H : 2 * H], da[:, 2 * H : 3 * H], da[:, 3 * H :]
            torch.mul(dh * tanh_c[t], _dsigmoid(o), out=da_o)
            dtanh = dh * o * (1 - tanh_c[t] * tanh_c[t])
            if layernorm:  # through y = g_c LN(c_t) + b_c
                small["ln_c"] += (dtanh * c_hat[t]).sum(0)
                small["ln_bias_c"] += dtanh.sum(0)
                dc += _layer_norm_backward(dtanh * ln_c, c_hat[t], c_rstd[t])
            else:
                dc += dtanh
            if peephole:
                dc.addcmul_(da_o, w_co)
                small["co"] += (da_o * c_new[t]).sum(0)
            if kind == "coupled":
                torch.mul(dc * (g - c_prev), _dsigmoid(i), out=da_i)
                torch.mul(dc * i, 1 - g * g, out=da_g)
                dc = dc * (1 - i)
            else:
                torch.mul(dc * g, _dsigmoid(i), out=da_i)
                torch.mul(dc * c_prev, _dsigmoid(f), out=da_f)
                torch.mul(dc * i, 1 - g * g, out=da_g)
                dc = dc * f
                if peephole:
                    dc.addcmul_(da_i, w_ci).addcmul_(da_f, w_cf)
                    small["ci"] += (da_i * c_prev).sum(0)
                    small["cf"] += (da_f * c_prev).sum(0)
            if layernorm:  # through a_t = xw_t + g_hh LN(hw_t) + b_hh
                dln_hh += (da * hw_hat[t]).sum(0)
                dHW[t] = _layer_norm_backward(da * ln_hh, hw_hat[t], hw_rstd[t])
            dh = linear(dHW[t], weight_hh_t)  # (N, H): through W_hh (m * h_{t-1})
            if mask is not None:
                dh *= mask
            if keep_h is not None:
                dh += dh_held
                dc += dc_held
        dA2 = dA.view(T * N, -1)  # (T*N, G*H)
        dbias = dA2.sum(0) if ctx.has_bias else None
        grads = {"bias_ih": dbias, "bias_hh": dbias}
        if layernorm:  # back through xw = g_ih LN(W_ih x) + b_ih
            grads["ln_ih"] = (dA2 * xw_hat).sum(0)
            grads["ln_hh"], grads["ln_c"] = dln_hh, small["ln_c"]
            grads["ln_bias_c"] = small["ln_bias_c"] if ctx.has_bias else None
            dXW = _layer_norm_backward(dA2 * ln_ih, xw_hat, xw_rstd)
        else:
            dXW = dA2
        dx = linear(dXW, weight_ih.t()).view(T, N, -1) if ctx.needs_input_grad[4] else None
        dweight_ih = linear(dXW.t().contiguous(), x.reshape(T * N, -1).t())
        dweight_hh = linear(dHW.view(T * N, -1).t().contiguous(), h_in.reshape(T * N, H).t())
        peepholes = (small["ci"], small["cf"], small["co"]) if peephole else (None, None, None)
        return (
            None,
            None,
            None,
            None,
            dx,
            dh,
            dc,
            dweight_ih,
            dweight_hh,
            grads["bias_ih"],
            grads["bias_hh"],
            *peepholes,
            grads.get("ln_ih"),
            grads.get("ln_hh"),
            grads.get("ln_c"),
            grads.get("ln_bias_c"),
        )


def _run_direction(cell, p: dict, x: Tensor, state, keep, recurrent_mask, record: bool, kind: str):
    """Drop-in for ``native._run_direction`` (same arguments; recorded fields come whole, (T, N, .))."""
    keep_h, keep_c = keep if keep is not None else (None, None)
    out, h_T, c_T, acts, c_seq = _Direction.apply(
        kind,
        keep_h,
        keep_c,
        recurrent_mask,
        x,
        state[0],
        state[1],
        p["weight_ih"],
        p["weight_hh"],
        p["bias_ih"],
        p["bias_hh"],
        p.get("weight_ci"),
        p.get("weight_cf"),
        p.get("weight_co"),
        p.get("ln_weight_ih"),
        p.get("ln_weight_hh"),
        p.get("ln_weight_c"),
        p.get("ln_bias_c"),
    )
    recorded = None
    if record:
        recorded = [*acts.detach().chunk(3 if kind == "coupled" else 4, dim=2), c_seq.detach(), out.detach()]
    return out, (h_T, c_T), recorded


def supports(config: RecurrentConfig) -> str | None:
    """Why the fast backend cannot run ``config``, or None if it can."""
    if config.kind not in KINDS:
        return f"cell {config.kind!r} (the fast backend has {', '.join(map(repr, KINDS))})"
    if config.proj_size:
        return "proj_size > 0"
    return None


def run(config: RecurrentConfig, weights: list[dict], x: Tensor, state, lengths, masks: DropoutMasks, record: bool):
    """As ``native.run``, with the hand-written per-direction Function."""
    runner = partial(_run_direction, kind=config.kind)
    return native.run(config, weights, x, state, lengths, masks, record, run_direction=runner)
