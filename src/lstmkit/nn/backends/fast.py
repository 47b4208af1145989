"""The ``fast`` backend: LSTM, peephole, coupled (CIFG) and layer-normalized cells with a hand-written backward.

One ``torch.autograd.Function`` per layer and direction. Its forward runs the time loop without
building an autograd graph, writing every step into preallocated buffers; its backward runs the loop
once, backwards, with the same equations as ``lstmkit.reference`` (reference/lstm.py, peephole.py,
coupled.py, layernorm.py). dW_ih and dW_hh are sums over all T*N rows: formed step by step in C, or
with one large product each. Recurrent dropout, zoneout, lengths and gate traces use the same masks
as the native backend, whose layer/direction/length logic it reuses.

The time loops run in C (``kernels``: all T steps in one call, or one call per step when torch makes
the products) when the extension was built and the tensors are float32/float64 on the CPU; otherwise
in torch (``_forward_loop``, ``_backward_loop`` below: the same equations, a dozen torch calls per step).
"""

from __future__ import annotations

from functools import partial

import torch
from torch import Tensor

from lstmkit.masks import DropoutMasks
from lstmkit.nn.backends import kernels, native
from lstmkit.nn.backends.kernels import linear
from lstmkit.nn.functional import LN_EPS
from lstmkit.specs import RecurrentConfig

KINDS = ("lstm", "peephole", "coupled", "layernorm")


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


def _forward_loop(kind: str, x: Tensor, weight_hh: Tensor, b: dict, p: dict) -> None:
    """The time loop in torch; fills ``b`` as ``kernels.forward`` does (same buffers, same meaning)."""
    acts, h_seq, c_seq, tanh_c, h_in, mask = b["acts"], b["h_seq"], b["c_seq"], b["tanh_c"], b["h_in"], b["mask"]
    keep_h, keep_c = b["keep_h"], b["keep_c"]
    held, layernorm, H = keep_h is not None, kind == "layernorm", h_seq.shape[2]
    c_new = b["c_new"] if held else c_seq[1:]
    for t in range(len(acts)):
        c_prev = c_seq[t]
        h_prev = h_seq[t] if mask is None else torch.mul(h_seq[t], mask, out=h_in[t])
        hw = linear(h_prev, weight_hh)  # (N, G*H)
        if layernorm:
            hw, b["hw_rstd"][t] = _layer_norm(hw)
            b["hw_hat"][t] = hw
            hw = _add(p["ln_hh"] * hw, p["bias_hh"])
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
                i.addcmul_(p["w_ci"], c_prev)
                f.addcmul_(p["w_cf"], c_prev)
            a[:, : 2 * H].sigmoid_()
            g.tanh_()
            torch.addcmul(f * c_prev, i, g, out=c_new[t])
            if kind == "peephole":
                o.addcmul_(p["w_co"], c_new[t])
            o.sigmoid_()
        if layernorm:
            b["c_hat"][t], b["c_rstd"][t] = _layer_norm(c_new[t])
            torch.tanh(_add(p["ln_c"] * b["c_hat"][t], p["ln_bias_c"]), out=tanh_c[t])
        else:
            torch.tanh(c_new[t], out=tanh_c[t])
        if held:
            torch.where(keep_h[t], h_seq[t], o * tanh_c[t], out=h_seq[t + 1])
            torch.where(keep_c[t], c_prev, c_new[t], out=c_seq[t + 1])
        else:
            torch.mul(o, tanh_c[t], out=h_seq[t + 1])


