"""Named entities in noisy user text: the guides' NER snippet (a BiLSTM tagging two hand-made sentences) on the
real WNUT17 data, embedded in lstmkit: train on the official training sentences with lexical features (word
frequencies in nine languages, GeoNames places, census names: ``pip install "lstmkit[tag]"``), stop on the dev
sentences' entity F1, train again on train + dev for the best epoch count, and score the test sentences as the
shared task did, beside the most-frequent-tag baseline.

    python examples/tag_entities.py [--quick]

--quick trains on 1,500 sentences for at most 8 epochs (a minute or two); the full run takes about ten minutes.
"""

from __future__ import annotations

import argparse

import torch

from lstmkit.data.datasets import load_wnut17
from lstmkit.tasks import SequenceTagger
from lstmkit.tasks.baselines import most_frequent_tag
from lstmkit.tasks.metrics import entity_scores, surface_scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    corpus = load_wnut17()
    (train_x, train_y), dev, (test_x, test_y) = corpus.train, corpus.dev, corpus.test
    if args.quick:
        train_x, train_y = train_x[:1500], train_y[:1500]
    tagger = SequenceTagger(
        lexicons=("frequency", "languages", "places", "names"),
        refit=True,
        patience=8,
        epochs=8 if args.quick else 30,
        seed=0,
    ).fit(train_x, train_y, validation=dev)
    predicted = tagger.predict(test_x)
    ours = entity_scores(test_y, predicted)
    baseline = entity_scores(test_y, most_frequent_tag(train_x, train_y, test_x))
    print(
        f"BiLSTM-CRF: entity F1 {ours['f1']:.3f} (precision {ours['precision']:.3f}, recall {ours['recall']:.3f}), "
        f"surface F1 {surface_scores(test_x, test_y, predicted)['f1']:.3f}"
    )
    print(f"most frequent tag: entity F1 {baseline['f1']:.3f}")
    for kind, row in ours["per_type"].items():
        print(f"  {kind:14s} F1 {row['f1']:.3f} over {row['support']} entities")
    sentence = [
        "Just",
        "landed",
        "in",
        "Reykjavik",
        "for",
        "the",
        "Iceland",
        "Airwaves",
        "festival",
        "with",
        "@kanyewest",
    ]
    print(" ".join(f"{w}/{t}" for w, t in zip(sentence, tagger.predict([sentence])[0], strict=True)))


if __name__ == "__main__":
    main()
