"""One-step modules: drop-in ``torch.nn.LSTMCell``, ``GRUCell`` and ``RNNCell``, with the variants.

They compute one step of the same math as the layers (``lstmkit.nn.functional``; the vanilla cells call
torch's own fused cell kernel, as torch.nn's cells do), with torch.nn's
parameter names (``weight_ih`` (G*H, H_in), ``weight_hh`` (G*H, H), ``bias_ih``, ``bias_hh``) and
the variants' own (``weight_ci`` ...). Input (N, H_in) or unbatched (H_in,).
"""

from __future__ import annotations

import torch
from torch import _VF, Tensor, nn

from lstmkit import specs
from lstmkit.errors import ParameterError, ShapeError
from lstmkit.nn import parameters
from lstmkit.nn.backends import kernels
from lstmkit.nn.backends.fast import KINDS as COMPILED_STEPS
from lstmkit.nn.functional import CELLS
from lstmkit.specs import RecurrentConfig

FUSED_CELLS = {"lstm": _VF.lstm_cell, "gru": _VF.gru_cell, "rnn": _VF.rnn_tanh_cell, "rnn_relu": _VF.rnn_relu_cell}


class RecurrentCell(nn.Module):
    cells: tuple[str, ...] = ()

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        bias: bool,
        device,
        dtype,
        forget_bias: float | None = None,
        input_bias: float | None = None,
    ):
        super().__init__()
        if cell not in self.cells:
            raise ParameterError(f"{type(self).__name__} takes cell in {self.cells}, got {cell!r}")
        parameters.check_sizes(cell, input_size, hidden_size, 1, 0, 0.0)
        specs.check_gate_biases(cell, bias, forget_bias, input_bias)
        self.cell, self.input_size, self.hidden_size, self.bias = cell, input_size, hidden_size, bias
        self.forget_bias, self.input_bias = forget_bias, input_bias
        self.config = RecurrentConfig(cell, input_size, hidden_size, bias=bias)
        self._parameter_names = parameters.create(self, self.config, suffix=False, device=device, dtype=dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        parameters.reset(self, self._parameter_names, self.config, self.forget_bias, self.input_bias)

    def _needs_grad(self, x: Tensor, state: tuple[Tensor, ...]) -> bool:
        return x.requires_grad or any(s.requires_grad for s in state) or any(p.requires_grad for p in self.parameters())

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias}, cell={self.cell!r}"

    def _step(self, x: Tensor, hx) -> tuple[Tensor, ...]:
        if not isinstance(x, Tensor) or x.dim() not in (1, 2) or x.shape[-1] != self.input_size:
            got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ShapeError(f"expected input of shape (N, {self.input_size}) or ({self.input_size},), got {got}")
        if x.dtype != self.weight_ih.dtype:
            raise ShapeError(f"expected input of dtype {self.weight_ih.dtype} like the parameters, got {x.dtype}")
        batched = x.dim() == 2
        x = x if batched else x.unsqueeze(0)
        has_cell = self.config.spec.has_cell_state
        N, H = x.shape[0], self.hidden_size
        if hx is None:
            state = tuple(torch.zeros(N, H, dtype=x.dtype, device=x.device) for _ in range(1 + has_cell))
        else:
            parts = tuple(hx) if has_cell else (hx,)
            want = (N, H) if batched else (H,)
            if len(parts) != 1 + has_cell or any(tuple(p.shape) != want for p in parts):
                got = [tuple(p.shape) for p in parts] if all(isinstance(p, Tensor) for p in parts) else hx
                raise ShapeError(f"expected hx as {'(h, c), each' if has_cell else 'h'} of shape {want}, got {got}")
            state = parts if batched else tuple(p.unsqueeze(0) for p in parts)
        if self.cell in FUSED_CELLS:  # the vanilla cells: torch's own kernel, as torch.nn.LSTMCell calls it
            hx_arg = state if has_cell else state[0]
            result = FUSED_CELLS[self.cell](
                x,
                hx_arg,
                self.weight_ih,
                self.weight_hh,
                getattr(self, "bias_ih", None),
                getattr(self, "bias_hh", None),
            )
            state = tuple(result) if has_cell else (result,)
            return state if batched else tuple(s.squeeze(0) for s in state)
        p = {
            base: getattr(self, base, None)
            for base in (
                "weight_ih",
                "weight_hh",
                "bias_ih",
                "bias_hh",
                *(e.name for e in self.config.spec.extra_params),
            )
        }
        if (
            self.cell in COMPILED_STEPS
            and kernels.available(x)
            and len(x) > 0
            and not (torch.is_grad_enabled() and self._needs_grad(x, state))
        ):
            state = kernels.step(self.cell, x, state[0], state[1], p)
            return state if batched else tuple(s.squeeze(0) for s in state)
        torch_cell = CELLS[self.cell]
        xw = torch_cell.project_input(x.unsqueeze(0), p)[0]  # (N, G*H)
        state, _ = torch_cell.step(xw, state[0] @ self.weight_hh.t(), state, p)
        return state if batched else tuple(s.squeeze(0) for s in state)


class LSTMCell(RecurrentCell):
    """One LSTM step: ``(h_1, c_1) = cell(x, (h_0, c_0))``; ``cell=`` as in ``lstmkit.nn.LSTM``."""

    cells = ("lstm", "peephole", "coupled", "layernorm")

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device=None,
        dtype=None,
        *,
        cell: str = "lstm",
        forget_bias: float | None = None,
        input_bias: float | None = None,
    ):
        super().__init__(cell, input_size, hidden_size, bias, device, dtype, forget_bias, input_bias)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        return self._step(input, hx)


class GRUCell(RecurrentCell):
    """One GRU step: ``h_1 = cell(x, h_0)``."""

    cells = ("gru",)

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__("gru", input_size, hidden_size, bias, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        return self._step(input, hx)[0]


class RNNCell(RecurrentCell):
    """One vanilla RNN step: ``h_1 = cell(x, h_0)`` with tanh or relu."""

    cells = ("rnn", "rnn_relu")

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh", device=None, dtype=None
    ):
        if nonlinearity not in ("tanh", "relu"):
            raise ParameterError(f"expected nonlinearity 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__("rnn" if nonlinearity == "tanh" else "rnn_relu", input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        return self._step(input, hx)[0]
