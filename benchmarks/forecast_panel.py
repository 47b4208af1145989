"""The forecaster on a panel of real series at their natural frequencies, against seasonal naive, ETS and ARIMA.

Every series gets a 3-origin rolling backtest (``lstmkit.tasks.backtest``) with the horizon of its frequency
(monthly 12, quarterly 8, yearly 6, weekly 13, daily 14, as in the M4 competition except monthly 18 -> 12),
the LSTM with default settings, and the baselines on the same folds. Reported: MASE per series (mean over
the folds; the LSTM's as mean ± sd over the seeds), and the mean rank of each model over the panel (1 =
best; per seed for the LSTM, then averaged).

Series (all public domain, except nyc_taxi: NAB, MIT licence):
- airline: monthly airline passengers 1949-1960 (embedded in lstmkit; Box & Jenkins)
- elec_equip: monthly euro-area electrical equipment orders 1995-2016 (statsmodels; Eurostat)
- elnino: monthly Pacific sea surface temperature 1950-2010 (statsmodels; NOAA)
- co2: weekly Mauna Loa CO2, the last 10 years to 2001 (statsmodels; NOAA/Scripps), gaps interpolated
- realgdp, unemp: quarterly US real GDP and unemployment 1959-2009 (statsmodels macrodata; US BEA, BLS)
- sunspots: yearly mean sunspot numbers 1700-2008 (embedded; SIDC)
- nile: yearly Nile flow at Aswan 1871-1970 (statsmodels)
- nyc_taxi: daily NYC taxi passengers, July 2014 - January 2015 (NAB, summed from half-hours; ../shared/data)

Needs ``pip install -e ".[stats,panel]"`` (statsforecast for ETS and ARIMA, statsmodels for its datasets).

    python benchmarks/forecast_panel.py [--seeds 0,1,2] [--series airline,nile] [--set lookback=24 ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.stats import rankdata

sys.path.insert(0, str(Path(__file__).parent))
from common import write_results
from lstmkit.data import load_dataset
from lstmkit.tasks import Forecaster, backtest
from lstmkit.tasks.backtest import coverage
from lstmkit.tasks.forecast_baselines import statistical_available

HORIZONS = {"MS": 12, "QS-JAN": 8, "YS-JAN": 6, "W-SAT": 13, "D": 14}
RANKED = ("lstm", "seasonal_naive", "ets", "arima")


def _statsmodels(name: str) -> pd.DataFrame:
    import importlib

    return importlib.import_module(f"statsmodels.datasets.{name}").load_pandas().data


def panel(data_dir: Path) -> dict[str, pd.Series]:
    """The panel's series, each with a DatetimeIndex at its frequency."""
    quarters = pd.date_range("1959-01-01", periods=203, freq="QS-JAN")
    macro = _statsmodels("macrodata")
    elnino = _statsmodels("elnino").set_index("YEAR").stack()
    co2 = _statsmodels("co2")["co2"].interpolate().iloc[-520:]
    taxi = pd.read_csv(data_dir / "nab" / "data" / "realKnownCause" / "nyc_taxi.csv", parse_dates=["timestamp"])
    taxi = taxi.set_index("timestamp")["value"].resample("D").sum()
    series = {
        "airline": load_dataset("airline"),
        "elec_equip": _statsmodels("elec_equip").iloc[:, 0].asfreq("MS"),
        "elnino": pd.Series(elnino.to_numpy(), index=pd.date_range("1950-01-01", periods=len(elnino), freq="MS")),
        "co2": co2.asfreq("W-SAT"),
        "realgdp": pd.Series(macro["realgdp"].to_numpy(), index=quarters),
        "unemp": pd.Series(macro["unemp"].to_numpy(), index=quarters),
        "sunspots": load_dataset("sunspots"),
        "nile": pd.Series(
            _statsmodels("nile")["volume"].to_numpy(), index=pd.date_range("1871-01-01", periods=100, freq="YS-JAN")
        ),
        "nyc_taxi": taxi.iloc[1:-1].asfreq("D"),  # whole days only
    }
    return {name: s.rename(name).astype(float) for name, s in series.items()}


def _value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--series", default="")
    parser.add_argument("--set", action="append", default=[], help="a Forecaster parameter, NAME=VALUE (JSON)")
    parser.add_argument("--name", default="forecast_panel", help="results file name")
    args = parser.parse_args()
    if not statistical_available():
        raise SystemExit('statsforecast is missing: pip install -e ".[stats,panel]"')
    torch.set_num_threads(1)
    settings = {k: _value(v) for k, v in (item.split("=", 1) for item in args.set)}
    seeds = [int(s) for s in args.seeds.split(",")]
    chosen = panel(args.data_dir)
    if args.series:
        chosen = {name: chosen[name] for name in args.series.split(",")}
    rows, ranks = [], {model: [] for model in RANKED}
    for name, series in chosen.items():
        horizon = HORIZONS[series.index.freqstr]
        mase, covered, started = {}, [], time.perf_counter()
        for seed in seeds:
            result = backtest(Forecaster(horizon=horizon, seed=seed, **settings), series, folds=3)
            summary = result.summary()["MASE"]
            mase.setdefault("lstm", []).append(summary["lstm"])
            for model in result.models[1:]:
                mase[model] = [summary[model]]
            covered.append(coverage(result.forecasts))
            order = rankdata([summary[model] for model in RANKED])
            for model, rank in zip(RANKED, order, strict=True):
                ranks[model].append(rank)
        seconds = (time.perf_counter() - started) / len(seeds)
        row = {
            "series": name,
            "frequency": series.index.freqstr,
            "length": len(series),
            "horizon": horizon,
            "lstm_mase": float(np.mean(mase["lstm"])),
            "lstm_mase_sd": float(np.std(mase["lstm"])),
            **{f"{model}_mase": float(mase[model][0]) for model in mase if model != "lstm"},
            "coverage": float(np.mean(covered)),
            "seconds_per_backtest": seconds,
        }
        rows.append(row)
        print(
            f"{name:12s} {row['frequency']:7s} T={len(series):4d} h={horizon:2d}  LSTM {row['lstm_mase']:.3f} ± "
            f"{row['lstm_mase_sd']:.3f}  snaive {row['seasonal_naive_mase']:.3f}  naive {row['naive_mase']:.3f}  "
            f"ETS {row['ets_mase']:.3f}  ARIMA {row['arima_mase']:.3f}  cover {row['coverage']:.2f}  {seconds:.0f}s",
            flush=True,
        )
    mean_rank = {model: float(np.mean(values)) for model, values in ranks.items()}
    print("mean rank over the panel (1 = best):", ", ".join(f"{m} {r:.2f}" for m, r in mean_rank.items()))
    out = write_results(args.name, {"settings": settings, "seeds": seeds, "series": rows, "mean_rank": mean_rank})
    print(f"written to {out}")


if __name__ == "__main__":
    main()
