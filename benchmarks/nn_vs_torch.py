"""The default lstmkit.nn.LSTM against torch.nn.LSTM, side by side, forward and forward+backward.

Batch 64, T 100, H_in 64, H 256, float32, one thread. Target: within 1.05x. Also reports the native
(readable, Python time loop) backend for comparison. Prints a table, writes
benchmarks/results/nn_vs_torch.json.

    python benchmarks/nn_vs_torch.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import compare, write_results
from lstmkit import nn as lnn

N, T, H_IN, H = 64, 100, 64, 256


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    peer = torch.nn.LSTM(H_IN, H)
    layers = {"default (auto)": lnn.LSTM(H_IN, H), "native": lnn.LSTM(H_IN, H, backend="native")}
    for layer in layers.values():
        layer.load_state_dict(peer.state_dict())
    x = torch.randn(T, N, H_IN)
    dout = torch.randn(T, N, H)

    def forward(module):
        def run():
            with torch.no_grad():
                module(x)

        return run

    def train(module):
        def run():
            module.zero_grad()
            out, _ = module(x)
            out.backward(dout)

        return run

    rows = {}
    for name, layer in layers.items():
        for mode, make in (("forward", forward), ("forward+backward", train)):
            rows[f"{name} {mode}"] = compare(make(layer), make(peer), args.rounds, args.repeats)
    print(f"N {N}, T {T}, H_in {H_IN}, H {H}, float32, 1 thread; torch {torch.__version__}")
    print(f"{'lstmkit.nn.LSTM':<32}{'ms':>9}{'torch.nn ms':>13}{'ratio':>8}")
    for name, row in rows.items():
        print(f"{name:<32}{row['ours_ms']:>9.1f}{row['theirs_ms']:>13.1f}{row['ratio']:>8.3f}")
    write_results(
        "nn_vs_torch", {"config": {"N": N, "T": T, "H_in": H_IN, "H": H, "dtype": "float32"}, "results": rows}
    )


if __name__ == "__main__":
    main()
