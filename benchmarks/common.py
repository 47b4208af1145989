"""Side-by-side timing shared by the benchmarks: alternate rounds, median of per-round ratios."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path


def best_of(fn: Callable[[], object], repeats: int) -> float:
    """Seconds per call: best of ``repeats`` consecutive calls, after one warm call."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def compare(ours: Callable, theirs: Callable, rounds: int, repeats: int) -> dict[str, float]:
    """Alternate ``ours`` and ``theirs`` for ``rounds`` rounds; medians of times (ms) and of ratios."""
    ours_ms, theirs_ms, ratios = [], [], []
    for _ in range(rounds):
        a, b = best_of(ours, repeats), best_of(theirs, repeats)
        ours_ms.append(1e3 * a)
        theirs_ms.append(1e3 * b)
        ratios.append(a / b)
    return {
        "ours_ms": statistics.median(ours_ms),
        "theirs_ms": statistics.median(theirs_ms),
        "ratio": statistics.median(ratios),
    }


def write_results(name: str, payload: dict) -> Path:
    """JSON beside the benchmarks, in benchmarks/results/, with the machine described."""
    out = Path(__file__).parent / "results" / f"{name}.json"
    out.parent.mkdir(exist_ok=True)
    machine = {"machine": platform.machine(), "processor": platform.processor(), "cpus": os.cpu_count()}
    out.write_text(json.dumps({"machine": machine, **payload}, indent=2))
    return out


def trainer_epoch(model, data, loss, batch_size: int, lr: float, clip: float = 1.0) -> Callable[[], None]:
    """One epoch of lstmkit's ``Trainer`` over ``data`` = (inputs, targets, lengths), from the model's weights as
    they are now, each time it is called."""
    from lstmkit.training import TrainConfig, Trainer

    start = {k: v.clone() for k, v in model.state_dict().items()}

    def run():
        model.load_state_dict(start)
        config = TrainConfig(epochs=1, batch_size=batch_size, lr=lr, clip_grad_norm=clip, progress=False)
        Trainer(model, loss, config).fit(data)

    return run


def hand_written_epoch(
    model, data, loss, batch_size: int, lr: float, clip: float = 1.0, trim: bool = True
) -> Callable[[], None]:
    """The peer of ``trainer_epoch``: the loop a tutorial writes (Adam, gradient clipping) over the same batches
    in the same order, each batch cut to its longest sequence when ``trim``; from the model's weights as they are
    now, each time it is called."""
    import torch

    from lstmkit.training.data import batch_indices

    start = {k: v.clone() for k, v in model.state_dict().items()}
    inputs, targets, lengths = data

    def run():
        model.load_state_dict(start)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        model.train()
        for index in batch_indices(len(inputs), batch_size, 0, 0, True):
            longest = int(lengths[index].max()) if trim else inputs.shape[1]
            optimizer.zero_grad()
            y = targets[index, :longest] if targets.dim() > 1 else targets[index]  # per step, or one per sequence
            loss(model(inputs[index, :longest], lengths[index]), y).backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()

    return run
