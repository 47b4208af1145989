"""The ``fast`` backend: LSTM, peephole and coupled (CIFG) cells with a hand-written backward.

One ``torch.autograd.Function`` per layer and direction. Its forward runs the time loop without
building an autograd graph, writing every step into preallocated buffers; its backward runs the loop
once, backwards, with the same equations as ``lstmkit.reference`` (see reference/lstm.py,
peephole.py, coupled.py), and forms dW_ih and dW_hh with one large product each over all T*N rows.
Recurrent dropout, zoneout, lengths and gate traces are supported through the same masks as the
native backend, whose layer/direction/length logic it reuses.
"""

from __future__ import annotations

from functools import partial

import torch
from torch import Tensor

from lstmkit.masks import DropoutMasks
from lstmkit.nn.backends import native
from lstmkit.specs import RecurrentConfig

KINDS = ("lstm", "peephole", "coupled")
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


class _Direction(torch.autograd.Function):
    """One layer, one direction: x (T, N, H_in), h0, c0 (N, H) -> out (T, N, H), h_T, c_T, and for traces the
    activated gates (T, N, G*H) and the cell states (T, N, H)."""

    @staticmethod
    def forward(ctx, kind, keep_h, keep_c, mask, x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, w_ci, w_cf, w_co):
        T, N, H = x.shape[0], x.shape[1], h0.shape[1]
        G = 3 if kind == "coupled" else 4
        bias = None if bias_ih is None else bias_ih + bias_hh
        acts = linear(x.reshape(T * N, -1), weight_ih, bias).view(T, N, G * H)  # W_ih x_t + b for all t; gates in place
        empty = partial(torch.empty, dtype=x.dtype, device=x.device)
        held = keep_h is not None  # padding or zoneout: the state is not always the new one
        h_seq = empty(T + 1, N, H)  # h_{-1} .. h_{T-1}, the state after held units
        c_new = empty(T, N, H)  # c_t before held units (the state itself when nothing is held)
        c_seq = empty(T + 1, N, H) if held else None
        tanh_c = empty(T, N, H)
        h_in = empty(T, N, H) if mask is not None else None  # m * h_{t-1}, what W_hh multiplies
        h_seq[0] = h0
        if held:
            c_seq[0] = c0
        for t in range(T):
            c_prev = c_seq[t] if held else (c0 if t == 0 else c_new[t - 1])
            h_prev = h_seq[t] if mask is None else torch.mul(h_seq[t], mask, out=h_in[t])
            a = acts[t].add_(linear(h_prev, weight_hh))  # (N, G*H) pre-activations, activated in place below
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
            x, weight_ih, weight_hh, acts, c_states, c_new, tanh_c, h_in, keep_h, keep_c, mask, w_ci, w_cf, w_co
        )
        ctx.mark_non_differentiable(acts)
        return h_seq[1:], h_seq[T].clone(), c_states[T].clone(), acts, c_states[1:]

    @staticmethod
    def backward(ctx, dout, dh_T, dc_T, _dacts, _dc_seq):
        x, weight_ih, weight_hh, acts, c_states, c_new, tanh_c, h_in, keep_h, keep_c, mask, w_ci, w_cf, w_co = (
            ctx.saved_tensors
        )
        kind = ctx.kind
        T, N, H = tanh_c.shape
        dA = torch.empty_like(acts)  # (T, N, G*H): gradients of the pre-activations
        dh = dh_T.clone() if dh_T is not None else torch.zeros(N, H, dtype=x.dtype, device=x.device)
        dc = dc_T.clone() if dc_T is not None else torch.zeros(N, H, dtype=x.dtype, device=x.device)
        peephole = kind == "peephole"
        weight_hh_t = weight_hh.t().contiguous()  # (H, G*H): dh_{t-1} = da W_hh
        if peephole:
            dw_ci, dw_cf, dw_co = (torch.zeros(H, dtype=x.dtype, device=x.device) for _ in range(3))
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
            dc += dh * o * (1 - tanh_c[t] * tanh_c[t])
            if peephole:
                dc.addcmul_(da_o, w_co)
                dw_co += (da_o * c_new[t]).sum(0)
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
                    dw_ci += (da_i * c_prev).sum(0)
                    dw_cf += (da_f * c_prev).sum(0)
            dh = linear(da, weight_hh_t)  # (N, H): through W_hh (m * h_{t-1})
            if mask is not None:
                dh *= mask
            if keep_h is not None:
                dh += dh_held
                dc += dc_held
        dA2 = dA.view(T * N, -1)  # (T*N, G*H)
        dx = linear(dA2, weight_ih.t()).view(T, N, -1) if ctx.needs_input_grad[4] else None
        dA2_t = dA2.t().contiguous()  # (G*H, T*N)
        dweight_ih = linear(dA2_t, x.reshape(T * N, -1).t())
        dweight_hh = linear(dA2_t, h_in.reshape(T * N, H).t())
        dbias = dA2.sum(0) if ctx.has_bias else None
        peepholes = (dw_ci, dw_cf, dw_co) if peephole else (None, None, None)
        return None, None, None, None, dx, dh, dc, dweight_ih, dweight_hh, dbias, dbias, *peepholes


def _run_direction(cell, p: dict, x: Tensor, state, keep, recurrent_mask, record: bool, kind: str):
    """Drop-in for ``native._run_direction`` (same arguments and results)."""
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
    )
    recorded = None
    if record:  # whole (T, N, .) tensors per field, which GateTrace takes as they are
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
