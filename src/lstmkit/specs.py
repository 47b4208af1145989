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

from dataclasses import dataclass

from lstmkit.errors import UnknownCellError


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
