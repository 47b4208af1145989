"""Which functions implement each cell kind of ``lstmkit.specs.CELLS``.

Every kind has the same four functions, so ``sequence`` can unroll any of them:

- ``project_input(x, p) -> (xw, cache)``: the input's share of the pre-activations for all T steps
  at once, x (T, N, H_in) -> xw (T, N, G*H), and its backward ``(dxw, cache, p) -> (dx, grads)``;
- ``step(xw_t, hw_t, state, p) -> (state, cache)``: the cell's nonlinear part, given the raw recurrent
  product hw_t = W_hh h_{t-1} (N, G*H) that ``sequence`` computes (so it can drop h_{t-1} out first);
  ``state`` is a tuple, ``(h, c)`` or ``(h,)``;
- ``step_backward(dstate, cache, p) -> (dxw_t, dhw_t, dstate_prev, grads)``: ``dhw_t`` is the gradient
  of hw_t, from which ``sequence`` forms dW_hh (one large product over all steps) and adds dhw_t W_hh
  to dh_{t-1}; ``dstate_prev`` holds only the other paths to the previous state (0 where there are
  none); ``grads`` is the step's share of the small parameters.
"""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple

from lstmkit.reference import coupled, gru, layernorm, linear, lstm, peephole, rnn
from lstmkit.specs import CELLS, get_spec


class CellFunctions(NamedTuple):
    project_input: Any
    project_input_backward: Any
    step: Any
    step_backward: Any


_DENSE_INPUT = (linear.project_input, linear.project_input_backward)

CELL_FUNCTIONS: dict[str, CellFunctions] = {
    "rnn": CellFunctions(*_DENSE_INPUT, rnn.rnn_step, rnn.rnn_step_backward),
    "rnn_relu": CellFunctions(*_DENSE_INPUT, partial(rnn.rnn_step, nonlinearity="relu"), rnn.rnn_step_backward),
    "lstm": CellFunctions(*_DENSE_INPUT, lstm.lstm_step, lstm.lstm_step_backward),
    "peephole": CellFunctions(*_DENSE_INPUT, peephole.peephole_step, peephole.peephole_step_backward),
    "coupled": CellFunctions(*_DENSE_INPUT, coupled.coupled_step, coupled.coupled_step_backward),
    "layernorm": CellFunctions(
        layernorm.layernorm_project_input,
        layernorm.layernorm_project_input_backward,
        layernorm.layernorm_step,
        layernorm.layernorm_step_backward,
    ),
    "gru": CellFunctions(*_DENSE_INPUT, gru.gru_step, gru.gru_step_backward),
}
assert set(CELL_FUNCTIONS) == set(CELLS), "every kind in lstmkit.specs needs its reference functions"


def get_cell(kind: str) -> CellFunctions:
    """The reference functions of ``kind`` (an ``UnknownCellError`` for unknown kinds)."""
    get_spec(kind)
    return CELL_FUNCTIONS[kind]
