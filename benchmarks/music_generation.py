"""JSB Chorales: test negative log-likelihood per step of MusicGenerator (LSTM and GRU) over seeds, beside each key
played with its training frequency; Bai et al. 2018 report LSTM 8.45, GRU 8.43 and TCN 8.10 on the same split,
scored the same way (``tasks.music``'s docstring). One thread.

    python benchmarks/music_generation.py [--cells lstm,gru] [--seeds 0,1,2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from common import write_results
from lstmkit.data.datasets import load_jsb_chorales
from lstmkit.tasks import MusicGenerator
from lstmkit.tasks.baselines import key_frequency_nll

PUBLISHED = {"lstm": 8.45, "gru": 8.43}  # Bai, Kolter & Koltun 2018, table 2 (JSB Chorales, NLL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", default="lstm,gru")
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    torch.set_num_threads(1)
    chorales = load_jsb_chorales()
    baseline = key_frequency_nll(chorales.train, chorales.test)
    print(f"key frequencies: test NLL {baseline:.3f}")
    results: dict = {"key_frequencies": baseline, "published": PUBLISHED}
    for cell in args.cells.split(","):
        runs = []
        for seed in map(int, args.seeds.split(",")):
            started = time.perf_counter()
            model = MusicGenerator(cell=cell, seed=seed).fit(chorales.train, chorales.valid)
            runs.append(
                {
                    "seed": seed,
                    "test_nll": model.nll(chorales.test),
                    "valid_nll": model.nll(chorales.valid),
                    "epochs": len(model.history_),
                    "minutes": (time.perf_counter() - started) / 60,
                }
            )
            print(
                f"{cell} seed {seed}: test NLL {runs[-1]['test_nll']:.3f} (valid {runs[-1]['valid_nll']:.3f}), "
                f"{runs[-1]['epochs']} epochs, {runs[-1]['minutes']:.1f} min"
            )
        values = [r["test_nll"] for r in runs]
        sd = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
        print(f"{cell}: test NLL {np.mean(values):.3f} ± {sd:.3f} (Bai et al. 2018: {PUBLISHED.get(cell, '-')})")
        results[cell] = {"runs": runs, "mean": float(np.mean(values)), "sd": sd}
    write_results("music_generation", results)


if __name__ == "__main__":
    main()
