"""One training loop for every task: the model, the loss and the data are arguments, nothing more.

``Trainer(model, loss, config).fit(train, val)`` runs epochs of mini-batch steps with the practices
the field has settled on: Adam/AdamW/SGD with L2 or decoupled weight decay, per-parameter-group
learning rates, global-norm gradient clipping, learning-rate schedules, validation each epoch, early
stopping with best-weights restore, checkpoints that survive crashes (and resume to the same weights as
an uninterrupted run), a policy for NaN/inf, and multi-process data parallelism under ``torchrun``.

A batch is ``Batch(inputs, targets, lengths)`` (see ``training.data``); a step computes
``loss(model(inputs), targets)``, or ``loss(model(inputs, lengths), targets)`` for padded sequences.
Truncated backprop through time is a batching (``SequenceChunks``) with a state carried from one batch to
the next, not a second loop. The loop knows no task and no loss type: checks of labels belong to the tasks.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

from lstmkit.checks import check_choice, check_integer, check_number
from lstmkit.errors import CheckpointError, DataError, OutputPathError, ParameterError, TrainingError
from lstmkit.files import check_output_path
from lstmkit.training import distributed
from lstmkit.training.callbacks import Callback
from lstmkit.training.checkpoint import last_checkpoint, load_checkpoint, save_checkpoint
from lstmkit.training.data import SequenceChunks, as_dataset, batch_indices, fetch
from lstmkit.training.state import optimizer_from_flat, optimizer_to_flat

log = logging.getLogger("lstmkit.training")

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = (None, "cosine", "step", "plateau")


@dataclass
class TrainConfig:
    """Settings of a training run; each default is the common, safe choice for small recurrent models."""

    epochs: int = 20
    max_steps: int | None = None  # stop after this many optimizer steps, whatever the epoch
    batch_size: int = 32
    lr: float = 1e-3  # Adam's usual step size
    optimizer: str = "adam"  # "adam" | "adamw" | "sgd"
    momentum: float = 0.9  # SGD only
    weight_decay: float = 0.0  # L2 for adam/sgd, decoupled for adamw
    param_group_lrs: dict[str, float] = field(default_factory=dict)  # parameter-name prefix -> its own lr
    clip_grad_norm: float | None = 1.0  # recurrent nets: clip the global norm (Pascanu et al. 2013)
    lr_schedule: str | None = None  # None | "cosine" (per step) | "step" (every lr_step_epochs) | "plateau"
    lr_step_epochs: int = 10
    lr_gamma: float = 0.5
    monitor: str = "val_loss"  # early stopping, plateau schedule and best weights (train_loss without val)
    monitor_mode: str = "min"  # "max" when the monitored value is better higher (a score a callback logs)
    early_stopping_patience: int | None = None  # epochs without improvement before stopping
    min_delta: float = 0.0
    restore_best: bool = True  # end with the best monitored weights
    nonfinite: str = "raise"  # NaN/inf loss or gradient: "raise" (stop, keep the last good checkpoint) or "skip"
    shuffle: bool = True
    seed: int = 0
    checkpoint_dir: str | None = None
    checkpoint_every: int | None = None  # steps between checkpoints; one is always written at each epoch end
    progress: bool | None = None  # None: a progress bar on a terminal, log lines otherwise

    def __post_init__(self):
        check_integer("epochs", self.epochs, 1)
        check_integer("max_steps", self.max_steps, 1, optional=True)
        check_integer("batch_size", self.batch_size, 1)
        check_number("lr", self.lr, 0.0, math.inf, low_open=True, high_open=True)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_number("momentum", self.momentum, 0.0, 1.0)
        check_number("weight_decay", self.weight_decay, 0.0, math.inf, high_open=True)
        if self.clip_grad_norm is not None:
            check_number("clip_grad_norm", self.clip_grad_norm, 0.0, math.inf, low_open=True, high_open=True)
        check_choice("lr_schedule", self.lr_schedule, SCHEDULES)
        check_integer("lr_step_epochs", self.lr_step_epochs, 1)
        check_number("lr_gamma", self.lr_gamma, 0.0, 1.0, low_open=True)
        check_integer("early_stopping_patience", self.early_stopping_patience, 1, optional=True)
        check_number("min_delta", self.min_delta, 0.0, math.inf, high_open=True)
        check_choice("monitor_mode", self.monitor_mode, ("min", "max"))
        check_choice("nonfinite", self.nonfinite, ("raise", "skip"))
        check_integer("seed", self.seed, 0, 2**63 - 1)
        check_integer("checkpoint_every", self.checkpoint_every, 1, optional=True)
        if self.checkpoint_dir is not None:
            check_output_path(self.checkpoint_dir, "checkpoint folder")
            if Path(self.checkpoint_dir).exists() and not Path(self.checkpoint_dir).is_dir():
                raise OutputPathError(f"{self.checkpoint_dir}: not a folder; expected a folder for the checkpoints")


class Trainer:
    """Train ``model`` on ``loss(model(inputs), targets)``; see the module docstring.

    After ``fit``: ``history_`` (one dict per epoch: epoch, train_loss, val_loss, metrics, lr, seconds,
    skipped_batches), ``best_`` (the best monitored value), ``step_`` (optimizer steps taken).
    """

    def __init__(
        self,
        model: nn.Module,
        loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        config: TrainConfig | None = None,
        callbacks: Sequence[Callback] = (),
        metrics: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] | None = None,
    ):
        self.model = model
        self.loss = loss
        self.config = config or TrainConfig()
        self.callbacks = list(callbacks)
        self.metrics = dict(metrics or {})
        self.should_stop = False

    # ---- set-up --------------------------------------------------------------------------------

    def _optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        c = self.config
        groups: dict[str, list] = {prefix: [] for prefix in c.param_group_lrs}
        rest = []
        for name, parameter in model.named_parameters():
            prefix = next((p for p in c.param_group_lrs if name.startswith(p)), None)
            (groups[prefix] if prefix is not None else rest).append(parameter)
        empty = [prefix for prefix, params in groups.items() if not params]
        if empty:
            names = [name for name, _ in model.named_parameters()]
            raise ParameterError(f"param_group_lrs prefixes {empty} match no parameter; parameters are {names}")
        param_groups = [{"params": rest}] if rest else []
        param_groups += [{"params": params, "lr": c.param_group_lrs[prefix]} for prefix, params in groups.items()]
        if c.optimizer == "sgd":
            return torch.optim.SGD(param_groups, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay)
        kind = torch.optim.Adam if c.optimizer == "adam" else torch.optim.AdamW
        return kind(param_groups, lr=c.lr, weight_decay=c.weight_decay)

    def _scheduler(self, optimizer, steps_per_epoch: int):
        c = self.config
        if c.lr_schedule == "cosine":
            return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=c.epochs * steps_per_epoch)
        if c.lr_schedule == "step":
            return torch.optim.lr_scheduler.StepLR(optimizer, step_size=c.lr_step_epochs, gamma=c.lr_gamma)
        if c.lr_schedule == "plateau":
            return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode=self._mode, factor=c.lr_gamma, patience=2)
        return None

    def _preflight(self, model, dataset, collate, val_dataset, val_collate) -> None:
        """Run the loss on the first batch of each set, without a step: bad targets fail here, with a DataError."""
        was_training = model.training
        model.eval()
        try:
            self._check_batches(model, dataset, collate, val_dataset, val_collate)
        finally:
            model.train(was_training)

    def _check_batches(self, model, dataset, collate, val_dataset, val_collate) -> None:
        for name, data, coll in (("train", dataset, collate), ("val", val_dataset, val_collate)):
            if data is None:
                continue
            if len(data) == 0:
                raise DataError(f"{name} data is empty: expected at least one sample")
            batch = fetch(data, coll, torch.arange(min(len(data), self._batch_size))).to(self._device)
            with torch.no_grad():
                self._state = None
                try:
                    output = self._forward(model, batch)
                except (RuntimeError, TypeError, ValueError, IndexError) as error:
                    raise DataError(f"the model cannot run on the first {name} batch: {error}") from None
                try:
                    value = self.loss(output, batch.targets)
                except (RuntimeError, ValueError, IndexError) as error:
                    raise DataError(f"the loss cannot be computed on the first {name} batch: {error}") from None
                if value.dim() != 0:
                    raise DataError(f"expected the loss to return a scalar, got shape {tuple(value.shape)}")

    # ---- checkpoints ---------------------------------------------------------------------------

    def _save(self, model, optimizer, scheduler, epoch: int, batches_done: int, losses: list, path: Path) -> None:
        tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
        opt_tensors, opt_state = optimizer_to_flat(optimizer)
        tensors |= opt_tensors
        tensors["rng.torch"] = torch.get_rng_state()
        if self._best_weights is not None:
            tensors |= {f"best.{k}": v for k, v in self._best_weights.items()}
        if self._state is not None:  # truncated BPTT mid-epoch: the state carried into the next chunk
            tensors |= {
                f"carry.{k}": v for k, v in enumerate(self._state if isinstance(self._state, tuple) else (self._state,))
            }
        state = {
            "config": asdict(self.config),
            "epoch": epoch,
            "batches_done": batches_done,
            "epoch_losses": losses,  # this epoch's so far, so a resumed epoch logs the same mean
            "step": self.step_,
            "history": self.history_,
            "best": self.best_ if math.isfinite(self.best_) else None,
            "bad_epochs": self._bad_epochs,
            "stopped": self.should_stop,  # early stopping ended the run: a resume must not train on
            "skipped": self._skipped,
            "optimizer": opt_state,
            "scheduler": None if scheduler is None else _jsonable(scheduler.state_dict()),
        }
        save_checkpoint(path, tensors, state)

    def _restore(self, path, model, optimizer, scheduler) -> tuple[int, int, list[float]]:
        tensors, state = load_checkpoint(path)
        try:
            model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
        except RuntimeError as error:
            first = str(error).strip().splitlines()[1:2] or [str(error)]
            raise CheckpointError(f"{path}: a checkpoint of another model ({first[0].strip()})") from None
        optimizer_from_flat(optimizer, tensors, state["optimizer"])
        if scheduler is not None and state["scheduler"] is not None:
            scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(tensors["rng.torch"])
        best = {k[5:]: v for k, v in tensors.items() if k.startswith("best.")}
        carried = [tensors[f"carry.{k}"] for k in range(sum(name.startswith("carry.") for name in tensors))]
        self._state = None if not carried else (carried[0] if len(carried) == 1 else tuple(carried))
        self._best_weights = best or None
        self.history_, self.step_ = state["history"], state["step"]
        self.best_ = self._worst() if state["best"] is None else state["best"]
        self._bad_epochs, self._skipped = state["bad_epochs"], state["skipped"]
        epoch = self.config.epochs if state["stopped"] else state["epoch"]
        return epoch, state["batches_done"], state["epoch_losses"]

    # ---- the loop ------------------------------------------------------------------------------

    def fit(self, train, val=None, resume_from: str | Path | None = None) -> Trainer:
        """Train on ``train`` (and validate on ``val`` each epoch); resume from a checkpoint folder if given."""
        c = self.config
        dataset, collate = as_dataset(train, "train")
        val_dataset, val_collate = as_dataset(val, "val") if val is not None else (None, None)
        self._carry, self._state = isinstance(dataset, SequenceChunks), None
        self._batch_size = 1 if self._carry else c.batch_size  # a chunk of a long sequence is a batch of its own
        world = distributed.world()
        if self._carry and world.size > 1:
            raise ParameterError("truncated BPTT over one long sequence runs in one process, not under torchrun")
        model = distributed.place(self.model, world)
        self._device = next(model.parameters()).device
        self._preflight(model, dataset, collate, val_dataset, val_collate)
        monitor = c.monitor if val is not None or not c.monitor.startswith("val_") else "train_loss"
        self._mode = c.monitor_mode if monitor == c.monitor else "min"
        torch.manual_seed(c.seed)
        optimizer = self._optimizer(model)
        steps_per_epoch = math.ceil(len(dataset) / self._batch_size)
        scheduler = self._scheduler(optimizer, steps_per_epoch)
        train_model = distributed.wrap(model, world)
        self.history_, self.step_, self.best_ = [], 0, self._worst()
        self._best_weights, self._bad_epochs, self._skipped = None, 0, 0
        start_epoch, skip_batches, resumed_losses = 0, 0, []
        if resume_from is not None:
            start_epoch, skip_batches, resumed_losses = self._restore(resume_from, model, optimizer, scheduler)
        checkpoint = last_checkpoint(c.checkpoint_dir) if c.checkpoint_dir else None
        writes = checkpoint is not None and world.rank == 0
        for callback in self.callbacks:
            callback.on_fit_start(self)
        bar = _ProgressBar(c.progress and world.rank == 0, c.epochs * steps_per_epoch, self.step_)
        self.should_stop = False
        for epoch in range(start_epoch, c.epochs):
            started, losses = time.perf_counter(), (resumed_losses if epoch == start_epoch else [])
            batches = batch_indices(len(dataset), self._batch_size, c.seed, epoch, c.shuffle and not self._carry)
            if not (epoch == start_epoch and skip_batches):
                self._state = None  # each epoch reads the long sequence from its start
            train_model.train()
            for b, index in enumerate(batches):
                if epoch == start_epoch and b < skip_batches:
                    continue
                loss = self._step(train_model, optimizer, scheduler, dataset, collate, world.shard(index), epoch, b)
                if loss is not None:
                    losses.append(loss)
                bar.update(self.step_, loss)
                if writes and c.checkpoint_every and self.step_ % c.checkpoint_every == 0:
                    self._save(model, optimizer, scheduler, epoch, b + 1, losses, checkpoint)
                if c.max_steps is not None and self.step_ >= c.max_steps:
                    self.should_stop = True
                    break
            if not losses and not self.should_stop:
                raise TrainingError(
                    f"every batch of epoch {epoch + 1} had a non-finite loss or gradient and was skipped; nothing "
                    "was learned. Lower the learning rate or clip harder"
                )
            logs = {"epoch": epoch + 1, "train_loss": distributed.mean(losses, world)}
            if val_dataset is not None:
                logs |= self._evaluate(model, val_dataset, val_collate)
                for callback in self.callbacks:
                    callback.on_validation(self, logs)
            logs |= {
                "lr": optimizer.param_groups[0]["lr"],
                "seconds": time.perf_counter() - started,
                "skipped_batches": self._skipped,
            }
            self._end_epoch(model, scheduler, logs, monitor)
            if writes:
                self._save(model, optimizer, scheduler, epoch + 1, 0, [], checkpoint)
            if world.rank == 0:
                log.info(" ".join(f"{k} {v:.5g}" if isinstance(v, float) else f"{k} {v}" for k, v in logs.items()))
                for callback in self.callbacks:
                    callback.on_epoch_end(self, logs)
            if self.should_stop:
                break
        bar.close()
        if c.restore_best and self._best_weights is not None:
            model.load_state_dict(self._best_weights)
        for callback in self.callbacks:
            callback.on_fit_end(self)
        return self

    def _step(self, model, optimizer, scheduler, dataset, collate, index, epoch: int, batch: int) -> float | None:
        data = fetch(dataset, collate, index).to(self._device)
        return self._apply(
            self.loss(self._forward(model, data), data.targets), model, optimizer, scheduler, epoch, batch
        )

    def _apply(self, loss: torch.Tensor, model, optimizer, scheduler, epoch: int, batch: int) -> float | None:
        """Backward, the NaN/inf policy, clipping and the optimizer step; the loss, or None if skipped."""
        c = self.config
        optimizer.zero_grad(set_to_none=True)
        bad = None if torch.isfinite(loss) else f"loss {loss.item()}"
        if bad is None:
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), c.clip_grad_norm or math.inf)
            bad = None if torch.isfinite(norm) else f"gradient norm {norm.item()}"
        if bad is not None:
            where = f"at step {self.step_ + 1} (epoch {epoch + 1}, batch {batch + 1})"
            if c.nonfinite == "skip":
                self._skipped += 1
                log.warning("skipped a batch with non-finite %s %s", bad, where)
                return None
            kept = f"; the last good checkpoint is in {c.checkpoint_dir}" if c.checkpoint_dir else ""
            raise TrainingError(
                f"non-finite {bad} {where}{kept}. Lower the learning rate, clip harder, or set nonfinite='skip'"
            )
        optimizer.step()
        self.step_ += 1
        if c.lr_schedule == "cosine":
            scheduler.step()
        return loss.item()

    def fit_sequence(self, inputs, targets, chunk_size: int, val: tuple | None = None) -> Trainer:
        """Truncated backprop through time over one long sequence: ``fit`` on its ``SequenceChunks``.

        ``inputs`` (T, N, H_in) and ``targets`` (T, N, ...) are time-first; each step trains on the next
        ``chunk_size`` steps with the state of the chunk before, detached at the boundary (see
        ``training.data.SequenceChunks``). ``val`` is an (inputs, targets) pair run the same way after each
        epoch, from a zero state.
        """
        chunks = SequenceChunks(inputs, targets, chunk_size)
        return self.fit(chunks, None if val is None else SequenceChunks(*val, chunk_size))

    @torch.no_grad()
    def _evaluate(self, model, dataset, collate) -> dict[str, float]:
        model.eval()
        totals = {"val_loss": 0.0} | {f"val_{name}": 0.0 for name in self.metrics}
        seen, self._state = 0, None
        for index in batch_indices(len(dataset), self._batch_size, 0, 0, shuffle=False):
            batch = fetch(dataset, collate, index).to(self._device)
            output = self._forward(model, batch)
            totals["val_loss"] += self.loss(output, batch.targets).item() * len(batch)
            for name, metric in self.metrics.items():
                totals[f"val_{name}"] += float(metric(output, batch.targets)) * len(batch)
            seen += len(batch)
        self._state = None
        return {name: total / seen for name, total in totals.items()}

    def _forward(self, model, batch):
        """The model's output for a batch: ``model(inputs)``; ``model(inputs, lengths)`` for padded sequences;
        ``model(inputs, state)`` for chunks of a long sequence, keeping the new state, detached, for the next."""
        if batch.lengths is not None:
            return model(batch.inputs, batch.lengths)
        if not self._carry:
            return model(batch.inputs)
        output, state = model(batch.inputs, self._state)
        self._state = _detach(state)  # the boundary: no gradient flows into the previous chunk
        return output

    def _worst(self) -> float:
        return math.inf if self._mode == "min" else -math.inf

    def _end_epoch(self, model, scheduler, logs: dict, monitor: str) -> None:
        c = self.config
        if monitor not in logs:
            raise ParameterError(f"monitor {monitor!r} is not among the logged values {sorted(logs)}")
        value = logs[monitor]
        better = value < self.best_ - c.min_delta if self._mode == "min" else value > self.best_ + c.min_delta
        if better:
            self.best_, self._bad_epochs = value, 0
            self._best_weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            self._bad_epochs += 1
            if c.early_stopping_patience is not None and self._bad_epochs >= c.early_stopping_patience:
                self.should_stop = True
        if c.lr_schedule == "step":
            scheduler.step()
        elif c.lr_schedule == "plateau":
            scheduler.step(value)
        self.history_.append(logs)


def _detach(state):
    """A recurrent state (a tensor or a tuple of them) cut from the graph."""
    return tuple(s.detach() for s in state) if isinstance(state, tuple | list) else state.detach()


def _jsonable(value):
    """Scheduler states as JSON: tensors become lists."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, torch.Tensor):
        return value.tolist()
    return value


class _ProgressBar:
    """A rich progress bar on a terminal (or when asked), nothing otherwise (epochs are logged)."""

    def __init__(self, show: bool | None, total: int, done: int):
        if show is None:
            show = sys.stderr.isatty()
        self.progress = None
        if show:
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self.progress = Progress(
                TextColumn("training"),
                BarColumn(),
                TextColumn("step {task.completed}/{task.total}"),
                TextColumn("loss {task.fields[loss]}"),
                TimeRemainingColumn(),
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task("train", total=total, completed=done, loss="-")

    def update(self, step: int, loss: float | None) -> None:
        if self.progress is not None:
            self.progress.update(self.task, completed=step, loss="-" if loss is None else f"{loss:.4g}")

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
