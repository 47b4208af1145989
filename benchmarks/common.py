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