def _backward_loop(kind: str, x: Tensor, weight_hh: Tensor, s: dict, p: dict, g: dict) -> Tensor:
    """The time loop in torch, backwards; fills ``g`` and returns dHW[0] W_hh as ``kernels.backward`` does."""
    acts, c_seq, tanh_c, keep_h, keep_c, mask = s["acts"], s["c_seq"], s["tanh_c"], s["keep_h"], s["keep_c"], s["mask"]
    c_new = s["c_new"] if keep_h is not None else c_seq[1:]
    T, N, H = tanh_c.shape
    layernorm, peephole = kind == "layernorm", kind == "peephole"
    dA, carry, dout = g["dA"], g["carry"], g["dout"]
    dHW = g["dHW"] if layernorm else dA  # gradients of the raw W_hh (m * h_{t-1})
    dc = g["dc"].clone()
    weight_hh_t = weight_hh.t().contiguous()  # (H, G*H): dh_{t-1} = dhw W_hh
    rec = None
    for t in reversed(range(T)):
        dh = carry.clone() if rec is None else carry + (rec if mask is None else rec * mask)
        if dout is not None:
            dh += dout[t]
        carry.zero_()
        if keep_h is not None:  # held units pass their gradient straight to the previous state
            torch.mul(dh, keep_h[t], out=carry)
            dc_held = dc * keep_c[t]
            dh, dc = dh - carry, dc - dc_held
        c_prev, a, da = c_seq[t], acts[t], dA[t]
        if kind == "coupled":
            i, gg, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H :]
            da_i, da_g, da_o = da[:, :H], da[:, H : 2 * H], da[:, 2 * H :]
        else:
            i, f, gg, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
            da_i, da_f, da_g, da_o = da[:, :H], da[:, H : 2 * H], da[:, 2 * H : 3 * H], da[:, 3 * H :]
        torch.mul(dh * tanh_c[t], _dsigmoid(o), out=da_o)
        dtanh = dh * o * (1 - tanh_c[t] * tanh_c[t])
        if layernorm:  # through y = g_c LN(c_t) + b_c
            g["g_ln_c"] += (dtanh * s["c_hat"][t]).sum(0)
            if g["g_ln_bias_c"] is not None:
                g["g_ln_bias_c"] += dtanh.sum(0)
            dc += _layer_norm_backward(dtanh * p["ln_c"], s["c_hat"][t], s["c_rstd"][t])
        else:
            dc += dtanh
        if peephole:
            dc.addcmul_(da_o, p["w_co"])
            g["g_co"] += (da_o * c_new[t]).sum(0)
        if kind == "coupled":
            torch.mul(dc * (gg - c_prev), _dsigmoid(i), out=da_i)
            torch.mul(dc * i, 1 - gg * gg, out=da_g)
            dc = dc * (1 - i)
        else:
            torch.mul(dc * gg, _dsigmoid(i), out=da_i)
            torch.mul(dc * c_prev, _dsigmoid(f), out=da_f)
            torch.mul(dc * i, 1 - gg * gg, out=da_g)
            dc = dc * f
            if peephole:
                dc.addcmul_(da_i, p["w_ci"]).addcmul_(da_f, p["w_cf"])
                g["g_ci"] += (da_i * c_prev).sum(0)
                g["g_cf"] += (da_f * c_prev).sum(0)
        if layernorm:  # through a_t = xw_t + g_hh LN(hw_t) + b_hh
            g["g_ln_hh"] += (da * s["hw_hat"][t]).sum(0)
            dHW[t] = _layer_norm_backward(da * p["ln_hh"], s["hw_hat"][t], s["hw_rstd"][t])
        if keep_h is not None:
            dc += dc_held
        rec = linear(dHW[t], weight_hh_t)  # (N, H): through W_hh (m * h_{t-1})
    g["dc"].copy_(dc)
    return rec


