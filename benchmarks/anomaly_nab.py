"""Anomaly detection on NAB and ECG5000: the detector's three scorers against the baselines, same data and labels.

Five NAB series (../shared/data/nab): four with labelled windows and ``art_daily_small_noise``, which has none
(its flagged share of steps is all false positives). Each detector is fitted on the whole series without its
labels (NAB's unsupervised setting: the series is mostly normal) and scores every step. Reported per series:
per-step ROC-AUC and PR-AUC, range-based F1 (Tatbul et al. 2018) of the detector's own threshold and of Hundman's
dynamic threshold (the baselines flag their top 1%), and NAB-style peak-in-window. Point-adjusted F1 is not
reported: random scores can game it. The detector's figures are means over seeds. Then ECG5000, one score per
beat (``ecg``). Last, the streaming cost: ``update`` per point against scoring the whole series at once.

    python benchmarks/anomaly_nab.py [--seeds 0,1,2] [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import write_results
from lstmkit.data.datasets import load_nab
from lstmkit.tasks import AnomalyDetector
from lstmkit.tasks.baselines import isolation_forest_scores, rolling_zscore, seasonal_naive_residual
from lstmkit.tasks.detect import dynamic_threshold
from lstmkit.tasks.metrics import anomaly_scores, range_scores

SERIES = {  # name -> seasonal period in steps (one day; a week for the half-hourly taxi counts)
    "artificialWithAnomaly/art_daily_jumpsup": 288,
    "realKnownCause/nyc_taxi": 336,
    "realKnownCause/ambient_temperature_system_failure": 24,
    "realKnownCause/machine_temperature_system_failure": 288,
    "artificialNoAnomaly/art_daily_small_noise": 288,
}


def evaluate(labels: np.ndarray, scores: np.ndarray, flagged: np.ndarray) -> dict[str, float]:
    result = {"flagged_share": float(flagged.mean())}
    if labels.any():
        result |= anomaly_scores(labels, scores) | {"range_f1": range_scores(labels, flagged)["f1"]}
    return result


def streaming_cost(x: np.ndarray, points: int = 2000) -> dict[str, float]:
    """Microseconds per point: ``update`` one value at a time (the state carried) against scoring the whole
    series at once, on the same forecast detector."""
    detector = AnomalyDetector(seed=0).fit(x)
    started = time.perf_counter()
    detector.score_samples(x)
    whole = (time.perf_counter() - started) / len(x) * 1e6
    detector.start_stream()
    started = time.perf_counter()
    for value in x[:points]:
        detector.update(value)
    return {"update_us": (time.perf_counter() - started) / points * 1e6, "whole_series_us": whole}


def ecg(data_dir: Path, seeds: list[int]) -> dict:
    """ECG5000's training split (../shared/data/ecg5000; class 1 = normal beat): the autoencoder fitted on a seeded
    60% of the normal beats, scoring the held-out normal beats and every abnormal one (one score per beat), against
    an isolation forest on the beats and the distance to the nearest training beat; ROC-AUC."""
    from sklearn.ensemble import IsolationForest
    from sklearn.metrics import roc_auc_score
    from sklearn.neighbors import NearestNeighbors

    from lstmkit.data.sequences import read_ts

    data = read_ts(data_dir / "ecg5000" / "ECG5000_TRAIN.ts")
    X = np.stack([s[:, 0] for s in data.sequences])
    labels = np.array([str(label) for label in data.labels])
    normal = np.flatnonzero(labels == "1")
    np.random.default_rng(0).shuffle(normal)
    train = normal[: int(0.6 * len(normal))]
    held = np.setdiff1d(np.arange(len(X)), train)
    truth = (labels[held] != "1").astype(int)
    lstm = [
        roc_auc_score(
            truth, AnomalyDetector(epochs=60, patience=10, seed=seed).fit_sequences(X[train]).score_sequences(X[held])
        )
        for seed in seeds
    ]
    forest = IsolationForest(random_state=0).fit(X[train])
    nearest = NearestNeighbors(n_neighbors=1).fit(X[train])
    rows = {
        "LSTM autoencoder": lstm,
        "isolation forest": [roc_auc_score(truth, -forest.score_samples(X[held]))],
        "nearest training beat": [roc_auc_score(truth, nearest.kneighbors(X[held])[0][:, 0])],
    }
    print(f"\nECG5000 ({len(train)} normal training beats; {len(held)} scored, {truth.mean():.0%} abnormal): ROC-AUC")
    for model, values in rows.items():
        print(f"  {model:24s} {np.mean(values):.3f} ± {np.std(values):.3f}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    args = parser.parse_args()
    torch.set_num_threads(1)
    seeds = [int(s) for s in args.seeds.split(",")]
    results = {}
    for name, period in SERIES.items():
        series = load_nab(name, args.data_dir / "nab")
        x, labels = series.values, series.labels
        rows = {}
        for scorer in ("forecast", "autoencoder", "seq2seq"):
            runs = []
            for seed in seeds:
                detector = AnomalyDetector(scorer=scorer, seed=seed).fit(x)
                scores = detector.score_samples(x)
                run = evaluate(labels, scores, detector.flag(scores))
                dynamic = scores > dynamic_threshold(scores)
                run["dynamic_flagged_share"] = float(dynamic.mean())
                if labels.any():
                    run["dynamic_range_f1"] = range_scores(labels, dynamic)["f1"]
                runs.append(run)
            rows[f"LSTM {scorer}"] = {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}
        for baseline, scores in (
            ("rolling z-score", rolling_zscore(x, period)),
            ("seasonal-naive residual", seasonal_naive_residual(x, period)),
            ("isolation forest", isolation_forest_scores(x, 32)),
        ):
            rows[baseline] = evaluate(labels, scores, scores > np.quantile(scores, 0.99))
        results[name] = rows
        print(f"\n{name} ({len(x)} steps, {int(labels.sum())} inside windows)")
        for model, row in rows.items():
            print(f"  {model:26s} " + "  ".join(f"{k} {v:.3f}" for k, v in row.items()))
    results["ecg5000"] = ecg(args.data_dir, seeds)
    cost = streaming_cost(load_nab("realKnownCause/nyc_taxi", args.data_dir / "nab").values)
    print(
        f"\nstreaming (forecast scorer, 32 units, 1 thread): update {cost['update_us']:.0f} us per point, "
        f"whole-series scoring {cost['whole_series_us']:.1f} us per point"
    )
    payload = {"seeds": seeds, "series": results, "streaming": cost}
    print(f"written to {write_results('anomaly_nab', payload)}")


if __name__ == "__main__":
    main()
