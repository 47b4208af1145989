"""The NumPy reference's LSTM forward + backward against torch.nn.LSTM's, side by side.

Batch 64, T 100, H_in 64, H 256, float32, one thread for both (BLAS and torch). Rounds alternate
between the two; the ratio is the median of per-round ratios. Prints a table and writes JSON to
benchmarks/results/reference_vs_torch.json.

    python benchmarks/reference_vs_torch.py [--rounds 7]
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"  # before NumPy loads its BLAS

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from lstmkit import reference as ref

N, T, H_IN, H = 64, 100, 64, 256


def time_call(fn, repeats: int) -> float:
    """Seconds per call, best of ``repeats`` consecutive calls (after the round's first warm call)."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)

    params = ref.init_params("lstm", H_IN, H, dtype=np.float32, seed=0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(T, N, H_IN)).astype(np.float32)
    dout = rng.normal(size=(T, N, H)).astype(np.float32)
    module = torch.nn.LSTM(H_IN, H)
    module.load_state_dict({key: torch.from_numpy(value) for key, value in params.items()})
    x_t, dout_t = torch.from_numpy(x), torch.from_numpy(dout)

    def reference_forward():
        ref.forward("lstm", params, x)

    def reference_train():
        _, _, cache = ref.forward("lstm", params, x)
        ref.backward("lstm", params, cache, dout)

    def torch_forward():
        with torch.no_grad():
            module(x_t)

    def torch_train():
        module.zero_grad()
        out, _ = module(x_t)
        out.backward(dout_t)

    rows = {}
    for name, ours, theirs in (
        ("forward", reference_forward, torch_forward),
        ("forward+backward", reference_train, torch_train),
    ):
        ours_times, theirs_times, ratios = [], [], []
        for _ in range(args.rounds):
            a = time_call(ours, args.repeats)
            b = time_call(theirs, args.repeats)
            ours_times.append(a)
            theirs_times.append(b)
            ratios.append(a / b)
        rows[name] = {
            "reference_ms": 1e3 * statistics.median(ours_times),
            "torch_ms": 1e3 * statistics.median(theirs_times),
            "ratio": statistics.median(ratios),
        }

    print(f"N {N}, T {T}, H_in {H_IN}, H {H}, float32, 1 thread; torch {torch.__version__}, numpy {np.__version__}")
    print(f"{'pass':<18}{'reference ms':>14}{'torch.nn ms':>14}{'ratio':>8}")
    for name, row in rows.items():
        print(f"{name:<18}{row['reference_ms']:>14.1f}{row['torch_ms']:>14.1f}{row['ratio']:>8.2f}")
    out = Path(__file__).parent / "results" / "reference_vs_torch.json"
    out.parent.mkdir(exist_ok=True)
    machine = {"machine": platform.machine(), "processor": platform.processor(), "cpus": os.cpu_count()}
    out.write_text(
        json.dumps(
            {"config": {"N": N, "T": T, "H_in": H_IN, "H": H, "dtype": "float32"}, "machine": machine, "results": rows},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
