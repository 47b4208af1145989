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

from collections.abc import Callable
from dataclasses import dataclass

from lstmkit.errors import ParameterError
from lstmkit.nn.backends import fast, fused, native
from lstmkit.specs import RecurrentConfig


@dataclass(frozen=True)
class Call:
    """What one forward asks of a backend."""

    config: RecurrentConfig
    stochastic_recurrence: bool = False  # recurrent dropout or zoneout in training mode
    return_gates: bool = False
    masks: bool = False  # fixed dropout masks given by the caller


@dataclass(frozen=True)
class Backend:
    """A named implementation: why it cannot run a call (None if it can), and how it runs one.

    ``run(layer, x, state, lengths, masks, record) -> (out, final, records)``; ``takes_masks``: whether it
    applies lstmkit's dropout masks (else it draws its own dropout, as torch's kernels do).
    """

    name: str
    why_not: Callable[[Call], str | None]
    run: Callable
    takes_masks: bool


def _fused_why_not(call: Call) -> str | None:
    if call.config.kind not in fused.KERNELS:
        return f"cell {call.config.kind!r} (torch's kernels have {', '.join(map(repr, fused.KERNELS))})"
    if call.stochastic_recurrence:
        return "recurrent_dropout or zoneout in training mode"
    if call.return_gates:
        return "return_gates=True"
    if call.masks:
        return "fixed masks"
    return None


def _run_fused(layer, x, state, lengths, masks, record):
    out, final = fused.run(layer.config, layer.flat_weights(), x, state, lengths, layer.dropout, layer.training)
    return out, final, None


def _run_loop(module):
    def run(layer, x, state, lengths, masks, record):
        return module.run(layer.config, layer.layer_weights(), x, state, lengths, masks, record)

    return run


REGISTRY = {
    backend.name: backend
    for backend in (
        Backend("native", lambda call: None, _run_loop(native), takes_masks=True),
        Backend("fused", _fused_why_not, _run_fused, takes_masks=False),
        Backend("fast", lambda call: fast.why_not(call.config), _run_loop(fast), takes_masks=True),
    )
}
AUTO = ("fused", "fast", "native")  # "auto" takes the first that can run the call
BACKENDS = ("auto", *REGISTRY)


def check_backend(name: str) -> str:
    if name not in BACKENDS:
        raise ParameterError(f"unknown backend {name!r}; expected one of {', '.join(map(repr, BACKENDS))}")
    return name


def choose(name: str, call: Call) -> Backend:
    """The backend that runs ``call``: ``name`` itself (a ParameterError saying why if it cannot), or for
    ``auto`` the first of AUTO that can."""
    if name == "auto":
        return next(REGISTRY[n] for n in AUTO if REGISTRY[n].why_not(call) is None)
    backend = REGISTRY[name]
    reason = backend.why_not(call)
    if reason is not None:
        raise ParameterError(f"backend {name!r} cannot run {reason}; use backend='native' or 'auto'")
    return backend
