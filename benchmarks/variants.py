"""Every lstmkit LSTM variant against torch.nn.LSTM on CPU: one command, a table, JSON beside it.

Configs: (a) N 32, T 50, H_in 16, H 64; (b) N 64, T 100, H_in 64, H 256; (c) N 32, T 200, H_in 256, H 512,
2 layers; (d) streaming: N 1, H_in 16, H 128 and 512, one step per call for 1000 steps, every cell kind
against torch.nn's cell of its family. For (a)-(c), forward (no grad) and forward+backward of each variant,
as ratios to torch.nn.LSTM measured side by side (alternating rounds, median), and achieved GFLOP/s as a
share of a measured large-matmul peak. The NumPy reference runs on (a) and (b). Variants with recurrent
dropout or zoneout run in training mode (in eval mode they are the plain cell). One thread unless --threads
(streams: always one).

    python benchmarks/variants.py [--configs a b c d denormals] [--rounds 3] [--backend auto] [--threads 1]
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import best_of, compare, write_results
from lstmkit import nn as lnn
from lstmkit import reference as ref
from lstmkit.nn import convert
from lstmkit.nn.backends import kernels

CONFIGS = {
    "a": dict(N=32, T=50, H_in=16, H=64, L=1),
    "b": dict(N=64, T=100, H_in=64, H=256, L=1),
    "c": dict(N=32, T=200, H_in=256, H=512, L=2),
}
VARIANTS = {
    "vanilla": dict(),
    "peephole": dict(cell="peephole"),
    "coupled": dict(cell="coupled"),
    "layernorm": dict(cell="layernorm"),
    "recurrent_dropout": dict(recurrent_dropout=0.25),
    "zoneout": dict(zoneout=0.1),
    "return_gates": dict(),
}


def lstm_flops(c: dict) -> float:
    """Matrix FLOPs of one forward: 2 N T (H_in + H) 4H per layer (elementwise work not counted)."""
    total, size = 0.0, c["H_in"]
    for _ in range(c["L"]):
        total += 2 * c["N"] * c["T"] * (size + c["H"]) * 4 * c["H"]
        size = c["H"]
    return total


def matmul_peak() -> float:
    """GFLOP/s of a large float32 matrix product on one thread."""
    a = torch.randn(2048, 2048)
    seconds = best_of(lambda: a @ a, 3)
    return 2 * 2048**3 / seconds / 1e9


def make_calls(module: torch.nn.Module, x: torch.Tensor, dout: torch.Tensor, gates: bool):
    def forward():
        with torch.no_grad():
            module(x, return_gates=True) if gates else module(x)

    def train():
        module.zero_grad()
        out = module(x, return_gates=True)[0] if gates else module(x)[0]
        out.backward(dout)

    return forward, train


def run_config(name: str, c: dict, rounds: int, repeats: int, backend: str, peak: float) -> list[dict]:
    torch.manual_seed(0)
    x = torch.randn(c["T"], c["N"], c["H_in"])
    dout = torch.randn(c["T"], c["N"], c["H"])
    peer = torch.nn.LSTM(c["H_in"], c["H"], c["L"])
    peer_forward, peer_train = make_calls(peer, x, dout, False)
    flops = lstm_flops(c)
    rows = []

    def measure(variant: str, forward, train) -> None:
        """Both passes of one variant against torch.nn.LSTM's, with the share of the matmul peak."""
        for mode, ours, theirs, work in (
            ("forward", forward, peer_forward, flops),
            ("forward+backward", train, peer_train, 3 * flops),
        ):
            result = compare(ours, theirs, rounds, repeats)
            share = work / (result["ours_ms"] / 1e3) / 1e9 / peak
            rows.append({"config": name, "variant": variant, "mode": mode, **result, "peak_share": share})

    for variant, options in VARIANTS.items():
        layer = lnn.LSTM(c["H_in"], c["H"], c["L"], backend=backend, **options)
        layer.train()
        measure(variant, *make_calls(layer, x, dout, variant == "return_gates"))
    if name in ("a", "b"):
        params = convert.to_reference(lnn.LSTM(c["H_in"], c["H"]), dtype=np.float32)
        x_np, dout_np = x.numpy(), dout.numpy()

        def ref_forward():
            ref.forward("lstm", params, x_np)

        def ref_train():
            _, _, cache = ref.forward("lstm", params, x_np)
            ref.backward("lstm", params, cache, dout_np)

        measure("numpy reference", ref_forward, ref_train)
    return rows


STREAM_KINDS = {  # stream name -> the lstmkit layer, and torch.nn's one-step peer
    "lstm": (lambda I, H: lnn.LSTM(I, H), lambda I, H: torch.nn.LSTMCell(I, H)),
    "peephole": (lambda I, H: lnn.LSTM(I, H, cell="peephole"), lambda I, H: torch.nn.LSTMCell(I, H)),
    "coupled": (lambda I, H: lnn.LSTM(I, H, cell="coupled"), lambda I, H: torch.nn.LSTMCell(I, H)),
    "layernorm": (lambda I, H: lnn.LSTM(I, H, cell="layernorm"), lambda I, H: torch.nn.LSTMCell(I, H)),
    "gru": (lambda I, H: lnn.GRU(I, H), lambda I, H: torch.nn.GRUCell(I, H)),
    "rnn": (lambda I, H: lnn.RNN(I, H), lambda I, H: torch.nn.RNNCell(I, H)),
}


