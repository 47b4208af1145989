"""Callbacks: code that runs at fixed points of ``Trainer.fit`` (on rank 0 only, under torchrun)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from lstmkit.errors import ParameterError
from lstmkit.files import write_atomically


class Callback:
    """Override any of the hooks; ``trainer.should_stop = True`` ends training after this epoch."""

    def on_fit_start(self, trainer) -> None:
        """Before the first step (also when resuming)."""

    def on_validation(self, trainer, logs: dict) -> None:
        """After the epoch's validation loss, before the monitored value is judged and the checkpoint written: may
        add values to ``logs`` (an estimator's own validation score), which can then be monitored
        (``TrainConfig.monitor``, ``monitor_mode="max"``) and are kept in the checkpointed history. Runs on every
        rank under torchrun, so that all ranks judge the same value."""

    def on_epoch_end(self, trainer, logs: dict) -> None:
        """After validation; ``logs`` is the epoch's row of ``trainer.history_``."""

    def on_fit_end(self, trainer) -> None:
        """After the last epoch and the best-weights restore."""


class CSVLogger(Callback):
    """The history, one row per epoch, rewritten atomically after each epoch (never a half-written file)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def on_epoch_end(self, trainer, logs: dict) -> None:
        columns = list(dict.fromkeys(key for row in trainer.history_ for key in row))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns)
        writer.writeheader()
        writer.writerows(trainer.history_)
        write_atomically(self.path, buffer.getvalue())


class TensorBoardLogger(Callback):
    """Every logged value as a TensorBoard scalar per epoch (needs the ``tensorboard`` extra)."""

    def __init__(self, log_dir: str | Path):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ParameterError("TensorBoardLogger needs TensorBoard: pip install 'lstmkit[tensorboard]'") from None
        self.writer = SummaryWriter(str(log_dir))

    def on_epoch_end(self, trainer, logs: dict) -> None:
        for key, value in logs.items():
            if key != "epoch" and isinstance(value, int | float):
                self.writer.add_scalar(key, value, logs["epoch"])
        self.writer.flush()

    def on_fit_end(self, trainer) -> None:
        self.writer.close()
