"""Shared set-up for the reference tests: random parameters with non-zero biases and states."""

from __future__ import annotations

import numpy as np

from lstmkit import reference as ref
from lstmkit.specs import get_spec

KINDS = ["rnn", "rnn_relu", "lstm", "peephole", "coupled", "layernorm", "gru"]
LSTM_KINDS = [kind for kind in KINDS if get_spec(kind).has_cell_state]


def random_params(kind: str, input_size: int, hidden_size: int, seed: int = 0, **options) -> dict[str, np.ndarray]:
    """``init_params`` with every entry, layer-norm gains and biases included, drawn at random."""
    params = ref.init_params(kind, input_size, hidden_size, seed=seed, **options)
    rng = np.random.default_rng(seed + 1)
    for key, value in params.items():
        value[...] = rng.normal(1.0 if key.startswith("ln_weight") else 0.0, 0.5, size=value.shape)
    return params


def random_state(kind: str, params: dict[str, np.ndarray], N: int, rng: np.random.Generator):
    """A non-zero initial state of the right structure for ``params``."""
    config = ref.infer_config(kind, params)
    LD = config.num_layers * config.num_directions
    h = rng.normal(size=(LD, N, config.state_size))
    return (h, rng.normal(size=(LD, N, config.hidden_size))) if config.spec.has_cell_state else h


def state_parts(state) -> tuple[np.ndarray, ...]:
    return state if isinstance(state, tuple) else (state,)


def weighted_loss(out, state, dout, dstate) -> float:
    """L = sum(out * dout) + sum(state * dstate): its gradients are exactly dout and dstate."""
    total = float(np.sum(out * dout))
    for s, ds in zip(state_parts(state), state_parts(dstate), strict=True):
        total += float(np.sum(s * ds))
    return total


def random_masks(kind: str, params: dict[str, np.ndarray], T: int, N: int, rng: np.random.Generator, p: float = 0.3):
    """Dropout (inverted, scaled by 1/(1-p)) and zoneout masks of the right shapes, drawn at random."""
    config = ref.infer_config(kind, params)
    LD, D, P, H = (
        config.num_layers * config.num_directions,
        config.num_directions,
        config.state_size,
        config.hidden_size,
    )

    def dropout(*shape):
        return (rng.random(shape) >= p) / (1 - p)

    return ref.DropoutMasks(
        layer_input=[dropout(T, N, D * P) for _ in range(config.num_layers - 1)],
        recurrent=dropout(LD, N, P),
        zoneout_h=rng.random((LD, T, N, P)) < p,
        zoneout_c=rng.random((LD, T, N, H)) < p if config.spec.has_cell_state else None,
    )