def run_streaming(steps: int = 1000, rounds: int = 5) -> list[dict]:
    """Microseconds per single-step call at N 1, no grad: every kind's ``Stream`` against torch.nn's cell of
    the same family (side by side, alternating rounds, median), with the cost split into the compiled
    entry (the C call alone), its two products alone (``CompiledStream.products``: the floor) and Python
    (checks, the output tensor). At H_in 16, H 128 (target <= 5 us each, > 3x faster than torch.nn.LSTMCell)
    and H_in 16, H 512 (target <= 2x the products alone)."""
    rows = []
    torch.manual_seed(0)
    xs = list(torch.randn(steps, 1, 16))
    for H in (128, 512):
        for kind, (make_layer, make_cell) in STREAM_KINDS.items():
            layer, cell = make_layer(16, H), make_cell(16, H)
            stream = layer.stream()
            state = [None]

            def torch_steps(cell=cell, state=state):
                with torch.no_grad():
                    for x_t in xs:
                        state[0] = cell(x_t, state[0])

            def stream_steps(stream=stream):
                for x_t in xs:
                    stream(x_t)

            timing = compare(stream_steps, torch_steps, rounds, 3)
            row = {
                "config": "d",
                "H": H,
                "variant": kind,
                "us_per_step": 1e3 * timing["ours_ms"] / steps,
                "torch_cell_us": 1e3 * timing["theirs_ms"] / steps,
                "ratio": timing["ratio"],
            }
            if stream.compiled:
                engine, out = stream._engine, torch.empty(1, H)

                def entry(engine=engine, out=out):
                    for x_t in xs:
                        engine.step(x_t, out)

                row["compiled_entry_us"] = 1e6 * best_of(entry, 3) / steps
                row["products_us"] = 1e6 * best_of(lambda engine=engine: engine.products(xs[0], steps), 3) / steps
                row["floor_ratio"] = row["us_per_step"] / row["products_us"]
            rows.append(row)
    return rows


def run_denormals(rounds: int) -> list[dict]:
    """Training-step time with and without flushing denormals, on a saturated model (config b).

    Weights are scaled up 8x so that gates saturate, as in a trained model: sigmoid tails and their
    gradients then fall into float32's denormal range, which many CPUs process far more slowly.
    """
    c = CONFIGS["b"]
    torch.manual_seed(0)
    x = torch.randn(c["T"], c["N"], c["H_in"])
    dout = torch.randn(c["T"], c["N"], c["H"])
    rows = []
    for backend in ("fused", "fast"):
        layer = lnn.LSTM(c["H_in"], c["H"], backend=backend)
        with torch.no_grad():
            for parameter in layer.parameters():
                parameter.mul_(8.0)
        _, train = make_calls(layer, x, dout, False)
        times = {}
        for flush in (False, True, False, True)[: 2 * max(1, rounds // 2)]:
            torch.set_flush_denormal(flush)
            times.setdefault(flush, []).append(best_of(train, 2))
        torch.set_flush_denormal(False)
        off, on = min(times[False]), min(times[True])
        rows.append(
            {"config": "denormals", "variant": backend, "ms_keep": 1e3 * off, "ms_flush": 1e3 * on, "speedup": off / on}
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=["a", "b", "c", "d", "denormals"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--threads", type=int, default=1, help="torch's threads, for both sides (streams: 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    peak = matmul_peak()
    started = time.perf_counter()
    rows = []
    for name in args.configs:
        if name == "d":
            torch.set_num_threads(1)
            rows += run_streaming()
            torch.set_num_threads(args.threads)
        elif name == "denormals":
            rows += run_denormals(args.rounds)
        else:
            rows += run_config(name, CONFIGS[name], args.rounds, 1 if name == "c" else args.repeats, args.backend, peak)
    loop = "compiled kernels" if kernels.ENABLED else "torch loop (extension not built or LSTMKIT_KERNELS=0)"
    vectors = (", 512-bit products" if kernels.WIDE_VECTORS else "") + (", OpenMP" if kernels.THREADED else "")
    print(
        f"torch {torch.__version__}, {args.threads} thread(s), float32, matmul peak {peak:.0f} GFLOP/s, "
        f"backend={args.backend}"
    )
    print(f"fast backend: {loop}{vectors}")
    print(f"{'cfg':<4}{'variant':<20}{'mode':<18}{'ms':>9}{'torch ms':>10}{'ratio':>8}{'peak':>7}")
    for row in rows:
        if row["config"] in ("d", "denormals"):
            continue
        print(
            f"{row['config']:<4}{row['variant']:<20}{row['mode']:<18}{row['ours_ms']:>9.1f}{row['theirs_ms']:>10.1f}"
            f"{row['ratio']:>8.2f}{row['peak_share']:>7.0%}"
        )
    streams = [row for row in rows if row["config"] == "d"]
    if streams:
        print("d   streams, N 1, H_in 16, us per step: stream | torch.nn cell (ratio) | C entry | products alone")
    for row in streams:
        split = f"{row['compiled_entry_us']:>6.2f} {row['products_us']:>6.2f}" if "products_us" in row else ""
        print(
            f"d   H {row['H']:<4}{row['variant']:<10}{row['us_per_step']:>7.2f} |{row['torch_cell_us']:>7.2f} "
            f"({row['ratio']:.2f}) | {split}"
            + (f"  stream / products {row['floor_ratio']:.2f}" if "floor_ratio" in row else "")
        )
    for row in rows:
        if row["config"] == "denormals":
            print(
                f"denormals, saturated model, training step, {row['variant']:<6}: {row['ms_keep']:.1f} ms kept, "
                f"{row['ms_flush']:.1f} ms flushed (x{row['speedup']:.2f})"
            )
    print(f"({time.perf_counter() - started:.0f} s)")
    write_results(
        "variants" if args.threads == 1 else f"variants_{args.threads}_threads",
        {
            "backend": args.backend,
            "threads": args.threads,
            "loop": loop,
            "matmul_peak_gflops": peak,
            "configs": CONFIGS,
            "results": rows,
        },
    )


if __name__ == "__main__":
    main()
