"""GateTrace: every gate, the cell state and the hidden state of a recurrent layer, over time.

NumPy arrays only (never torch), so ``lstmkit.viz`` can draw them without knowing where they came
from. ``lstmkit.nn`` layers fill one from the very computation that produced their output
(``return_gates=True``), not from a second pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstmkit.errors import ParameterError
from lstmkit.specs import CellSpec, get_spec


@dataclass(frozen=True)
class GateTrace:
    """Activations of each layer and direction of one forward pass.

    ``values[layer * D + direction]`` maps each gate name of the cell (``i, f, g, o`` for LSTMs,
    ``r, z, n`` for GRUs, none for the vanilla RNN), ``"c"`` (LSTM kinds) and ``"h"`` to an array
    (T, N, H) (``"h"`` is (T, N, P) with a projection), indexed by position in the sequence for both
    directions. ``mask`` (T, N) is True at valid steps; at padded steps every array holds 0.
    """

    kind: str
    num_layers: int
    num_directions: int
    values: tuple[dict[str, np.ndarray], ...]
    mask: np.ndarray

    @property
    def spec(self) -> CellSpec:
        return get_spec(self.kind)

    @property
    def gates(self) -> tuple[str, ...]:
        """The gate names recorded, in the cell's order (empty for the vanilla RNN)."""
        return self.spec.gates if self.spec.num_chunks > 1 else ()

    def layer(self, layer: int = -1, direction: int = 0) -> dict[str, np.ndarray]:
        """The arrays of one layer (default: the last) and direction (0 forward, 1 backward)."""
        if not -self.num_layers <= layer < self.num_layers or direction not in range(self.num_directions):
            raise ParameterError(
                f"expected layer in [{-self.num_layers}, {self.num_layers}) and direction in "
                f"range({self.num_directions}), got layer={layer}, direction={direction}"
            )
        return self.values[(layer % self.num_layers) * self.num_directions + direction]

    def saturation(self, layer: int = -1, direction: int = 0, low: float = 0.1, high: float = 0.9):
        """Per gate, the share of valid steps each unit spends below ``low`` and above ``high``.

        As in Karpathy, Johnson & Fei-Fei (2015): a unit near (0, 1) is right-saturated (always open), near
        (1, 0) left-saturated (always shut). Returns {gate: (left (H,), right (H,))}, over every sequence.
        """
        values, valid = self.layer(layer, direction), self.mask  # (T, N, H), (T, N)
        count = valid.sum()
        return {
            gate: (
                ((values[gate] < low) & valid[..., None]).sum(axis=(0, 1)) / count,
                ((values[gate] > high) & valid[..., None]).sum(axis=(0, 1)) / count,
            )
            for gate in self.gates
        }
