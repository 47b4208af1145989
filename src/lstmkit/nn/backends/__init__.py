"""Backend registry: which implementation runs a layer's forward.

- ``native``: the readable time loop (every cell and option; gate traces); the torch-side oracle.
- ``fused``: torch's own kernels, for what ``torch.nn.LSTM/GRU/RNN`` support.
- ``fast``: the LSTM, peephole, coupled and layer-normalized cells with a hand-written backward and
  every option but projections (recurrent dropout, zoneout, lengths, gate traces); its time loop is
  compiled (``kernels``) when the C extension was built, else it runs in torch.
- ``auto``: ``fused`` whenever it can honour the call, else ``fast``, else ``native``.

A backend asked for something it cannot do raises a ``ParameterError`` that says why; nothing is
silently ignored.
"""

from __future__ import annotations

from lstmkit.errors import ParameterError
from lstmkit.nn.backends import fast
from lstmkit.nn.backends.fused import KERNELS as FUSED_KINDS
from lstmkit.specs import RecurrentConfig

BACKENDS = ("auto", "native", "fused", "fast")


def check_backend(name: str) -> str:
    if name not in BACKENDS:
        raise ParameterError(f"unknown backend {name!r}; expected one of {', '.join(map(repr, BACKENDS))}")
    return name


def fused_refusal(kind: str, stochastic_recurrence: bool, return_gates: bool, masks: bool) -> str | None:
    """Why the fused backend cannot run this call, or None if it can."""
    if kind not in FUSED_KINDS:
        return f"cell {kind!r} (torch's kernels have {', '.join(map(repr, FUSED_KINDS))})"
    if stochastic_recurrence:
        return "recurrent_dropout or zoneout in training mode"
    if return_gates:
        return "return_gates=True"
    if masks:
        return "fixed masks"
    return None


def choose(name: str, config: RecurrentConfig, stochastic_recurrence: bool, return_gates: bool, masks: bool) -> str:
    """The backend that runs this call: ``name`` itself, or for ``auto`` the fastest that can."""
    refusal = fused_refusal(config.kind, stochastic_recurrence, return_gates, masks)
    fast_refusal = fast.supports(config)
    if name == "auto":
        return "fused" if not refusal else ("fast" if not fast_refusal else "native")
    if name == "fused" and refusal:
        raise ParameterError(f"backend 'fused' cannot run {refusal}; use backend='native' or 'auto'")
    if name == "fast" and fast_refusal:
        raise ParameterError(f"backend 'fast' cannot run {fast_refusal}; use backend='native' or 'auto'")
    return name
