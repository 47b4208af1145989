"""The one table of recurrent cell kinds.

The NumPy reference, the PyTorch layers, the converters and the pictures all read this table, so a
cell kind's gate names, gate order and extra parameters are written down exactly once.

Parameters follow PyTorch's names and shapes (``G`` gate chunks, ``H`` hidden size, ``P`` the
projected size of LSTM kinds with ``proj_size > 0``, else ``P = H``; ``H_in`` the layer's input size).
For layer ``k`` and suffix ``s`` (``""``, or ``"_reverse"`` for the backward direction):

============================  ================  ==========================================
name                          shape             meaning
============================  ================  ==========================================
``weight_ih_l{k}{s}``         (G*H, H_in)       input-to-gates weights, chunks in gate order
``weight_hh_l{k}{s}``         (G*H, P)          recurrent weights
``bias_ih_l{k}{s}``           (G*H,)            input bias (if ``bias``)
``bias_hh_l{k}{s}``           (G*H,)            recurrent bias (if ``bias``)
``weight_hr_l{k}{s}``         (P, H)            hidden projection (LSTM kinds, ``proj_size > 0``)
``weight_ci/cf/co_l{k}{s}``   (H,)              peepholes from the cell state into i, f, o
``ln_weight_ih_l{k}{s}``      (G*H,)            layer-norm gain of the input pre-activations
``ln_weight_hh_l{k}{s}``      (G*H,)            layer-norm gain of the recurrent pre-activations
``ln_weight_c_l{k}{s}``       (H,)              layer-norm gain of the cell state
``ln_bias_c_l{k}{s}``         (H,)              layer-norm bias of the cell state (if ``bias``)
============================  ================  ==========================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lstmkit.errors import ParameterError, ParameterTypeError, UnknownCellError


@dataclass(frozen=True)
class ExtraParam:
    """A parameter beyond PyTorch's four, e.g. a peephole vector.

    ``size`` is ``"H"`` (one value per unit) or ``"G*H"`` (one per gate pre-activation);
    ``init`` is ``"uniform"`` (PyTorch's U(-1/sqrt(H), 1/sqrt(H))), ``"ones"`` or ``"zeros"``;
    ``is_bias`` marks parameters that exist only when the layer has biases.
    """

    name: str
    size: str
    init: str
    is_bias: bool = False


@dataclass(frozen=True)
class CellSpec:
    """What every implementation needs to know about one cell kind."""

    name: str
    title: str
    gates: tuple[str, ...]
    has_cell_state: bool
    extra_params: tuple[ExtraParam, ...] = ()
    supports_projection: bool = False

    @property
    def num_chunks(self) -> int:
        """G: the number of gate chunks stacked in ``weight_ih`` and ``weight_hh``."""
        return len(self.gates)

    def gate_slice(self, gate: str, hidden_size: int) -> slice:
        """The rows of ``weight_ih``/``weight_hh``/``bias_*`` that belong to ``gate``."""
        k = self.gates.index(gate)
        return slice(k * hidden_size, (k + 1) * hidden_size)


_PEEPHOLES = (
    ExtraParam("weight_ci", "H", "uniform"),
    ExtraParam("weight_cf", "H", "uniform"),
    ExtraParam("weight_co", "H", "uniform"),
)
_LAYER_NORM = (
    ExtraParam("ln_weight_ih", "G*H", "ones"),
    ExtraParam("ln_weight_hh", "G*H", "ones"),
    ExtraParam("ln_weight_c", "H", "ones"),
    ExtraParam("ln_bias_c", "H", "zeros", is_bias=True),
)

CELLS: dict[str, CellSpec] = {
    spec.name: spec
    for spec in (
        CellSpec("rnn", "vanilla RNN (tanh)", ("h",), has_cell_state=False),
        CellSpec("rnn_relu", "vanilla RNN (ReLU)", ("h",), has_cell_state=False),
        CellSpec("lstm", "LSTM with forget gate", ("i", "f", "g", "o"), True, supports_projection=True),
        CellSpec("peephole", "peephole LSTM", ("i", "f", "g", "o"), True, _PEEPHOLES, True),
        CellSpec("coupled", "coupled input-forget gate LSTM (CIFG)", ("i", "g", "o"), True, (), True),
        CellSpec("layernorm", "layer-normalized LSTM", ("i", "f", "g", "o"), True, _LAYER_NORM, True),
        CellSpec("gru", "GRU", ("r", "z", "n"), has_cell_state=False),
    )
}


def get_spec(kind: str) -> CellSpec:
    """The spec of cell ``kind``; an ``UnknownCellError`` listing the known kinds otherwise."""
    try:
        return CELLS[kind]
    except (KeyError, TypeError):
        raise UnknownCellError(f"unknown cell kind {kind!r}; expected one of {', '.join(map(repr, CELLS))}") from None


def param_name(base: str, layer: int, reverse: bool) -> str:
    """``param_name("weight_ih", 1, True) == "weight_ih_l1_reverse"``."""
    return f"{base}_l{layer}{'_reverse' if reverse else ''}"


@dataclass(frozen=True)
class RecurrentConfig:
    """The sizes a parameter dict describes; see ``infer_config``."""

    kind: str
    input_size: int
    hidden_size: int
    num_layers: int = 1
    bidirectional: bool = False
    bias: bool = True
    proj_size: int = 0

    @property
    def spec(self) -> CellSpec:
        return get_spec(self.kind)

    @property
    def num_directions(self) -> int:
        """D: 2 if bidirectional else 1."""
        return 2 if self.bidirectional else 1

    @property
    def state_size(self) -> int:
        """P: the size of h (the projected size if ``proj_size > 0``, else H)."""
        return self.proj_size or self.hidden_size

    def layer_input_size(self, layer: int) -> int:
        """H_in of ``layer``: the input size for layer 0, D*P above it."""
        return self.input_size if layer == 0 else self.num_directions * self.state_size

    def expected_shapes(self) -> dict[str, tuple[int, ...]]:
        """Every key of the parameter dict with its shape, in ``torch.nn`` ``state_dict()`` order."""
        spec, H, P = self.spec, self.hidden_size, self.state_size
        GH = spec.num_chunks * H
        sizes = {"H": H, "G*H": GH}
        shapes: dict[str, tuple[int, ...]] = {}
        for layer in range(self.num_layers):
            for reverse in range(self.num_directions):
                base = {"weight_ih": (GH, self.layer_input_size(layer)), "weight_hh": (GH, P)}
                if self.bias:
                    base |= {"bias_ih": (GH,), "bias_hh": (GH,)}
                if self.proj_size:
                    base["weight_hr"] = (P, H)
                for extra in spec.extra_params:
                    if self.bias or not extra.is_bias:
                        base[extra.name] = (sizes[extra.size],)
                for name, shape in base.items():
                    shapes[param_name(name, layer, bool(reverse))] = shape
        return shapes


def check_sizes(kind: str, input_size, hidden_size, num_layers, proj_size) -> CellSpec:
    """The sizes of a layer of ``kind``, checked as torch.nn checks them, as typed errors; returns the spec."""
    spec = get_spec(kind)
    for name, value, low in (
        ("input_size", input_size, 1),
        ("hidden_size", hidden_size, 1),
        ("num_layers", num_layers, 1),
        ("proj_size", proj_size, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParameterTypeError(
                f"expected {name} to be an integer >= {low}, got {value!r} of type {type(value).__name__}"
            )
        if value < low:
            raise ParameterError(f"expected {name} to be an integer >= {low}, got {value!r}")
    if proj_size and not spec.supports_projection:
        raise ParameterError(f"proj_size is supported by the LSTM kinds only, got proj_size={proj_size} for {kind!r}")
    if proj_size >= hidden_size:
        raise ParameterError(f"expected proj_size < hidden_size, got proj_size={proj_size}, hidden_size={hidden_size}")
    return spec


def check_gate_biases(kind: str, bias: bool, forget_bias: float | None, input_bias: float | None) -> None:
    """forget_bias / input_bias need a cell with that gate, and biases."""
    spec = get_spec(kind)
    for name, value, gate in (("forget_bias", forget_bias, "f"), ("input_bias", input_bias, "i")):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ParameterError(f"expected {name} to be a finite number or None, got {value!r}")
        if gate not in spec.gates:
            hint = " (f = 1 - i there: use input_bias=-value)" if kind == "coupled" else ""
            raise ParameterError(f"{name} needs a cell with an {gate!r} gate, {kind!r} has {spec.gates}{hint}")
        if not bias:
            raise ParameterError(f"{name} needs bias=True")
