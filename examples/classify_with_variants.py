"""Sequence classification with lstmkit.nn: variable lengths, a peephole LSTM, recurrent dropout, the Trainer,
a checkpoint, and a look at the gates.

The task: each sequence has a random length; its label is the sign of the sum of its first channel, so the
model must use exactly the valid steps (padding is noise it must ignore).

    python examples/classify_with_variants.py [--quick] [--out gates.png]
"""

from __future__ import annotations

import argparse
import tempfile

import torch
from torch import nn

from lstmkit import nn as lnn
from lstmkit.training import TrainConfig, Trainer
from lstmkit.viz import plot_gates


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = lnn.LSTM(3, 24, batch_first=True, cell="peephole", recurrent_dropout=0.1, forget_bias=1.0)
        self.head = nn.Linear(24, 2)

    def forward(self, x, lengths):  # the Trainer passes each batch's lengths (see lstmkit.training.data)
        out, (h_n, _) = self.lstm(x, lengths=lengths)
        return self.head(h_n[-1])  # the final state is each sequence's own last valid step


def make_data(n: int, T: int, generator: torch.Generator):
    lengths = torch.randint(5, T + 1, (n,), generator=generator)
    x = torch.randn(n, T, 3, generator=generator)
    valid = torch.arange(T)[None, :] < lengths[:, None]
    x[~valid] = 10 * torch.randn(int((~valid).sum()), 3, generator=generator)  # loud padding
    labels = ((x[..., 0] * valid).sum(1) > 0).long()
    return x, labels, lengths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default="gates.png")
    args = parser.parse_args()
    torch.set_num_threads(1)
    generator = torch.Generator().manual_seed(0)
    train = make_data(1000 if args.quick else 4000, 20, generator)
    val = make_data(200, 20, generator)
    torch.manual_seed(0)
    model = Classifier()
    accuracy = {"accuracy": lambda logits, labels: (logits.argmax(-1) == labels).float().mean()}
    with tempfile.TemporaryDirectory() as folder:
        config = TrainConfig(
            epochs=8 if args.quick else 30,
            batch_size=64,
            lr=5e-3,
            checkpoint_dir=folder,
            early_stopping_patience=5,
            progress=False,
        )
        trainer = Trainer(model, nn.CrossEntropyLoss(), config, metrics=accuracy).fit(train, val)
    print(f"validation accuracy {trainer.history_[-1]['val_accuracy']:.3f} after {len(trainer.history_)} epochs")
    model.eval()
    with torch.no_grad():
        x, _, lengths = val
        _, _, trace = model.lstm(x[:4], lengths=lengths[:4], return_gates=True)
    plot_gates(trace, sample=0, inputs=x[0, : int(lengths[0]), 0].numpy(), units=slice(0, 12)).savefig(
        args.out, dpi=100
    )
    print(f"gates of the first validation sequence in {args.out}")


if __name__ == "__main__":
    main()
