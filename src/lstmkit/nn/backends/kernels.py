"""The fast backend's compiled time loop (``_kernels.c``), when it was built, and how to drive it.

The C module runs a whole step of a cell (gates, cell state, layer norms, held units, recurrent mask,
and the backward of all of these) as one call over preallocated tensors, instead of a dozen torch
operations. The step's recurrent product is made

- in C (``_kernels_gemm.h``: W_hh packed once per sequence, 512-bit vectors where the CPU has them),
  for all T steps in one call, the batch rows split over torch's threads when the module was built with
  OpenMP: always backward (where the weight gradients are formed step by step too), and forward whenever
  the loop can use as many threads as torch, or the product is small;
- in Python, through ``linear`` (oneDNN for float32), one call per step, forward, only when a module built
  without OpenMP meets a large product and several torch threads.

``CompiledStream`` drives the other entry of the module: a stack of layers advanced one step per call
(``lstmkit.nn.Stream``).

When the extension is missing (no compiler at install), or for tensors it does not handle (not on the
CPU, not float32/float64), ``available`` is False and fast.py runs its loop in torch instead. Setting
``LSTMKIT_KERNELS=0`` in the environment turns the extension off.
"""

from __future__ import annotations

import os
from functools import partial

import torch
from torch import Tensor

from lstmkit.nn.functional import LN_EPS
from lstmkit.specs import get_spec

try:
    from lstmkit.nn.backends import _kernels
except ImportError:  # built without a C compiler: fast.py's torch loop runs instead
    _kernels = None

ENABLED = _kernels is not None and os.environ.get("LSTMKIT_KERNELS", "1") != "0"
WIDE_VECTORS = ENABLED and bool(_kernels.WIDE_VECTORS)  # the CPU has 512-bit vectors for the products
THREADED = ENABLED and bool(_kernels.THREADED)  # built with OpenMP: the loop splits batch rows over torch's threads
KIND_CODES = {"lstm": 0, "peephole": 1, "coupled": 2, "layernorm": 3}  # the time loop's kinds
STREAM_KIND_CODES = {**KIND_CODES, "gru": 4, "rnn": 5, "rnn_relu": 6}  # a stream runs every kind
DTYPE_CODES = {torch.float32: 0, torch.float64: 1}
PARAMETER_NAMES = {  # plan name -> the layer's parameter (base name)
    "w_ci": "weight_ci",
    "w_cf": "weight_cf",
    "w_co": "weight_co",
    "ln_ih": "ln_weight_ih",
    "ln_hh": "ln_weight_hh",
    "bias_ih": "bias_ih",
    "bias_hh": "bias_hh",
    "ln_c": "ln_weight_c",
    "ln_bias_c": "ln_bias_c",
}
ONEDNN = torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")
SMALL_PRODUCT_FLOPS = 3e6  # below this, MKL (through torch) beats a oneDNN call from Python here
# The tensors a plan reads or writes, by the names _kernels.c takes.
FIELDS = frozenset(
    """acts h_seq c_seq c_new tanh_c h_in mask recurrent_inputs weight_hh scratch keep_h keep_c w_ci w_cf w_co
    ln_hh bias_hh ln_c ln_bias_c hw_hat hw_rstd c_hat c_rstd x ln_ih bias_ih xw_hat xw_rstd dA dHW dXW dout carry
    dc rec g_ci g_cf g_co g_ln_c g_ln_bias_c g_ln_hh g_ln_ih g_bias g_weight_ih g_weight_hh weight_ih weight_hr
    gate_bias state_h""".split()  # noqa: SIM905
)


def available(x: Tensor) -> bool:
    """Whether the compiled loop runs a layer with input ``x``."""
    return ENABLED and x.device.type == "cpu" and x.dtype in DTYPE_CODES


def bernoulli(shape: tuple[int, ...], p: float, device: torch.device) -> Tensor:
    """A bool tensor of ``shape``, each element True with probability ``p``, independently.

    On the CPU with the extension built, drawn in C by a counter-based generator (splitmix64, 32-bit
    uniforms: p resolved to 2^-32) about 15x faster than ``torch.rand(shape) < p``, from a seed taken
    from torch's default generator, so ``torch.manual_seed`` still fixes every mask. Elsewhere, torch's.
    """
    if not (ENABLED and torch.device(device).type == "cpu"):
        return torch.rand(shape, device=device) < p
    out = torch.empty(shape, dtype=torch.bool)
    seed = int(torch.randint(0, 2**62, (1,)).item())
    _kernels.bernoulli(out.data_ptr(), out.numel(), p, seed)
    return out


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight^T (+ bias), x (M, K), weight (N, K).

    Large float32 products on the CPU go to oneDNN's matrix kernel when torch has it (about twice
    torch.mm's speed here); small ones and everything else to torch's linear.
    """
    M, K = x.shape
    large = 2 * M * K * weight.shape[0] >= SMALL_PRODUCT_FLOPS
    if ONEDNN and large and x.dtype == torch.float32 and x.device.type == "cpu":
        return torch.ops.mkldnn._linear_pointwise(x.contiguous(), weight.contiguous(), bias, "none", [], "")
    return torch.nn.functional.linear(x, weight, bias)


def threads() -> int:
    """How many threads the compiled loop splits a batch over: torch's count, where it was built with OpenMP."""
    return torch.get_num_threads() if THREADED else 1


