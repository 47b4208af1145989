"""LSTM, GRU and RNN layers: drop-in for ``torch.nn.LSTM/GRU/RNN``, plus what torch lacks.

Same arguments (in the same positions), parameter names, shapes and gate orders as torch.nn, so
``state_dict``\\s move both ways unchanged. Added, keyword-only: the cell variant (``cell=``),
recurrent (variational) dropout, zoneout, forget/input-gate bias init, ``lengths=`` for masking
without packing, gate traces, and a choice of backend.

Shapes (time-first unless ``batch_first``): input (T, N, H_in) or unbatched (T, H_in), or a
``PackedSequence``; output (T, N, D*P); h_n (L*D, N, P); c_n (L*D, N, H). ``P`` is ``proj_size``
if set, else ``H``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from lstmkit import specs
from lstmkit.errors import DataError, ParameterError, ParameterTypeError, ShapeError
from lstmkit.masks import DropoutMasks
from lstmkit.nn import backends, dropout, parameters
from lstmkit.nn.backends import fused
from lstmkit.nn.functional import reverse_time
from lstmkit.nn.streaming import Stream
from lstmkit.specs import RecurrentConfig, get_spec, param_name
from lstmkit.trace import GateTrace


class RecurrentLayer(nn.Module):
    """What LSTM, GRU and RNN share: parameters, argument checks, input handling, dispatch."""

    cells: tuple[str, ...] = ()

    def __init__(
        self,
        cell: str,
        *,
        input_size: int,
        hidden_size: int,
        num_layers: int,
        bias: bool,
        batch_first: bool,
        dropout: float,
        bidirectional: bool,
        proj_size: int,
        device,
        dtype,
        recurrent_dropout: float,
        zoneout: float,
        forget_bias: float | None,
        input_bias: float | None,
        backend: str,
    ):
        super().__init__()
        get_spec(cell)
        for name, value in (("bias", bias), ("batch_first", batch_first)):
            if not isinstance(value, bool):
                raise ParameterTypeError(
                    f"expected {name} to be True or False, got {value!r} of type {type(value).__name__}"
                )
        if cell not in self.cells:
            raise ParameterError(f"{type(self).__name__} takes cell in {self.cells}, got {cell!r}")
        parameters.check_sizes(
            cell,
            input_size,
            hidden_size,
            num_layers,
            proj_size,
            dropout,
            recurrent_dropout=recurrent_dropout,
            zoneout=zoneout,
        )
        specs.check_gate_biases(cell, bias, forget_bias, input_bias)
        self.backend = backends.check_backend(backend)
        if backend != "auto":  # refuse at construction what the chosen backend can never run
            config = RecurrentConfig(cell, input_size, hidden_size, num_layers, bidirectional, bias, proj_size)
            backends.choose(backend, backends.Call(config, stochastic_recurrence=bool(recurrent_dropout or zoneout)))
        self.cell = cell
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        self.recurrent_dropout, self.zoneout = float(recurrent_dropout), float(zoneout)
        self.forget_bias, self.input_bias = forget_bias, input_bias
        self.config = RecurrentConfig(cell, input_size, hidden_size, num_layers, bidirectional, bias, proj_size)
        self._parameter_names = parameters.create(self, self.config, suffix=True, device=device, dtype=dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        parameters.reset(self, self._parameter_names, self.config, self.forget_bias, self.input_bias)

    def extra_repr(self) -> str:
        options = [f"{self.input_size}, {self.hidden_size}"]
        defaults = {
            "num_layers": 1,
            "bias": True,
            "batch_first": False,
            "dropout": 0.0,
            "bidirectional": False,
            "proj_size": 0,
            "recurrent_dropout": 0.0,
            "zoneout": 0.0,
            "forget_bias": None,
            "input_bias": None,
            "backend": "auto",
        }
        options += [f"{k}={getattr(self, k)!r}" for k, v in defaults.items() if getattr(self, k) != v]
        return ", ".join([*options, f"cell={self.cell!r}"])

    def flat_weights(self) -> list[Tensor]:
        """The parameters in torch.nn's flat order (what torch's kernels take)."""
        return [
            getattr(self, name)
            for name in self._parameter_names
            if name.split("_l")[0] in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
        ]

    def layer_weights(self) -> list[dict[str, Tensor | None]]:
        """Per layer and direction, the parameters under base names; absent biases as None."""
        spec = self.config.spec
        bases = ["weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr", *(e.name for e in spec.extra_params)]
        return [
            {base: getattr(self, param_name(base, layer, bool(reverse)), None) for base in bases}
            for layer in range(self.num_layers)
            for reverse in range(self.config.num_directions)
        ]

    def stream(self, batch_size: int = 1, hx=None) -> Stream:
        """A ``Stream`` over this layer: one step per call, the state and a plan held (see
        ``lstmkit.nn.streaming``); the parameters are copied now."""
        return Stream(self, batch_size, hx)

    # ---- input handling ------------------------------------------------------------------------

    def state_shapes(self, N: int) -> list[tuple[int, int, int]]:
        LD = self.num_layers * self.config.num_directions
        shapes = [(LD, N, self.config.state_size)]
        if self.config.spec.has_cell_state:
            shapes.append((LD, N, self.hidden_size))
        return shapes

    def _check_state(self, hx, N: int, batched: bool, x: Tensor) -> tuple[Tensor, ...]:
        shapes = self.state_shapes(N)
        if hx is None:
            return tuple(torch.zeros(s, dtype=x.dtype, device=x.device) for s in shapes)
        has_cell = self.config.spec.has_cell_state
        parts = hx if has_cell else (hx,)
        want = " and ".join(str(s if batched else (s[0], s[2])) for s in shapes)
        if has_cell != isinstance(hx, tuple | list) or len(parts) != len(shapes):
            what = "a tuple (h_0, c_0)" if has_cell else "a tensor h_0"
            raise ShapeError(f"expected hx as {what} of shape {want}, got {type(hx).__name__}")
        if not all(isinstance(p, Tensor) for p in parts):
            raise ShapeError(f"expected hx as tensors of shape {want}, got {[type(p).__name__ for p in parts]}")
        parts = tuple(p if batched else p.unsqueeze(1) for p in parts)
        if any(tuple(p.shape) != s for p, s in zip(parts, shapes, strict=True)):
            got = " and ".join(str(tuple(p.shape) if batched else (p.shape[0], p.shape[2])) for p in parts)
            raise ShapeError(f"expected hx of shape {want}, got {got}")
        if any(p.dtype != x.dtype for p in parts):
            raise ShapeError(f"expected hx of dtype {x.dtype} like the input, got {[p.dtype for p in parts]}")
        return parts

    def _check_input(self, x) -> Tensor:
        if not isinstance(x, Tensor):
            raise ShapeError(f"expected input as a torch.Tensor or PackedSequence, got {type(x).__name__}")
        order = "(N, T, {0}) with batch_first=True" if self.batch_first else "(T, N, {0})"
        expected = f"input of shape {order.format(self.input_size)} or (T, {self.input_size})"
        if x.dim() not in (2, 3) or x.shape[-1] != self.input_size or 0 in x.shape:
            raise ShapeError(f"expected {expected}, got {tuple(x.shape)}")
        return self._check_dtype(x)

    def _check_dtype(self, x: Tensor) -> Tensor:
        if x.dtype != self.weight_ih_l0.dtype:
            raise ShapeError(f"expected input of dtype {self.weight_ih_l0.dtype} like the parameters, got {x.dtype}")
        return x

    @staticmethod
    def _check_lengths(lengths, T: int, N: int, device) -> Tensor:
        try:
            values = torch.as_tensor(np.asarray(lengths) if not isinstance(lengths, Tensor) else lengths)
        except (TypeError, ValueError, RuntimeError):
            raise DataError(f"expected lengths as {N} integers, got {lengths!r:.80}") from None
        if values.shape != (N,):
            raise ShapeError(f"expected lengths of shape ({N},), one per sequence, got {tuple(values.shape)}")
        if values.is_floating_point() or values.dtype == torch.bool:
            raise DataError(f"expected integer lengths, got {values.dtype}")
        bad = ((values < 1) | (values > T)).nonzero().flatten()
        if len(bad):
            raise DataError(
                f"expected every length in [1, {T}] (T = {T}), got {values[bad].tolist()} at positions {bad.tolist()}"
            )
        return values.to(device=device, dtype=torch.long)

    # ---- forward -------------------------------------------------------------------------------

    def forward(self, input, hx=None, *, lengths=None, return_gates: bool = False, masks: DropoutMasks | None = None):
        """Run the layer; see the class docstring for shapes.

        Args:
            input: (T, N, H_in), (N, T, H_in) with ``batch_first``, unbatched (T, H_in), or a PackedSequence.
            hx: initial state, ``(h_0, c_0)`` for LSTMs, ``h_0`` otherwise; zeros if None.
            lengths: (N,) valid steps of each sequence (masking without sorting or packing).
            return_gates: also return a ``GateTrace`` of this very computation.
            masks: fixed ``DropoutMasks`` to use instead of sampling (training mode), e.g. to compare
                with ``lstmkit.reference``.

        Returns:
            output, h_n (GRU/RNN) or (h_n, c_n) (LSTM), and the trace if ``return_gates``.
        """
        packed = isinstance(input, PackedSequence)
        stochastic = self.training and bool(self.recurrent_dropout or self.zoneout)
        call = backends.Call(self.config, stochastic, return_gates, masks is not None)
        backend = backends.choose(self.backend, call)
        if packed:
            if lengths is not None:
                raise ParameterError("give lengths or a PackedSequence, not both")
            if backend.name == "fused":
                return self._forward_packed(input, hx)
            x, lengths = pad_packed_sequence(input)
            batched = True
            if x.dtype != self.weight_ih_l0.dtype:
                raise ShapeError(
                    f"expected input of dtype {self.weight_ih_l0.dtype} like the parameters, got {x.dtype}"
                )
        else:
            x = self._check_input(input)
            batched = x.dim() == 3
            x = x.unsqueeze(1) if not batched else (x.transpose(0, 1) if self.batch_first else x)  # (T, N, H_in)
        T, N = x.shape[:2]
        if lengths is not None:
            lengths = self._check_lengths(lengths, T, N, x.device)
        state = self._check_state(hx, N, batched, x)

        if not backend.takes_masks:
            masks = None
        elif masks is not None:
            masks = dropout.check_masks(self.config, masks, x)
        elif self.training:
            masks = dropout.sample_masks(self.config, x, self.dropout, self.recurrent_dropout, self.zoneout)
        else:
            masks = DropoutMasks()
        out, final, records = backend.run(self, x, state, lengths, masks, return_gates)

        if packed:
            out = pack_padded_sequence(out, lengths.cpu(), enforce_sorted=False)
        elif not batched:
            out, final = out.squeeze(1), tuple(f.squeeze(1) for f in final)
        elif self.batch_first:
            out = out.transpose(0, 1)
        state_out: Any = final if self.config.spec.has_cell_state else final[0]
        if not return_gates:
            return out, state_out
        return out, state_out, self._trace(records, lengths, T, N, x.device)

    def _forward_packed(self, input: PackedSequence, hx):
        """A PackedSequence through torch's kernel as torch.nn runs it: never padded, PackedSequence out."""
        data = self._check_dtype(input.data)
        if data.dim() != 2 or data.shape[-1] != self.input_size:
            raise ShapeError(
                f"expected packed data of shape (sum of lengths, {self.input_size}), got {tuple(data.shape)}"
            )
        state = self._check_state(hx, int(input.batch_sizes[0]), True, data)
        out, final = fused.run_packed(self.config, self.flat_weights(), input, state, self.dropout, self.training)
        return out, (final if self.config.spec.has_cell_state else final[0])

    def _trace(self, records, lengths, T: int, N: int, device) -> GateTrace:
        spec = self.config.spec
        names = [*(spec.gates if spec.num_chunks > 1 else ()), *(["c"] if spec.has_cell_state else []), "h"]
        valid = (
            torch.ones(T, N, dtype=torch.bool, device=device)
            if lengths is None
            else (torch.arange(T, device=device)[:, None] < lengths)
        )
        values = tuple(
            {
                name: (_in_sequence_order(steps, reverse, lengths) * valid[:, :, None]).detach().cpu().numpy()
                for name, steps in zip(names, fields, strict=True)
            }
            for reverse, fields in records
        )
        return GateTrace(self.cell, self.num_layers, self.config.num_directions, values, valid.cpu().numpy())


