"""Training engine: one Trainer for every task, crash-proof checkpoints, multi-process training."""

from lstmkit.training.callbacks import Callback, CSVLogger, TensorBoardLogger
from lstmkit.training.checkpoint import load_checkpoint, save_checkpoint
from lstmkit.training.data import Batch, SequenceChunks
from lstmkit.training.trainer import TrainConfig, Trainer

__all__ = [
    "Batch",
    "CSVLogger",
    "Callback",
    "SequenceChunks",
    "TensorBoardLogger",
    "TrainConfig",
    "Trainer",
    "load_checkpoint",
    "save_checkpoint",
]
