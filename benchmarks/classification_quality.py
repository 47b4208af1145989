"""Classification quality on real data, every figure beside its baselines on the same split, mean ± sd over seeds.

- UEA/UCR problems on their official train/test splits: JapaneseVowels, BasicMotions, GunPoint; the LSTM
  (settings per dataset below) over 3 seeds, the majority class and 1-nearest-neighbour (Euclidean on series
  resampled to the training median length).
- Sentiment sentences (amazon, imdb, yelp): 5-fold stratified cross-validation per source (the same folds
  for every model), the LSTM over 3 seeds against TF-IDF (uni+bigrams) + logistic regression and the majority.
- The guides' "LSTM vs GRU" comparison: lstm, gru, peephole, coupled, layernorm and the vanilla RNN with the
  same settings and budget, on JapaneseVowels (test accuracy) and on sentiment (5-fold accuracy, mean over
  the three sources), 3 seeds each.

Prints the tables and writes benchmarks/results/classification_quality.json. About 25 minutes on 2 cores.

    python benchmarks/classification_quality.py [--data-dir ../shared/data] [--part uea|sentiment|cells|all]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).parent))
from common import write_results
from lstmkit.data.datasets import load_sentiment, load_uea
from lstmkit.tasks import SequenceClassifier
from lstmkit.tasks.baselines import baselines

SEEDS = (0, 1, 2)
UEA_SETTINGS = {
    "japanese_vowels": dict(bidirectional=True, dropout=0.2, epochs=100, patience=20),
    "basic_motions": dict(bidirectional=True, pooling="max", val_fraction=0.0, batch_size=8, epochs=150),
    "gunpoint": dict(bidirectional=True, frame_size=10, val_fraction=0.0, batch_size=8, epochs=200),
}
SENTIMENT_SETTINGS = dict(
    bidirectional=True,
    pooling="max",
    embedding_dim=50,
    hidden_size=32,
    dropout=0.5,
    token_dropout=0.1,
    lr=1e-2,
    weight_decay=1e-4,
    epochs=60,
    patience=10,
)
CELLS = ("lstm", "gru", "peephole", "coupled", "layernorm", "rnn")


def summary(values) -> dict:
    return {"mean": float(np.mean(values)), "sd": float(np.std(values)), "values": [float(v) for v in values]}


def uea(data_dir: Path) -> dict:
    results = {}
    for name, settings in UEA_SETTINGS.items():
        data = load_uea(name, data_dir / name, download=False)
        train, test = data.train, data.test
        lstm = [
            SequenceClassifier(seed=seed, **settings)
            .fit(train.sequences, train.labels)
            .score(test.sequences, test.labels)
            for seed in SEEDS
        ]
        results[name] = {"lstm": summary(lstm)}
        for baseline, model in baselines("numeric").items():
            results[name][baseline] = summary(
                [model.fit(train.sequences, train.labels).score(test.sequences, test.labels)]
            )
        print(
            f"{name:<16} " + "  ".join(f"{m} {r['mean']:.3f} ± {r['sd']:.3f}" for m, r in results[name].items()),
            flush=True,
        )
    return results


def cross_validated(texts, labels, make, seed: int) -> float:
    folds = StratifiedKFold(5, shuffle=True, random_state=0).split(texts, labels)
    scores = []
    for train, test in folds:
        model = make(seed).fit([texts[i] for i in train], labels[train])
        scores.append(model.score([texts[i] for i in test], labels[test]))
    return float(np.mean(scores))


def sentiment(data_dir: Path, settings: dict, with_baselines: bool = True) -> dict:
    results = {}
    for source in ("amazon", "imdb", "yelp"):
        texts, labels = load_sentiment(source, data_dir / "sentiment_sentences", download=False)
        results[source] = {
            "lstm": summary(
                [cross_validated(texts, labels, lambda s: SequenceClassifier(seed=s, **settings), s) for s in SEEDS]
            )
        }
        if with_baselines:
            for name in ("tfidf_logreg", "majority"):
                results[source][name] = summary(
                    [cross_validated(texts, labels, lambda s, n=name: baselines("text")[n], 0)]
                )
            print(
                f"{source:<8} " + "  ".join(f"{m} {r['mean']:.3f} ± {r['sd']:.3f}" for m, r in results[source].items()),
                flush=True,
            )
    return results


def cells(data_dir: Path) -> dict:
    results = {}
    vowels = load_uea("japanese_vowels", data_dir / "japanese_vowels", download=False)
    for cell in CELLS:
        jv = [
            SequenceClassifier(cell=cell, seed=s, **UEA_SETTINGS["japanese_vowels"])
            .fit(vowels.train.sequences, vowels.train.labels)
            .score(vowels.test.sequences, vowels.test.labels)
            for s in SEEDS
        ]
        by_source = sentiment(data_dir, SENTIMENT_SETTINGS | {"cell": cell}, with_baselines=False)
        per_seed = np.mean([by_source[source]["lstm"]["values"] for source in by_source], axis=0)  # mean over sources
        results[cell] = {"japanese_vowels": summary(jv), "sentiment": summary(per_seed)}
        jv_text = f"{np.mean(jv):.3f} ± {np.std(jv):.3f}"
        print(f"{cell:<10} JapaneseVowels {jv_text}  sentiment {per_seed.mean():.3f} ± {per_seed.std():.3f}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--part", default="all", choices=["uea", "sentiment", "cells", "all"])
    args = parser.parse_args()
    torch.set_num_threads(1)
    data_dir = Path(args.data_dir)
    results = {}
    if args.part in ("uea", "all"):
        results["uea"] = uea(data_dir)
    if args.part in ("sentiment", "all"):
        results["sentiment"] = sentiment(data_dir, SENTIMENT_SETTINGS)
    if args.part in ("cells", "all"):
        results["cells"] = cells(data_dir)
    settings = {"uea": UEA_SETTINGS, "sentiment": SENTIMENT_SETTINGS, "seeds": list(SEEDS)}
    write_results(f"classification_quality_{args.part}", {"settings": settings, "results": results})


if __name__ == "__main__":
    main()