def _in_sequence_order(steps: list[Tensor] | Tensor, reverse: bool, lengths: Tensor | None) -> Tensor:
    """T per-step tensors (N, .), or them stacked, in processing order -> (T, N, .) by position in the sequence."""
    stacked = steps if isinstance(steps, Tensor) else torch.stack(steps)
    return reverse_time(stacked, lengths) if reverse else stacked


class LSTM(RecurrentLayer):
    """Drop-in ``torch.nn.LSTM`` with cell variants, recurrent dropout, zoneout and gate traces.

    Cells (``cell=``), with x_t the input, a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh split in gate order:

    - ``"lstm"``: i, f, g, o = sigma, sigma, tanh, sigma of a_t; c_t = f c_{t-1} + i g; h_t = o tanh(c_t)
    - ``"peephole"``: i, f also see w_ci c_{t-1}, w_cf c_{t-1}; o sees w_co c_t (Gers & Schmidhuber 2000)
    - ``"coupled"``: gates i, g, o only; f = 1 - i (CIFG)
    - ``"layernorm"``: layer norm on both pre-activations and on c_t (Ba, Kiros & Hinton 2016)

    With ``proj_size > 0``, h_t = W_hr h_t. Parameters as torch.nn.LSTM (``weight_ih_l{k}`` (G*H, H_in),
    ``weight_hh_l{k}`` (G*H, P), ``bias_ih_l{k}``, ``bias_hh_l{k}`` (G*H,), ``weight_hr_l{k}`` (P, H),
    ``_reverse`` for the backward direction) plus the variants' own (``weight_ci_l{k}`` ..., see
    ``lstmkit cells``).
    """

    cells = ("lstm", "peephole", "coupled", "layernorm")

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
        *,
        cell: str = "lstm",
        recurrent_dropout: float = 0.0,
        zoneout: float = 0.0,
        forget_bias: float | None = None,
        input_bias: float | None = None,
        backend: str = "auto",
    ):
        super().__init__(
            cell,
            input_size=input_size,
            hidden_size=hidden_size,
            num_layers=num_layers,
            bias=bias,
            batch_first=batch_first,
            dropout=dropout,
            bidirectional=bidirectional,
            proj_size=proj_size,
            device=device,
            dtype=dtype,
            recurrent_dropout=recurrent_dropout,
            zoneout=zoneout,
            forget_bias=forget_bias,
            input_bias=input_bias,
            backend=backend,
        )


