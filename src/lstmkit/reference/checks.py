"""Checks of user input to the reference: typed errors that say what was expected and what came."""

from __future__ import annotations

import numpy as np

from lstmkit.errors import DataError, ShapeError
from lstmkit.specs import RecurrentConfig


def _finite(name: str, a: np.ndarray) -> None:
    bad = ~np.isfinite(a)
    if bad.any():
        first = tuple(int(k) for k in np.argwhere(bad)[0])
        raise DataError(f"{name} has {int(bad.sum())} NaN or inf value(s), the first at index {first}")


def as_float_array(name: str, value, dtype: np.dtype) -> np.ndarray:
    """``value`` as a finite array of ``dtype``; a ``DataError`` for non-numeric, NaN or inf values."""
    array = np.asarray(value)
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise DataError(f"expected {name} to hold real numbers, got dtype {array.dtype}")
    array = array.astype(dtype, copy=False)
    _finite(name, array)
    return array


def check_input(x, config: RecurrentConfig, dtype: np.dtype) -> np.ndarray:
    """x must be (T, N, H_in) with T, N >= 1 and finite values."""
    x = as_float_array("x", x, dtype)
    if x.ndim != 3 or x.shape[2] != config.input_size or 0 in x.shape:
        raise ShapeError(f"expected x of shape (T, N, {config.input_size}) with T, N >= 1, got {x.shape}")
    return x


def check_lengths(lengths, T: int, N: int, allow_zero: bool = False) -> np.ndarray | None:
    """Per-sequence lengths: N integers in [1, T] (or [0, T] with ``allow_zero``)."""
    if lengths is None:
        return None
    array = np.asarray(lengths)
    if array.shape != (N,):
        raise ShapeError(f"expected lengths of shape ({N},), one per sequence, got {array.shape}")
    whole_floats = np.issubdtype(array.dtype, np.floating) and np.all(array == np.round(array))
    if not (np.issubdtype(array.dtype, np.integer) or whole_floats):
        raise DataError(f"expected integer lengths, got {array.dtype} values {array.tolist()}")
    array = array.astype(np.int64)
    low = 0 if allow_zero else 1
    out = np.flatnonzero((array < low) | (array > T))
    if out.size:
        raise DataError(
            f"expected every length in [{low}, {T}] (T = {T}), got {array[out].tolist()} at positions {out.tolist()}"
        )
    return array


def check_state(state, config: RecurrentConfig, N: int, dtype: np.dtype, name: str = "state") -> tuple[np.ndarray, ...]:
    """A public state, ``(h, c)`` for LSTM kinds or ``h`` otherwise, as a tuple; zeros if ``None``."""
    LD = config.num_layers * config.num_directions
    shapes = [(LD, N, config.state_size)]
    if config.spec.has_cell_state:
        shapes.append((LD, N, config.hidden_size))
    if state is None:
        return tuple(np.zeros(shape, dtype=dtype) for shape in shapes)
    has_cell = config.spec.has_cell_state
    parts = state if has_cell else (state,)
    expected = " and ".join(map(str, shapes))
    if has_cell != isinstance(state, tuple | list) or len(parts) != len(shapes):
        what = "a tuple (h, c)" if has_cell else "an array h"
        raise ShapeError(f"expected {name} as {what} of shape {expected}, got {type(state).__name__}")
    arrays = tuple(as_float_array(name, part, dtype) for part in parts)
    if tuple(a.shape for a in arrays) != tuple(shapes):
        raise ShapeError(f"expected {name} of shape {expected}, got {' and '.join(str(a.shape) for a in arrays)}")
    return arrays