def products_in_c(x: Tensor, N: int, H: int, G: int, backward: bool) -> bool:
    """Whether each step's recurrent product (N, H) x (H, G*H) is made in C rather than by torch.

    In C whenever the loop can use as many threads as torch (``threads()``), and always in the backward pass:
    there the C loop also forms the weight gradients step by step, which beats torch's large products and
    their transposed copies. Only a forward on several torch threads by a loop built without OpenMP leaves
    large products to torch (oneDNN), one call per step.
    """
    return backward or threads() == torch.get_num_threads() or 2 * N * H * G * H < SMALL_PRODUCT_FLOPS


def _plan(kind: str, x: Tensor, T: int, N: int, H: int, G: int, products: bool, tensors: dict, proj_size: int = 0):
    """The C plan over those of ``tensors`` (name -> tensor or None) it uses; each must be contiguous and
    stay alive while the plan runs."""
    pointers = {}
    for name, value in tensors.items():
        if value is not None and name in FIELDS:
            if not value.is_contiguous():
                raise ValueError(f"kernel tensor {name!r} is not contiguous")
            pointers[name] = value.data_ptr()
    input_size = x.shape[-1]
    code = STREAM_KIND_CODES[kind]
    return _kernels.plan(
        code, DTYPE_CODES[x.dtype], T, N, H, G, input_size, proj_size, LN_EPS, products, WIDE_VECTORS, pointers
    )


def forward(kind: str, x: Tensor, weight_hh: Tensor, buffers: dict, params: dict) -> None:
    """Run all T steps forward, filling ``buffers`` (see fast._Direction.forward for their shapes).

    On entry acts holds W_ih x_t + b_ih + b_hh (layernorm: W_ih x_t alone, normalized here), h_seq[0] and
    c_seq[0] the initial state and, with a recurrent mask, h_in[0] = m * h_0; recurrent_inputs is what
    W_hh multiplies (h_in, or h_seq[:-1] without a mask).
    """
    T, N, GH = buffers["acts"].shape
    H = weight_hh.shape[1]
    G = GH // H
    in_c = products_in_c(x, N, H, G, backward=False)
    scratch = torch.empty(N, GH, dtype=x.dtype) if in_c else None
    plan = _plan(kind, x, T, N, H, G, in_c, {**buffers, **params, "weight_hh": weight_hh, "scratch": scratch})
    if in_c:
        _kernels.forward(plan, 0, T, None, threads())
        return
    for t in range(T):
        hw = linear(buffers["recurrent_inputs"][t], weight_hh)  # (N, G*H), alive until the step has read it
        _kernels.forward(plan, t, t + 1, hw.data_ptr())


