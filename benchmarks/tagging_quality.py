"""Tagging quality: WNUT17 named entities and per-step labels along real signals, each beside its baselines.

- WNUT17 (the embedded copy; official train / dev / test): the tagger over seeds, entity F1 exactly as conlleval
  and WNUT17's surface F1, against the most-frequent-tag and all-O baselines; each addition measured on top of
  the one before: the plain BiLSTM-CRF, + the lexical features (needs ``lstmkit[tag]``), + a patience of 8 epochs
  for early stopping, + the refit on train and dev, + an ensemble of three.
- Signals (a derived task, documented in ``lstmkit.data.sequences.concatenated_streams``): streams of 4
  BasicMotions recordings each, every step labelled with its recording's activity; 60 training streams from the
  training recordings, 40 test streams from the test recordings, seeded. Framewise accuracy and segment-boundary
  F1 (within 5 steps), bidirectional against forward-only (Graves & Schmidhuber 2005's point: the label of a step
  depends on what follows it too).

Prints the tables and writes benchmarks/results/tagging_quality.json.

    python benchmarks/tagging_quality.py [--part wnut|signals|all] [--seeds 0,1,2]
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
from lstmkit.data.datasets import load_sequence_dataset, load_wnut17
from lstmkit.data.lexicon import check_lexicons
from lstmkit.data.sequences import concatenated_streams
from lstmkit.errors import ParameterError
from lstmkit.tasks import SequenceTagger
from lstmkit.tasks.baselines import all_outside, most_frequent_tag
from lstmkit.tasks.metrics import boundary_scores, entity_scores, surface_scores

LEXICONS = ("frequency", "languages", "places", "names")
WNUT_VARIANTS = {
    "BiLSTM-CRF": {},
    "+ lexicons": {"lexicons": LEXICONS},
    "+ patience 8": {"lexicons": LEXICONS, "patience": 8},
    "+ refit on train + dev": {"lexicons": LEXICONS, "patience": 8, "refit": True},
    "+ ensemble of 3": {"lexicons": LEXICONS, "patience": 8, "refit": True, "ensemble": 3},
}


def summary(values: list[float]) -> str:
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def wnut(seeds: list[int], variants: list[str]) -> dict:
    corpus = load_wnut17()
    (train_x, train_y), dev, (test_x, test_y) = corpus.train, corpus.dev, corpus.test
    rows = {}
    for name, settings in WNUT_VARIANTS.items():
        if variants and name not in variants:
            continue
        try:
            check_lexicons(settings.get("lexicons", ()))
        except ParameterError as error:
            print(f"  {name}: skipped ({error})")
            continue
        row = {key: [] for key in ("entity_f1", "precision", "recall", "surface_f1", "seconds", "outside_bias")}
        for seed in seeds:
            started = time.perf_counter()
            tagger = SequenceTagger(seed=seed, **settings).fit(train_x, train_y, validation=dev)
            predicted = tagger.predict(test_x)
            row["seconds"].append(time.perf_counter() - started)
            scores = entity_scores(test_y, predicted)
            for key in ("precision", "recall"):
                row[key].append(scores[key])
            row["entity_f1"].append(scores["f1"])
            row["surface_f1"].append(surface_scores(test_x, test_y, predicted)["f1"])
            row["outside_bias"].append(tagger.outside_bias_)
            if settings.get("refit"):  # a diagnostic: the same model without the O bias chosen before the refit
                chosen, tagger.outside_bias_ = tagger.outside_bias_, 0.0
                row.setdefault("entity_f1_without_bias", []).append(tagger.score(test_x, test_y))
                tagger.outside_bias_ = chosen
            print(
                f"  {name} seed {seed}: entity F1 {scores['f1']:.3f} (P {scores['precision']:.3f}, R "
                f"{scores['recall']:.3f}), surface {row['surface_f1'][-1]:.3f}, O bias {tagger.outside_bias_}, "
                f"{row['seconds'][-1]:.0f} s"
                + (f", without the bias {row['entity_f1_without_bias'][-1]:.3f}" if settings.get("refit") else ""),
                flush=True,
            )
        rows[name] = {**row, "settings": settings}
    for name, predicted in (
        ("most frequent tag", most_frequent_tag(train_x, train_y, test_x)),
        ("all O", all_outside(test_x)),
    ):
        rows[name] = {
            "entity_f1": [entity_scores(test_y, predicted)["f1"]],
            "surface_f1": [surface_scores(test_x, test_y, predicted)["f1"]],
        }
    print("\nWNUT17 test (mean ± sd over seeds)")
    for name, row in rows.items():
        print(f"{name:28s} entity F1 {summary(row['entity_f1'])}  surface F1 {summary(row['surface_f1'])}")
    return rows


def signals(seeds: list[int]) -> dict:
    data = load_sequence_dataset("basic_motions")
    train_x, train_y = concatenated_streams(data.train, streams=60, per_stream=4, seed=0)
    test_x, test_y = concatenated_streams(data.test, streams=40, per_stream=4, seed=1)
    rows = {}
    for name, bidirectional in (("bidirectional", True), ("forward only", False)):
        accuracy, boundary = [], []
        for seed in seeds:
            tagger = SequenceTagger(
                bidirectional=bidirectional,
                hidden_size=32,
                dropout=0.1,
                epochs=60,
                patience=10,
                batch_size=8,
                seed=seed,
            ).fit(train_x, train_y)
            predicted = tagger.predict(test_x)
            accuracy.append(tagger.score(test_x, test_y))
            boundary.append(boundary_scores(test_y, predicted, tolerance=5)["f1"])
        rows[name] = {"accuracy": accuracy, "boundary_f1": boundary}
    majority = max(set(sum(train_y, [])), key=sum(train_y, []).count)
    steps = np.concatenate([np.array(t) for t in test_y])
    rows["majority activity"] = {"accuracy": [float(np.mean(steps == majority))], "boundary_f1": [0.0]}
    print("\nBasicMotions streams, per-step activity (mean ± sd over seeds)")
    for name, row in rows.items():
        print(f"{name:20s} accuracy {summary(row['accuracy'])}  boundary F1 (5 steps) {summary(row['boundary_f1'])}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("wnut", "signals", "all"), default="all")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--variants", default="", help="WNUT17 variants to run, by name, comma-separated (all)")
    parser.add_argument("--name", default="tagging_quality", help="results file name")
    args = parser.parse_args()
    torch.set_num_threads(1)
    seeds = [int(s) for s in args.seeds.split(",")]
    results = {}
    if args.part in ("signals", "all"):
        results["signals"] = signals(seeds)
    if args.part in ("wnut", "all"):
        results["wnut17"] = wnut(seeds, [v for v in args.variants.split(",") if v])
    print(f"written to {write_results(args.name, {'seeds': seeds, **results})}")


if __name__ == "__main__":
    main()
