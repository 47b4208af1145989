"""Truncated BPTT keeps memory flat: peak memory and time per step, 10^4- vs 10^6-step series.

Each length runs in a fresh process (so its peak resident memory is its own): one epoch of
``Trainer.fit_sequence`` over a sine series (T, 1 stream, 1 feature), LSTM with H 32 and a linear head,
chunks of 100 steps, one thread. Prints the table and the ratios, writes benchmarks/results/tbptt_memory.json.

    python benchmarks/tbptt_memory.py
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import write_results

LENGTHS = (10_000, 1_000_000)
CHUNK = 100


def measure(length: int) -> dict:
    import torch

    from lstmkit.training import TrainConfig, Trainer

    torch.set_num_threads(1)

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(1, 32)
            self.head = torch.nn.Linear(32, 1)

        def forward(self, x, state=None):
            out, state = self.lstm(x, state)
            return self.head(out), state

    t = torch.arange(length + 1, dtype=torch.float32)
    series = torch.sin(t / 20)[:, None, None]  # (T + 1, 1, 1)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    trainer = Trainer(Model(), torch.nn.MSELoss(), TrainConfig(epochs=1, progress=False))
    start = time.perf_counter()
    trainer.fit_sequence(series[:-1], series[1:], chunk_size=CHUNK)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "length": length,
        "steps": trainer.step_,
        "ms_per_step": 1e3 * seconds / trainer.step_,
        "peak_rss_mb": peak / 1024,
        "rss_growth_mb": (peak - before) / 1024,
        "final_train_loss": trainer.history_[-1]["train_loss"],
    }


def main() -> None:
    rows = []
    for length in LENGTHS:
        code = (
            f"import sys, json; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
            f"from tbptt_memory import measure; print(json.dumps(measure({length})))"
        )
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        rows.append(json.loads(result.stdout.strip().splitlines()[-1]))
    print(f"LSTM H 32, chunks of {CHUNK} steps, one epoch, 1 thread")
    print(f"{'series length':>14}{'steps':>8}{'ms/step':>9}{'peak RSS MB':>13}{'growth MB':>11}")
    for row in rows:
        print(
            f"{row['length']:>14}{row['steps']:>8}{row['ms_per_step']:>9.2f}{row['peak_rss_mb']:>13.1f}"
            f"{row['rss_growth_mb']:>11.1f}"
        )
    small, large = rows
    print(
        f"x100 longer series: peak RSS x{large['peak_rss_mb'] / small['peak_rss_mb']:.2f}, "
        f"time per step x{large['ms_per_step'] / small['ms_per_step']:.2f}"
    )
    write_results("tbptt_memory", {"chunk": CHUNK, "results": rows})


if __name__ == "__main__":
    main()
