"""Anomalies in a real series: the guides' LSTM autoencoder snippet (an encoder LSTM reads a window, its last state
is repeated, a decoder LSTM rebuilds the window, the top 5% of reconstruction errors are "anomalies") on NAB's NYC
taxi series with its five labelled windows (embedded in lstmkit; MIT licence, Numenta), scored as a detector
must be: per-step ROC-AUC and PR-AUC, and range-based F1 (Tatbul et al. 2018), beside a rolling z-score.

    python examples/detect_anomalies.py [--quick] [--out scores.png]

Flagging the top 5% finds "anomalies" in any series by construction; the threshold chosen on the training
scores flags far fewer steps, and the metrics show what each choice is worth (measured, full run: ROC-AUC 0.78
against 0.53 for the z-score; range F1 0.22 for the top 5%, 0.15 for the training threshold, which flags 1%).
--quick trains for at most 20 epochs, the full run for at most 30 (early stopping; both well under a minute).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from lstmkit.data.datasets import load_nab
from lstmkit.tasks import AnomalyDetector
from lstmkit.tasks.baselines import rolling_zscore
from lstmkit.tasks.metrics import anomaly_scores, range_scores
from lstmkit.viz import plot_anomalies


def report(name: str, labels: np.ndarray, scores: np.ndarray, flagged: np.ndarray) -> None:
    ranking, found = anomaly_scores(labels, scores), range_scores(labels, flagged)
    print(
        f"{name:<34} ROC-AUC {ranking['roc_auc']:.3f}  PR-AUC {ranking['pr_auc']:.3f}  range F1 {found['f1']:.3f}  "
        f"flags {flagged.mean():.1%} of the steps"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default="scores.png", help="where to draw the series, its scores and flags")
    args = parser.parse_args()
    torch.set_num_threads(1)
    series = load_nab()  # 10,320 half-hours; labels: NAB's five windows (marathon, holidays, a snow storm)
    values, labels = series.values, series.labels.astype(int)

    # the guides' model: windows of 64 steps, encoder LSTM -> repeated last state -> decoder LSTM
    detector = AnomalyDetector(scorer="autoencoder", window=64, epochs=20 if args.quick else 30, seed=0)
    detector.fit(values)  # the whole series, mostly normal (the labels are never shown to the model)
    scores = detector.score_samples(values)

    top5 = scores > np.quantile(scores, 0.95)  # the guides' rule
    report("autoencoder, top 5% flagged", labels, scores, top5)
    report("autoencoder, training threshold", labels, scores, detector.flag(scores))
    baseline = rolling_zscore(values, 64)
    report("rolling z-score, top 5% flagged", labels, baseline, baseline > np.quantile(baseline, 0.95))
    for found in detector.ranges_of(scores)[:5]:
        start, end = series.timestamps[found["start"]], series.timestamps[found["end"]]
        print(f"  flagged {start} .. {end}, peak {found['peak']:.1f}")
    threshold = detector.threshold_for(scores)
    plot_anomalies(values, scores, detector.flag(scores), threshold, labels, title="NYC taxi").savefig(
        args.out, dpi=110
    )
    print(f"series, scores and flags drawn in {args.out}")


if __name__ == "__main__":
    main()
