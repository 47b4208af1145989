"""Who is speaking? JapaneseVowels (Kudo, Toyama & Shimbo 1999; UEA archive): nine speakers, 12 LPC cepstra per
frame, 7-29 frames per utterance, classified by a bidirectional LSTM over the variable-length sequences.

The guides' "speech" snippet classifies random MFCC-shaped noise; this one uses the embedded real recordings
and their official train/test split, beside the 1-nearest-neighbour baseline, and draws the gates of one
utterance:

    python examples/classify_speakers.py [--quick] [--out gates.png]
"""

from __future__ import annotations

import argparse

import torch

from lstmkit.data.datasets import load_sequence_dataset
from lstmkit.tasks import SequenceClassifier
from lstmkit.tasks.baselines import baselines
from lstmkit.viz import plot_gates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default="gates.png")
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = load_sequence_dataset("japanese_vowels")
    train, test = data.train, data.test
    classifier = SequenceClassifier(
        bidirectional=True, dropout=0.2, epochs=30 if args.quick else 100, patience=20, seed=0
    ).fit(train.sequences, train.labels)
    print(f"LSTM test accuracy {classifier.score(test.sequences, test.labels):.3f} ({len(test.labels)} utterances)")
    for name, baseline in baselines("numeric").items():
        accuracy = baseline.fit(train.sequences, train.labels).score(test.sequences, test.labels)
        print(f"{name} test accuracy {accuracy:.3f}")
    trace = classifier.trace(test.sequences[0])
    plot_gates(trace, sample=0, inputs=test.sequences[0][:, 0], units=slice(0, 16)).savefig(args.out, dpi=100)
    print(f"gates of the first test utterance (speaker {test.labels[0]}) in {args.out}")


if __name__ == "__main__":
    main()
