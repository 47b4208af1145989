"""A training run driven from the command line, for the tests that kill, resume and distribute it.

    python train_script.py OUT_DIR [--resume] [--slow SECONDS]
    torchrun --nproc_per_node=2 train_script.py OUT_DIR

Trains a small lstmkit LSTM regressor; rank 0 writes the final weights to OUT_DIR/final.safetensors.
Dropout masks are drawn per process, so compare process counts with ``--recurrent-dropout 0``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from safetensors.torch import save_file

from lstmkit import nn as lnn
from lstmkit.training import TrainConfig, Trainer
from lstmkit.training.distributed import world


class Regressor(torch.nn.Module):
    def __init__(self, recurrent_dropout: float):
        super().__init__()
        self.lstm = lnn.LSTM(2, 8, batch_first=True, recurrent_dropout=recurrent_dropout)
        self.head = torch.nn.Linear(8, 1)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--slow", type=float, default=0.0)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--recurrent-dropout", type=float, default=0.2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    x = torch.randn(96, 12, 2)
    y = x[:, :, 0].sum(1, keepdim=True) * 0.1
    model = Regressor(args.recurrent_dropout)
    mse = torch.nn.MSELoss()

    def loss(output, target):
        time.sleep(args.slow)
        return mse(output, target)

    config = TrainConfig(
        epochs=args.epochs,
        batch_size=16,
        lr=1e-2,
        checkpoint_dir=str(args.out / "ckpt"),
        checkpoint_every=2,
        progress=False,
        seed=3,
        lr_schedule="cosine",
    )
    trainer = Trainer(model, loss, config)
    trainer.fit((x, y), resume_from=args.out / "ckpt" / "last" if args.resume else None)
    if world().rank == 0:
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(args.out / "final.safetensors"))


if __name__ == "__main__":
    main()
