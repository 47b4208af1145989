"""Tagging quality: WNUT17 named entities and per-step labels along real signals, each beside its baselines.

- WNUT17 (the embedded copy; official train / dev / test): the tagger over seeds, entity F1 exactly as conlleval
  and WNUT17's surface F1, against the most-frequent-tag and all-O baselines; variants: without the CRF, with the
  word-frequency feature (needs ``lstmkit[tag]``).
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
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import write_results
from lstmkit.data.datasets import load_sequence_dataset, load_wnut17
from lstmkit.data.sequences import concatenated_streams
from lstmkit.tasks import SequenceTagger
from lstmkit.tasks.baselines import all_outside, most_frequent_tag
from lstmkit.tasks.metrics import boundary_scores, entity_scores, surface_scores

WNUT_VARIANTS = {"BiLSTM-CRF (default)": {}, "without the CRF": {"crf": False}}
if importlib.util.find_spec("wordfreq") is not None:
    WNUT_VARIANTS["with word frequencies"] = {"lexicons": ("frequency",)}


def summary(values: list[float]) -> str:
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def wnut(seeds: list[int], variants: list[str]) -> dict:
    corpus = load_wnut17()
    (train_x, train_y), dev, (test_x, test_y) = corpus.train, corpus.dev, corpus.test
    rows = {}
    for name, settings in WNUT_VARIANTS.items():
        if variants and name not in variants:
            continue
        entity, surface, seconds = [], [], []
        for seed in seeds:
            started = time.perf_counter()
            tagger = SequenceTagger(seed=seed, **settings).fit(train_x, train_y, validation=dev)
            predicted = tagger.predict(test_x)
            seconds.append(time.perf_counter() - started)
            entity.append(entity_scores(test_y, predicted)["f1"])
            surface.append(surface_scores(test_x, test_y, predicted)["f1"])
            print(
                f"  {name} seed {seed}: entity F1 {entity[-1]:.3f}, surface {surface[-1]:.3f}, {seconds[-1]:.0f} s",
                flush=True,
            )
        rows[name] = {"entity_f1": entity, "surface_f1": surface, "seconds": seconds}
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
