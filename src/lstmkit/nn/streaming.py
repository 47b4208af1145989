"""One step at a time through a recurrent layer, with the state and a plan held: generation, live scoring.

A ``Stream`` reads one input row per call and returns the top layer's new hidden state, carrying the
state of every layer to the next call::

    stream = layer.stream(batch_size=1)       # or lstmkit.nn.Stream(layer, batch_size=1, hx=None)
    for x_t in inputs:                        # x_t (N, H_in), or (H_in,) for a stream of batch 1
        h_t = stream(x_t)                     # (N, P) (or (P,)): the layer's output at step t
    h_n, c_n = stream.state                   # as the layer returns them: (L, N, P), (L, N, H)

It computes the layer in eval mode (no dropout between layers, no recurrent dropout, no zoneout:
lstmkit's layers are deterministic and unregularized in eval mode), forward only, without autograd,
for every cell kind (lstm, peephole, coupled, layernorm, gru, rnn, rnn_relu), stacked layers and
projections included. Each call equals one step of the layer over the whole sequence, so
``[stream(x_t) for x_t in x]`` matches ``layer(x)[0]`` to rounding.

Two engines, one API (``Stream.compiled`` says which runs):

- compiled (``kernels.CompiledStream``), when the C extension was built and the layer is float32 or
  float64 on the CPU: one C call per step does every layer's two products (weights packed once, when the
  stream is made) and its cell step;
- torch, otherwise (no C compiler, ``LSTMKIT_KERNELS=0``, another device or dtype): the same math as
  ``lstmkit.nn.functional``, a dozen torch calls per layer and step, several times slower.

The parameters are copied when the stream is made: after changing the layer's weights, make a new stream.
"""

from __future__ import annotations

import torch
from torch import Tensor

from lstmkit.errors import ParameterError, ShapeError
from lstmkit.nn.backends import kernels
from lstmkit.nn.functional import CELLS


class _TorchSteps:
    """The torch engine: per layer, the cell's step of ``lstmkit.nn.functional`` on cloned parameters."""

    def __init__(self, kind: str, layers: list[dict], state_sizes: tuple[int, ...], N: int, dtype, device):
        self._cell = CELLS[kind]
        self._layers = [{k: None if v is None else v.detach().clone() for k, v in p.items()} for p in layers]
        self._states = [tuple(torch.zeros(N, size, dtype=dtype, device=device) for size in state_sizes) for _ in layers]

    def step(self, x: Tensor, out: Tensor) -> None:
        with torch.no_grad():
            for p, state in zip(self._layers, self._states, strict=True):
                xw = self._cell.project_input(x.unsqueeze(0), p)[0]
                new, _ = self._cell.step(xw, state[0] @ p["weight_hh"].t(), state, p)
                for held, value in zip(state, new, strict=True):
                    held.copy_(value)
                x = state[0]
            out.copy_(x)

    def states(self) -> list[tuple[Tensor, ...]]:
        return self._states


class Stream:
    """A recurrent layer (``lstmkit.nn.LSTM``, ``GRU`` or ``RNN``, any number of layers) advanced one step
    per call; see the module docstring.

    Args:
        layer: a unidirectional lstmkit layer.
        batch_size: N, the rows every call reads.
        hx: the initial state as the layer takes it (``(h_0, c_0)`` for the LSTM kinds, ``h_0`` otherwise,
            each (L, N, .)); zeros if None.
    """

    def __init__(self, layer, batch_size: int = 1, hx=None):
        if getattr(layer, "bidirectional", False):
            raise ParameterError(
                "a stream reads one step at a time, forward; a bidirectional layer needs the whole sequence"
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ParameterError(f"expected batch_size as an integer >= 1, got {batch_size!r}")
        weights = layer.layer_weights()
        like = weights[0]["weight_ih"]
        self.kind, self.batch_size, self.dtype, self.device = layer.cell, batch_size, like.dtype, like.device
        self.input_size, self.output_size = layer.input_size, layer.config.state_size
        self.has_cell_state = layer.config.spec.has_cell_state
        self._layer_state_check = layer._check_state
        self.compiled = kernels.available(like)
        if self.compiled:
            self._engine = kernels.CompiledStream(layer.cell, weights, batch_size, like.dtype)
        else:
            sizes = (layer.config.state_size, layer.hidden_size)[: 1 + self.has_cell_state]
            self._engine = _TorchSteps(layer.cell, weights, sizes, batch_size, like.dtype, like.device)
        self._shape = (batch_size, self.input_size)
        self._outputs = {  # batched or not -> an empty tensor like the output, for empty_like
            batched: torch.empty((batch_size, self.output_size)[1 - batched :], dtype=like.dtype, device=like.device)
            for batched in (True, False)
        }
        self.reset(hx)

    def reset(self, hx=None) -> None:
        """Start again from ``hx`` (as the constructor takes it), or from zeros."""
        like = torch.empty(0, dtype=self.dtype, device=self.device)
        given = self._layer_state_check(hx, self.batch_size, True, like)
        with torch.no_grad():
            for k, held in enumerate(self._engine.states()):
                for part, value in zip(held, given, strict=True):
                    part.copy_(value[k])

    @property
    def state(self):
        """The state after the last step, as the layer returns it: h_n (L, N, P), with c_n (L, N, H) for the
        LSTM kinds (copies)."""
        parts = tuple(torch.stack(part) for part in zip(*self._engine.states(), strict=True))
        return parts if self.has_cell_state else parts[0]

    def __call__(self, x: Tensor, *, out: Tensor | None = None) -> Tensor:
        """One step: x (N, H_in), or (H_in,) for a stream of batch 1 -> the top layer's h (N, P) or (P,).

        ``out``, a contiguous tensor of that shape and the stream's dtype and device, receives h instead of
        a new tensor.
        """
        if not isinstance(x, Tensor):
            raise ShapeError(f"expected input as a torch.Tensor of shape {self._shape}, got {type(x).__name__}")
        shape = x.shape
        batched = shape == self._shape
        if not batched and not (self.batch_size == 1 and shape == self._shape[1:]):
            unbatched = f" or ({self.input_size},)" if self.batch_size == 1 else ""
            raise ShapeError(f"expected input of shape {self._shape}{unbatched}, got {tuple(shape)}")
        if x.dtype != self.dtype:
            raise ShapeError(f"expected input of dtype {self.dtype} like the layer, got {x.dtype}")
        template = self._outputs[batched]
        if out is None:
            out = torch.empty_like(template)
        elif out.shape != template.shape or out.dtype != self.dtype or out.device != self.device:
            raise ShapeError(
                f"expected out of shape {tuple(template.shape)}, {self.dtype} on {self.device}, "
                f"got {tuple(out.shape)}, {out.dtype} on {out.device}"
            )
        elif not out.is_contiguous():
            raise ShapeError("expected a contiguous out")
        if self.compiled and not x.is_cpu:
            raise ShapeError(f"expected input on the stream's device (cpu), got {x.device}")
        if batched:
            self._engine.step(x if x.is_contiguous() else x.contiguous(), out)
        else:
            self._engine.step(x.reshape(self._shape), out.view(self._outputs[True].shape))
        return out

    def __repr__(self) -> str:
        engine = "compiled" if self.compiled else "torch"
        return f"Stream({self.kind}, batch_size={self.batch_size}, {engine})"