class GRU(RecurrentLayer):
    """Drop-in ``torch.nn.GRU`` (gates r, z, n; r multiplies W_hn h + b_hn) with recurrent dropout,
    zoneout, lengths and gate traces."""

    cells = ("gru",)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
        *,
        recurrent_dropout: float = 0.0,
        zoneout: float = 0.0,
        backend: str = "auto",
        proj_size: int = 0,
    ):
        super().__init__(
            "gru",
            input_size=input_size,
            hidden_size=hidden_size,
            num_layers=num_layers,
            bias=bias,
            batch_first=batch_first,
            dropout=dropout,
            bidirectional=bidirectional,
            proj_size=proj_size,
            device=device,
            dtype=dtype,
            recurrent_dropout=recurrent_dropout,
            zoneout=zoneout,
            forget_bias=None,
            input_bias=None,
            backend=backend,
        )


class RNN(RecurrentLayer):
    """Drop-in ``torch.nn.RNN``: h_t = tanh (or relu) of W_ih x_t + b_ih + W_hh h_{t-1} + b_hh."""

    cells = ("rnn", "rnn_relu")

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
        *,
        recurrent_dropout: float = 0.0,
        zoneout: float = 0.0,
        backend: str = "auto",
        proj_size: int = 0,
    ):
        if nonlinearity not in ("tanh", "relu"):
            raise ParameterError(f"expected nonlinearity 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(
            "rnn" if nonlinearity == "tanh" else "rnn_relu",
            input_size=input_size,
            hidden_size=hidden_size,
            num_layers=num_layers,
            bias=bias,
            batch_first=batch_first,
            dropout=dropout,
            bidirectional=bidirectional,
            proj_size=proj_size,
            device=device,
            dtype=dtype,
            recurrent_dropout=recurrent_dropout,
            zoneout=zoneout,
            forget_bias=None,
            input_bias=None,
            backend=backend,
        )
        self.nonlinearity = nonlinearity
