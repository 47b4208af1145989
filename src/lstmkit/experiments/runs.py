"""What every experiment's trial shares: checking its settings, and training a net for a fixed budget."""

from __future__ import annotations

import time

from torch import nn

from lstmkit.errors import ParameterError
from lstmkit.training import TrainConfig, Trainer


def check_settings(config, names: tuple[str, ...], low: int = 1) -> None:
    """Each of ``config``'s ``names`` at least ``low``, and at least one seed in ``config.seeds``."""
    for name in names:
        if getattr(config, name) < low:
            raise ParameterError(f"expected {name} >= {low}, got {getattr(config, name)}")
    if not config.seeds:
        raise ParameterError("expected at least one seed")


def fit(model: nn.Module, loss: nn.Module, data, *, epochs: int, lr: float, seed: int, batch_size=None) -> float:
    """Train ``model`` on ``data`` with the Trainer (Adam, every epoch kept: no early stopping); the seconds taken."""
    settings = TrainConfig(
        epochs=epochs,
        lr=lr,
        seed=seed,
        progress=False,
        restore_best=False,
        **({} if batch_size is None else {"batch_size": batch_size}),
    )
    started = time.perf_counter()
    Trainer(model, loss, settings).fit(data)
    return time.perf_counter() - started
