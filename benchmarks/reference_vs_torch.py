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
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import compare, write_results
from lstmkit import reference as ref

N, T, H_IN, H = 64, 100, 64, 256


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

    rows = {
        "forward": compare(reference_forward, torch_forward, args.rounds, args.repeats),
        "forward+backward": compare(reference_train, torch_train, args.rounds, args.repeats),
    }
    print(f"N {N}, T {T}, H_in {H_IN}, H {H}, float32, 1 thread; torch {torch.__version__}, numpy {np.__version__}")
    print(f"{'pass':<18}{'reference ms':>14}{'torch.nn ms':>14}{'ratio':>8}")
    for name, row in rows.items():
        print(f"{name:<18}{row['ours_ms']:>14.1f}{row['theirs_ms']:>14.1f}{row['ratio']:>8.2f}")
    write_results(
        "reference_vs_torch", {"config": {"N": N, "T": T, "H_in": H_IN, "H": H, "dtype": "float32"}, "results": rows}
    )


if __name__ == "__main__":
    main()
