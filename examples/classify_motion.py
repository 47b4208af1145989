"""Which activity? BasicMotions (UEA archive): a smart watch's accelerometer and gyroscope (6 channels, 100 steps
at 10 Hz) while standing, walking, running or playing badminton, classified by a bidirectional LSTM with max
pooling over time (the classes differ most in how strongly the signals swing).

The guides' "video/motion" snippet runs on random frames; this one uses the embedded recordings and their
official split, beside the 1-nearest-neighbour baseline:

    python examples/classify_motion.py [--quick]

With 40 training cases there is no room for a validation part: training runs a fixed number of epochs.
"""

from __future__ import annotations

import argparse

import torch

from lstmkit.data.datasets import load_sequence_dataset
from lstmkit.tasks import SequenceClassifier
from lstmkit.tasks.baselines import baselines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = load_sequence_dataset("basic_motions")
    train, test = data.train, data.test
    classifier = SequenceClassifier(
        bidirectional=True, pooling="max", val_fraction=0.0, batch_size=8, epochs=40 if args.quick else 150, seed=0
    ).fit(train.sequences, train.labels)
    print(f"LSTM test accuracy {classifier.score(test.sequences, test.labels):.3f} ({len(test.labels)} recordings)")
    for name, baseline in baselines("numeric").items():
        accuracy = baseline.fit(train.sequences, train.labels).score(test.sequences, test.labels)
        print(f"{name} test accuracy {accuracy:.3f}")


if __name__ == "__main__":
    main()
