"""The main job's figures: the forecaster on the airline backtest, seeds 0-4, beside the baselines and ablations.

The backtest is exactly the one ``lstmkit forecast`` runs (3 rolling origins, horizon 12, the same folds and
metrics). Each candidate that went into the default is taken out in turn, so each earns its place with a
measured difference; calendar features (month as sin/cos, fed over the horizon as known-future covariates)
are measured the same way. The baselines (naive, seasonal naive, statsforecast's AutoETS and AutoARIMA)
are deterministic: one row each.

Prints the table (mean ± sd over the seeds) and writes benchmarks/results/forecast_airline.json. About 6
minutes on 2 cores with one thread.

    python benchmarks/forecast_airline.py [--seeds 0,1,2,3,4]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import write_results
from lstmkit.data import load_dataset
from lstmkit.tasks import Forecaster, backtest
from lstmkit.tasks.backtest import coverage

CANDIDATES = {
    "default": {},
    "no log transform": {"transform": "none"},
    "residual over the last value": {"residual_of": "last_value"},
    "one member (no ensemble)": {"ensemble": 1},
    "lookback 2 seasons": {"lookback": 24},
    "calendar as future covariates": {"future_covariates": ("month_sin", "month_cos")},
    "the previous default": {"transform": "none", "residual_of": "last_value", "ensemble": 1, "lookback": 24},
}
METRICS = ("MAE", "RMSE", "sMAPE", "MASE")


def airline_with_calendar() -> pd.DataFrame:
    y = load_dataset("airline")
    angle = 2 * np.pi * (y.index.month.to_numpy() - 1) / 12
    return pd.DataFrame({"passengers": y.to_numpy(), "month_sin": np.sin(angle), "month_cos": np.cos(angle)}, y.index)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0,1,2,3,4")
    args = parser.parse_args()
    torch.set_num_threads(1)
    seeds = [int(s) for s in args.seeds.split(",")]
    data = airline_with_calendar()
    rows, baselines = [], None
    for name, settings in CANDIDATES.items():
        scores, covered, started = [], [], time.perf_counter()
        for seed in seeds:
            result = backtest(Forecaster(horizon=12, seed=seed, **settings), data, folds=3)
            summary = result.summary()
            scores.append(summary.loc["lstm", list(METRICS)].to_numpy())
            covered.append(coverage(result.forecasts))
            baselines = summary.drop(index="lstm")
        scores = np.array(scores)
        row = {"model": f"LSTM: {name}", "seconds_per_backtest": (time.perf_counter() - started) / len(seeds)}
        for k, metric in enumerate(METRICS):
            row[metric], row[f"{metric}_sd"] = float(scores[:, k].mean()), float(scores[:, k].std())
        row["coverage"], row["coverage_sd"] = float(np.mean(covered)), float(np.std(covered))
        rows.append(row)
        print(
            f"{row['model']:45s} "
            + "  ".join(f"{m} {row[m]:6.2f} ± {row[m + '_sd']:4.2f}" for m in METRICS)
            + f"  cover {row['coverage']:.2f}  {row['seconds_per_backtest']:.1f} s",
            flush=True,
        )
    for model, values in baselines.iterrows():
        rows.append({"model": model, **{m: float(values[m]) for m in METRICS}})
        print(f"{model:45s} " + "  ".join(f"{m} {values[m]:6.2f}" for m in METRICS))
    out = write_results("forecast_airline", {"seeds": seeds, "rows": rows})
    print(f"written to {out}")


if __name__ == "__main__":
    main()
