"""Fixed regularization masks for the reference, so that a stochastic layer can be checked exactly."""

from __future__ import annotations

import numpy as np

from lstmkit.errors import ParameterError, ShapeError
from lstmkit.masks import DropoutMasks
from lstmkit.specs import RecurrentConfig


def check_masks(masks: DropoutMasks | None, config: RecurrentConfig, T: int, N: int, dtype) -> DropoutMasks:
    """Masks of the right shapes for this layer and batch (an empty ``DropoutMasks`` for None)."""
    if masks is None:
        return DropoutMasks()
    if not isinstance(masks, DropoutMasks):
        raise ParameterError(f"expected masks as a DropoutMasks, got {type(masks).__name__}")
    LD, D, P, H = (
        config.num_layers * config.num_directions,
        config.num_directions,
        config.state_size,
        config.hidden_size,
    )
    expected = {
        "recurrent": (LD, N, P),
        "zoneout_h": (LD, T, N, P),
        "zoneout_c": (LD, T, N, H) if config.spec.has_cell_state else None,
    }
    checked = {}
    for name, shape in expected.items():
        value = getattr(masks, name)
        if value is None:
            continue
        if shape is None:
            raise ParameterError(f"masks.{name} is for cells with a cell state, not {config.kind!r}")
        value = np.asarray(value)
        if value.shape != shape:
            raise ShapeError(f"expected masks.{name} of shape {shape}, got {value.shape}")
        checked[name] = value.astype(bool) if name.startswith("zoneout") else value.astype(dtype)
    if masks.layer_input is not None:
        if len(masks.layer_input) != config.num_layers - 1:
            raise ShapeError(
                f"expected {config.num_layers - 1} masks.layer_input arrays (one per layer above the first), "
                f"got {len(masks.layer_input)}"
            )
        checked["layer_input"] = [np.asarray(m, dtype=dtype) for m in masks.layer_input]
        for m in checked["layer_input"]:
            if m.shape != (T, N, D * P):
                raise ShapeError(f"expected masks.layer_input arrays of shape {(T, N, D * P)}, got {m.shape}")
    return DropoutMasks(**checked)