def step(kind: str, x: Tensor, h: Tensor, c: Tensor, p: dict) -> tuple[Tensor, Tensor]:
    """One step of a cell, without autograd: x (N, H_in), h, c (N, H) -> h_1, c_1 (the streaming path).

    Both products come from torch (with the biases, except for layernorm, whose biases follow its
    normalizations); everything after them is one compiled call.
    """
    N, H = h.shape
    GH = p["weight_hh"].shape[0]
    empty = partial(torch.empty, dtype=x.dtype, device=x.device)
    layernorm = kind == "layernorm"
    if layernorm or p["bias_ih"] is None:
        acts, hw = torch.mm(x, p["weight_ih"].t()), torch.mm(h, p["weight_hh"].t())
    else:
        acts, hw = torch.addmm(p["bias_ih"], x, p["weight_ih"].t()), torch.addmm(p["bias_hh"], h, p["weight_hh"].t())
    states = empty(5, N, H)  # h_seq (2), c_seq (2), tanh_c (1) in one allocation
    states[2].copy_(c)
    buffers = {"acts": acts, "h_seq": states[:2], "c_seq": states[2:4], "tanh_c": states[4:]}
    if layernorm:
        buffers.update(xw_hat=empty(N, GH), hw_hat=empty(N, GH), c_hat=empty(N, H), xw_rstd=empty(N), hw_rstd=empty(N))
        buffers["c_rstd"] = empty(N)
    params = {name: p.get(key) for name, key in PARAMETER_NAMES.items()}
    plan = _plan(kind, x, 1, N, H, GH // H, False, {**buffers, **params, "recurrent_inputs": h})
    _kernels.forward(plan, 0, 1, hw.data_ptr())
    return states[1], states[3]


def backward(kind: str, x: Tensor, weight_hh: Tensor, saved: dict, params: dict, grads: dict) -> Tensor:
    """Run all T steps backward; returns dHW[0] W_hh (N, H), the gradient reaching m * h_0 through W_hh.

    ``grads`` holds dA, dHW and dXW (layernorm), carry (dL/dh_T), dc (dL/dc_T), dout (or None) and
    zeroed accumulators for the small parameters and the bias (g_bias, or None without biases). On
    return carry and dc hold what reaches h_0 through held units and dL/dc_0; when the products were
    made in C, grads also holds g_weight_ih and g_weight_hh.
    """
    T, N, GH = saved["acts"].shape
    H = weight_hh.shape[1]
    G = GH // H
    in_c = products_in_c(x, N, H, G, backward=True)
    zeros = partial(torch.zeros, dtype=x.dtype, device=x.device)
    if in_c:
        grads["g_weight_ih"], grads["g_weight_hh"] = zeros(GH, x.shape[2]), zeros(GH, H)
    rec = zeros(N, H) if in_c else None
    tensors = {**saved, **params, **grads, "x": x.contiguous(), "weight_hh": weight_hh, "rec": rec}
    plan = _plan(kind, x, T, N, H, G, in_c, tensors)
    if in_c:
        _kernels.backward(plan, 0, T, None, threads())
        return rec
    dHW = grads["dHW"] if grads.get("dHW") is not None else grads["dA"]
    weight_hh_t = weight_hh.t().contiguous()
    for t in reversed(range(T)):
        _kernels.backward(plan, t, t + 1, None if rec is None else rec.data_ptr())
        rec = linear(dHW[t], weight_hh_t)
    return rec


class CompiledStream:
    """A stack of layers advanced one step per call by one C call (``_kernels_stream.h``): both products and
    the cell's step for every layer, no autograd, nothing allocated.

    ``layers`` holds each layer's parameters under base names (``weight_ih``, ``weight_hh``, ``bias_ih`` ...,
    absent ones None), bottom first. They are copied when the stream is made: the weights packed into
    panels, the small parameters cloned. The state lives in ``state_h`` (N, P) per layer and, for the
    LSTM kinds, ``c_seq[0]`` (N, H).
    """

    def __init__(self, kind: str, layers: list[dict], N: int, dtype: torch.dtype):
        G = get_spec(kind).num_chunks
        lstm_kind, layernorm = kind in KIND_CODES, kind == "layernorm"
        empty = partial(torch.empty, dtype=dtype)
        self._tensors, plans = [], []
        for p in layers:
            GH, I = p["weight_ih"].shape
            H = GH // G
            P = p["weight_hh"].shape[1]
            t = {name: (None if value is None else value.detach().contiguous().clone()) for name, value in p.items()}
            t["acts"], t["state_h"] = empty(N, GH), torch.zeros(N, P, dtype=dtype)
            if kind == "gru":
                t["gate_bias"] = t["bias_ih"]
            elif not layernorm and t["bias_ih"] is not None:
                t["gate_bias"] = t["bias_ih"] + t["bias_hh"]
            if kind == "gru" or layernorm:
                t["scratch"] = empty(N, GH)
            if lstm_kind:
                t.update(h_seq=torch.zeros(2, N, H, dtype=dtype), c_seq=torch.zeros(2, N, H, dtype=dtype))
                t["tanh_c"] = empty(N, H)
            if layernorm:
                t.update(xw_hat=empty(N, GH), hw_hat=empty(N, GH), c_hat=empty(N, H))
                t.update(xw_rstd=empty(N), hw_rstd=empty(N), c_rstd=empty(N))
            tensors = {**{name: t.get(key) for name, key in PARAMETER_NAMES.items()}, **t}
            like = torch.empty(0, I, dtype=dtype)
            plans.append(_plan(kind, like, 1, N, H, G, False, tensors, proj_size=P if P != H else 0))
            self._tensors.append(t)
        self._stream = _kernels.stream(plans)
        self._step = _kernels.stream_step

    def step(self, x: Tensor, out: Tensor) -> None:
        """x (N, I) contiguous, of the stream's dtype -> out (N, P), the top layer's new state."""
        self._step(self._stream, x.data_ptr(), out.data_ptr())

    def products(self, x: Tensor, repeats: int) -> None:
        """Each layer's two products alone, ``repeats`` times in one C call (a benchmark's floor): the
        state is left as it was, the products' buffers are overwritten."""
        _kernels.stream_products(self._stream, x.data_ptr(), repeats)

    def states(self) -> list[tuple[Tensor, ...]]:
        """Per layer, views of (h (N, P),) or (h, c (N, H)): the state the next step reads."""
        return [(t["state_h"], t["c_seq"][0]) if "c_seq" in t else (t["state_h"],) for t in self._tensors]
