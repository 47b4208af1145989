"""One training epoch of lstmkit's sequence classifier against the same model written by hand with
torch.nn.LSTM + pack_padded_sequence, side by side, one thread. Target: within 1.1x.

Ours: ``Trainer`` over ``Batch(inputs, targets, lengths)`` (each batch trimmed to its longest case) driving
the ``ClassifierNet`` that ``SequenceClassifier`` builds. Theirs: the loop a tutorial writes: an embedding
or the raw features, ``pack_padded_sequence(..., enforce_sorted=False)``, ``torch.nn.LSTM``, the last
state into a linear layer, Adam with the same clipping, the same batches in the same order. Both start
from the same weights; after the epoch the weights are compared, so both did the same work.

Two jobs: amazon sentiment sentences (1,000 texts, word ids, unidirectional) and JapaneseVowels (270
numeric cases of 7-26 steps, bidirectional). Prints a table, writes benchmarks/results/classifier_epoch.json.

    python benchmarks/classifier_epoch.py [--rounds 7] [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence

sys.path.insert(0, str(Path(__file__).parent))
from common import compare, hand_written_epoch, trainer_epoch, write_results
from lstmkit.data.datasets import load_sentiment, load_sequence_dataset
from lstmkit.tasks import SequenceClassifier

BATCH, LR = 32, 3e-3


class HandWritten(torch.nn.Module):
    def __init__(self, *, vocab_size, input_size, hidden_size, bidirectional, classes):
        super().__init__()
        self.embedding = torch.nn.Embedding(vocab_size, input_size, padding_idx=0) if vocab_size else None
        self.lstm = torch.nn.LSTM(input_size, hidden_size, batch_first=True, bidirectional=bidirectional)
        self.head = torch.nn.Linear(hidden_size * (2 if bidirectional else 1), classes)

    def forward(self, x, lengths):
        x = self.embedding(x) if self.embedding is not None else x
        _, (h_n, _) = self.lstm(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
        return self.head(torch.cat(list(h_n[-(2 if self.lstm.bidirectional else 1) :]), dim=1))


def job(name: str, X, y, bidirectional: bool):
    """Our network and the hand-written twin with the same weights, and the encoded data."""
    estimator = SequenceClassifier(bidirectional=bidirectional, epochs=1, val_fraction=0.0, hidden_size=64)
    estimator.fit(X, y)  # fits the vocabulary or the standardizer; the timed epochs start from fresh weights
    inputs, lengths = estimator._encode(X)
    targets = torch.from_numpy(np.unique(y, return_inverse=True)[1])
    text = estimator.input_kind_ == "text"
    torch.manual_seed(0)
    ours = estimator._build_model()
    theirs = HandWritten(
        vocab_size=len(estimator.vocabulary_) if text else None,
        input_size=estimator.embedding_dim if text else estimator.n_channels_,
        hidden_size=64,
        bidirectional=bidirectional,
        classes=len(estimator.classes_),
    )
    renamed = {k.replace("encoder.rnn.", "lstm.").replace("encoder.", ""): v for k, v in ours.state_dict().items()}
    theirs.load_state_dict(renamed)
    return name, ours, theirs, (inputs, targets, lengths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    texts, labels = load_sentiment("amazon", Path(args.data_dir) / "sentiment_sentences", download=False)
    vowels = load_sequence_dataset("japanese_vowels").train
    jobs = [
        job("amazon sentiment, words, unidirectional", texts, labels, False),
        job("JapaneseVowels, 12 channels, bidirectional", vowels.sequences, vowels.labels, True),
    ]
    rows = {}
    for name, ours, theirs, data in jobs:
        loss = torch.nn.CrossEntropyLoss()
        ours_run, theirs_run = (
            trainer_epoch(ours, data, loss, BATCH, LR),
            hand_written_epoch(theirs, data, loss, BATCH, LR, trim=False),
        )
        rows[name] = compare(ours_run, theirs_run, args.rounds, args.repeats)
        our_weights = {
            k.replace("encoder.rnn.", "lstm.").replace("encoder.", ""): v for k, v in ours.state_dict().items()
        }
        gap = max(float((our_weights[k] - v).abs().max()) for k, v in theirs.state_dict().items())
        rows[name]["max_weight_difference"] = gap
        assert gap < 1e-4, f"{name}: the two epochs did different work (weights differ by {gap})"
    print(f"one epoch, batch {BATCH}, Adam, clip 1.0, H 64, float32, 1 thread; torch {torch.__version__}")
    print(f"{'job':<46}{'ours ms':>9}{'torch.nn ms':>13}{'ratio':>8}{'max |dw|':>10}")
    for name, row in rows.items():
        print(
            f"{name:<46}{row['ours_ms']:>9.1f}{row['theirs_ms']:>13.1f}{row['ratio']:>8.3f}{row['max_weight_difference']:>10.1e}"
        )
    write_results("classifier_epoch", {"config": {"batch_size": BATCH, "lr": LR, "hidden_size": 64}, "results": rows})


if __name__ == "__main__":
    main()
