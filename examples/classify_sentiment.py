"""Sentiment of product, movie and restaurant review sentences (UCI Sentiment Labelled Sentences, Kotzias et al.
2015, CC BY 4.0) with a bidirectional LSTM, beside TF-IDF + logistic regression on the same stratified folds.

The guides' sentiment snippet runs an LSTM on random integers; this one reads the real sentences:

    python examples/classify_sentiment.py [--quick] [--source amazon|imdb|yelp] [--data-dir DIR]

``--data-dir`` holds the three ``*_labelled.txt`` files (default: downloaded once into ~/.cache/lstmkit).
``--quick``: one 80/20 split of one source and fewer epochs.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from sklearn.model_selection import StratifiedKFold

from lstmkit.data.datasets import load_sentiment
from lstmkit.tasks import SequenceClassifier
from lstmkit.tasks.baselines import baselines

SETTINGS = dict(  # measured in docs/classification.md: small and regularized
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--source", default="amazon", choices=["amazon", "imdb", "yelp"])
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    texts, labels = load_sentiment(args.source, args.data_dir)
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(texts, labels))[: 1 if args.quick else 5]
    scores = {"lstm": [], "tfidf_logreg": []}
    for train, test in folds:
        train_texts, test_texts = [texts[i] for i in train], [texts[i] for i in test]
        lstm = SequenceClassifier(**(SETTINGS | ({"epochs": 15} if args.quick else {})))
        scores["lstm"].append(lstm.fit(train_texts, labels[train]).score(test_texts, labels[test]))
        tfidf = baselines("text")["tfidf_logreg"].fit(train_texts, labels[train])
        scores["tfidf_logreg"].append(tfidf.score(test_texts, labels[test]))
    for name, values in scores.items():
        print(f"{args.source} {name} accuracy {np.mean(values):.3f} ± {np.std(values):.3f} over {len(values)} folds")
    example = "The battery died after two days, very disappointed."
    probability = lstm.predict_proba([example])[0, list(lstm.classes_).index(1)]
    print(f"P(positive | {example!r}) = {probability:.2f}")


if __name__ == "__main__":
    main()