SAVED = (
    "x",
    "weight_ih",
    "weight_hh",
    "acts",
    "c_seq",
    "c_new",
    "tanh_c",
    "h_in",
    "recurrent_inputs",
    "keep_h",
    "keep_c",
    "mask",
    "xw_hat",
    "xw_rstd",
    "hw_hat",
    "hw_rstd",
    "c_hat",
    "c_rstd",
)
PARAMS = ("w_ci", "w_cf", "w_co", "ln_ih", "ln_hh", "bias_ih", "bias_hh", "ln_c", "ln_bias_c")


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
        layernorm, compiled = kind == "layernorm", kernels.available(x)
        b = {"keep_h": keep_h, "keep_c": keep_c, "mask": mask}
        if layernorm:  # normalized products and cell states, with their 1 / std, for the backward
            b["hw_hat"], b["hw_rstd"] = empty(T, N, G * H), empty(T, N, 1)
            b["c_hat"], b["c_rstd"] = empty(T, N, H), empty(T, N, 1)
        if layernorm and compiled:  # W_ih x_t for all t at once; the kernel normalizes each row
            b["acts"] = linear(x.reshape(T * N, -1), weight_ih).view(T, N, G * H)
            b["xw_hat"], b["xw_rstd"] = empty(T, N, G * H), empty(T, N, 1)
        elif layernorm:  # xw_t = g_ih * LN(W_ih x_t) + b_ih; b_hh comes after the recurrent layer norm
            b["xw_hat"], b["xw_rstd"] = _layer_norm(linear(x.reshape(T * N, -1), weight_ih))
            b["acts"] = _add(ln_ih * b["xw_hat"], bias_ih).view(T, N, G * H)
        else:  # xw_t = W_ih x_t + b_ih + b_hh for all t at once
            bias = None if bias_ih is None else bias_ih + bias_hh
            b["acts"] = linear(x.reshape(T * N, -1), weight_ih, bias).view(T, N, G * H)
        b["h_seq"] = empty(T + 1, N, H)  # h_{-1} .. h_{T-1}, the state after held units
        b["c_seq"] = empty(T + 1, N, H)  # likewise c
        b["c_new"] = empty(T, N, H) if keep_h is not None else None  # c_t before held units (else c_seq[1:])
        b["tanh_c"] = empty(T, N, H)  # tanh(c_t), or tanh(g_c LN(c_t) + b_c) for layernorm
        b["h_in"] = empty(T, N, H) if mask is not None else None  # m * h_{t-1}, what W_hh multiplies
        b["h_seq"][0], b["c_seq"][0] = h0, c0
        if mask is not None:
            torch.mul(h0, mask, out=b["h_in"][0])
        b["recurrent_inputs"] = b["h_seq"][:-1] if mask is None else b["h_in"]
        params = dict(zip(PARAMS, (w_ci, w_cf, w_co, ln_ih, ln_hh, bias_ih, bias_hh, ln_c, ln_bias_c), strict=True))
        forward_loop = kernels.forward if compiled else _forward_loop
        forward_loop(kind, x, weight_hh, b, params)
        h_seq, c_seq = b["h_seq"], b["c_seq"]
        b.update(x=x, weight_ih=weight_ih, weight_hh=weight_hh)
        ctx.kind, ctx.has_bias = kind, bias_ih is not None
        ctx.set_materialize_grads(False)  # no zeros (T, N, G*H) for the trace outputs nobody differentiates
        ctx.save_for_backward(*(b.get(name) for name in SAVED), *params.values())
        ctx.mark_non_differentiable(b["acts"])
        return h_seq[1:], h_seq[T].clone(), c_seq[T].clone(), b["acts"], c_seq[1:]

    @staticmethod
    def backward(ctx, dout, dh_T, dc_T, _dacts, _dc_seq):
        s = dict(zip(SAVED, ctx.saved_tensors[: len(SAVED)], strict=True))
        p = dict(zip(PARAMS, ctx.saved_tensors[len(SAVED) :], strict=True))
        kind, x, weight_ih, weight_hh, acts = ctx.kind, s["x"], s["weight_ih"], s["weight_hh"], s["acts"]
        T, N, H = s["tanh_c"].shape
        zeros = partial(torch.zeros, dtype=x.dtype, device=x.device)
        layernorm, peephole, compiled = kind == "layernorm", kind == "peephole", kernels.available(x)
        g = {
            "dA": torch.empty_like(acts),  # (T, N, G*H): gradients of the pre-activations
            "dHW": torch.empty_like(acts) if layernorm else None,  # of the raw W_hh (m * h_{t-1}) (else dA)
            "dXW": torch.empty_like(acts) if layernorm and compiled else None,  # of the raw W_ih x_t (else dA)
            "carry": zeros(N, H) if dh_T is None else dh_T.clone(memory_format=torch.contiguous_format),
            "dc": zeros(N, H) if dc_T is None else dc_T.clone(memory_format=torch.contiguous_format),
            "dout": None if dout is None else dout.contiguous(),
        }
        for name in ("g_ci", "g_cf", "g_co"):
            g[name] = zeros(H) if peephole else None
        g["g_ln_c"] = zeros(H) if layernorm else None
        g["g_ln_bias_c"] = zeros(H) if layernorm and ctx.has_bias else None
        g["g_ln_hh"] = zeros(acts.shape[2]) if layernorm else None
        g["g_ln_ih"] = zeros(acts.shape[2]) if layernorm and compiled else None
        g["g_bias"] = zeros(acts.shape[2]) if ctx.has_bias and compiled else None
        backward_loop = kernels.backward if compiled else _backward_loop
        rec = backward_loop(kind, x, weight_hh, s, p, g)
        dh0 = g["carry"] + (rec if s["mask"] is None else rec * s["mask"])
        dA2 = g["dA"].view(T * N, -1)  # (T*N, G*H)
        dHW = g["dHW"] if layernorm else g["dA"]
        if compiled:  # the kernel summed the bias and went back through the input layer norm
            dbias, dln_ih = g["g_bias"], g["g_ln_ih"]
            dXW = (g["dXW"] if layernorm else g["dA"]).view(T * N, -1)
        else:
            dbias = dA2.sum(0) if ctx.has_bias else None
            dln_ih, dXW = None, dA2
            if layernorm:  # back through xw = g_ih LN(W_ih x) + b_ih
                dln_ih = (dA2 * s["xw_hat"]).sum(0)
                dXW = _layer_norm_backward(dA2 * p["ln_ih"], s["xw_hat"], s["xw_rstd"])
        dx = linear(dXW, weight_ih.t()).view(T, N, -1) if ctx.needs_input_grad[4] else None
        dweight_ih, dweight_hh = g.get("g_weight_ih"), g.get("g_weight_hh")
        if dweight_hh is None:  # one large product each over all T*N rows
            dweight_ih = linear(dXW.t().contiguous(), x.reshape(T * N, -1).t())
            dweight_hh = linear(dHW.view(T * N, -1).t().contiguous(), s["recurrent_inputs"].reshape(T * N, H).t())
        return (
            None,
            None,
            None,
            None,
            dx,
            dh0,
            g["dc"],
            dweight_ih,
            dweight_hh,
            dbias,
            dbias,
            g["g_ci"],
            g["g_cf"],
            g["g_co"],
            dln_ih,
            g["g_ln_hh"],
            g["g_ln_c"],
            g["g_ln_bias_c"],
        )


def run_direction(cell, p: dict, x: Tensor, *, state, keep, recurrent_mask, record: bool, kind: str):
    """Drop-in for ``native.run_direction`` (same arguments; recorded fields come whole, (T, N, .)).

    ``_Direction.apply`` takes its inputs positionally: torch's ``Function.apply`` accepts no keywords."""
    keep_h, keep_c = (k.contiguous() for k in keep) if keep is not None else (None, None)
    recurrent_mask = None if recurrent_mask is None else recurrent_mask.contiguous()
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


def why_not(config: RecurrentConfig) -> str | None:
    """Why the fast backend cannot run ``config``, or None if it can."""
    if config.kind not in KINDS:
        return f"cell {config.kind!r} (the fast backend has {', '.join(map(repr, KINDS))})"
    if config.proj_size:
        return "proj_size > 0"
    return None


def run(config: RecurrentConfig, weights: list[dict], x: Tensor, state, lengths, masks: DropoutMasks, record: bool):
    """As ``native.run``, with the hand-written per-direction Function."""
    runner = partial(run_direction, kind=config.kind)
    return native.run(config, weights, x, state, lengths, masks, record, per_direction=runner)
