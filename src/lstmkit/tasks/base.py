"""The estimator spine every task shares: scikit-learn's contract, one way to train, one file format.

- ``__init__`` stores each argument as a same-named attribute and checks nothing; ``fit`` checks, sets the
  fitted attributes (names ending in ``_``) and returns ``self``. ``get_params``/``set_params`` and
  ``sklearn.base.clone`` come from ``sklearn.base.BaseEstimator``, so estimators run inside
  ``cross_val_score``, ``GridSearchCV`` and pipelines unchanged.
- ``train`` is the one place that turns the shared training parameters (``epochs``, ``batch_size``, ``lr``,
  ``patience``, ``seed``, ``progress``, and ``weight_decay``, ``lr_schedule`` and ``clip_grad_norm`` where an
  estimator has them) and a checkpoint folder into a ``TrainConfig`` and runs the one ``Trainer``, resuming from
  the folder when an earlier run left a checkpoint there.
- ``save(path)``/``load(path)``: the model's tensors as safetensors and everything else as JSON (the
  estimator's kind, a format version, its parameters and fitted state), written atomically; never pickle.
  ``save`` never replaces what lstmkit did not write. ``lstmkit.tasks.load(path)`` returns the estimator of
  whatever kind was saved.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator

from lstmkit.checks import check_integer, check_number
from lstmkit.errors import CheckpointError, NotFittedError, OutputPathError, ParameterError
from lstmkit.files import check_output_path
from lstmkit.training import TrainConfig, Trainer
from lstmkit.training.callbacks import Callback
from lstmkit.training.checkpoint import is_checkpoint, load_checkpoint, resume_point, save_checkpoint

FORMAT_VERSION = 1
KINDS: dict[str, type[SequenceEstimator]] = {}  # saved "kind" -> estimator class


class SequenceEstimator(BaseEstimator):
    """Base of every task estimator; see the module docstring. Subclasses set ``kind`` and implement
    ``_build_model()`` (the torch module, from the fitted attributes), ``_fitted_state()`` (JSON) and
    ``_restore_fitted(state)``."""

    kind: ClassVar[str] = ""
    # The validation metric that judges a fit (tuning maximizes or minimizes it), logged by the Trainer each epoch.
    validation_metric: ClassVar[tuple[str, str]] = ("val_loss", "minimize")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("kind"):
            KINDS[cls.kind] = cls

    # ---- checks and training -------------------------------------------------------------------

    def check_params(self) -> None:
        """Every parameter's type and range, as ``fit`` checks them first (callers may check before any work)."""
        self._check_training_params()

    def _check_training_params(self) -> None:
        """The shared training parameters, checked at the start of ``fit``."""
        check_integer("epochs", self.epochs, 1)
        check_integer("batch_size", self.batch_size, 1)
        check_number("lr", self.lr, 0.0, math.inf, low_open=True, high_open=True)
        check_number("weight_decay", getattr(self, "weight_decay", 0.0), 0.0, math.inf, high_open=True)
        check_integer("patience", self.patience, 1, optional=True)
        check_integer("seed", self.seed, 0, 2**63 - 1)

    def train(
        self,
        model: torch.nn.Module,
        loss,
        train,
        val=None,
        checkpoint_dir=None,
        metrics=None,
        callbacks=(),
        seed: int | None = None,
        monitor: tuple[str, str] = ("val_loss", "min"),
        epochs: int | None = None,
    ) -> Trainer:
        """Train ``model`` with this estimator's training parameters (``seed`` replaces the estimator's, e.g. for
        an ensemble's members; ``epochs`` replaces ``self.epochs``, e.g. for a refit on all the data; ``monitor``
        (name, "min" or "max") is what early stopping and the best weights judge, e.g. ``("val_score", "max")``
        with a ``ValidationScore`` callback); see the module docstring."""
        config = TrainConfig(
            epochs=self.epochs if epochs is None else epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=getattr(self, "weight_decay", 0.0),
            lr_schedule=getattr(self, "lr_schedule", None),
            clip_grad_norm=getattr(self, "clip_grad_norm", TrainConfig.clip_grad_norm),
            early_stopping_patience=self.patience if val is not None else None,
            monitor=monitor[0],
            monitor_mode=monitor[1],
            seed=self.seed if seed is None else seed,
            progress=self.progress,
            checkpoint_dir=None if checkpoint_dir is None else str(checkpoint_dir),
        )
        trainer = Trainer(model, loss, config, callbacks=callbacks, metrics=metrics)
        trainer.fit(train, val, resume_from=resume_point(checkpoint_dir))
        model.eval()
        return trainer

    def validation_score(self) -> float:
        """``validation_metric`` at the epoch whose weights the fit kept (the lowest validation loss)."""
        self._check_fitted()
        name = self.validation_metric[0]
        rows = [row for row in self.history_ if name in row and "val_loss" in row]
        if not rows:
            raise ParameterError(
                f"{type(self).__name__} logged no {name}: a validation part is needed (val_fraction > 0)"
            )
        return float(min(rows, key=lambda row: row["val_loss"])[name])

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit first")

    # ---- persistence ---------------------------------------------------------------------------

    def _build_model(self) -> torch.nn.Module:
        raise NotImplementedError

    def _fitted_state(self) -> dict[str, Any]:
        raise NotImplementedError

    def _restore_fitted(self, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the fitted estimator to the folder ``path`` (safetensors + JSON, atomically).

        An existing ``path`` is refused unless it is a model folder lstmkit saved and ``overwrite`` is set:
        nothing else is ever replaced or deleted.
        """
        self._check_fitted()
        path = check_output_path(path, "model")
        if path.exists() or path.is_symlink():
            if not is_checkpoint(path):
                raise OutputPathError(
                    f"{path}: already exists and is not an lstmkit model folder; save writes only to a new path "
                    "(or over a model it saved, with overwrite=True)"
                )
            if not overwrite:
                raise OutputPathError(f"{path}: a saved model is already there; pass overwrite=True to replace it")
        state = {
            "kind": self.kind,
            "format_version": FORMAT_VERSION,
            "params": self.get_params(deep=False),
            "fitted": self._fitted_state(),
        }
        return save_checkpoint(path, dict(self.model_.state_dict()), state)

    @classmethod
    def load(cls, path: str | Path) -> SequenceEstimator:
        """The estimator saved at ``path``; a CheckpointError if it is not one of this class."""
        estimator = load(path)
        if not isinstance(estimator, cls):
            raise CheckpointError(f"{path}: holds a saved {estimator.kind}, not a {cls.__name__}")
        return estimator


class ValidationScore(Callback):
    """Logs an estimator's ``score`` of validation cases as ``val_score`` each epoch (the tagger's entity F1, the
    translator's BLEU), for the Trainer to monitor with ``monitor=("val_score", "max")``: early stopping after
    ``patience`` epochs without a better score, the best epoch's weights at the end, and both carried through
    checkpoints, so an interrupted fit resumes exactly. For tasks whose validation loss is not what is judged: on
    WNUT17 the tagger's validation loss rises again while the entity F1 still climbs, and so does the
    translator's while its BLEU does."""

    def __init__(self, estimator: SequenceEstimator, X, y):
        self.estimator, self.X, self.y = estimator, X, y

    def on_validation(self, trainer, logs: dict) -> None:
        model = trainer.model
        self.estimator.model_ = model
        model.eval()
        logs["val_score"] = self.estimator.score(self.X, self.y)
        model.train()


def load(path: str | Path) -> SequenceEstimator:
    """Whatever estimator was saved at ``path`` (a Forecaster, a SequenceClassifier, ...)."""
    tensors, state = load_checkpoint(path)
    state_file = Path(path) / "state.json"
    kind = state.get("kind") if isinstance(state, dict) else None
    if kind not in KINDS:
        raise CheckpointError(
            f"{state_file}: not a saved lstmkit model (kind {kind!r}; expected one of {sorted(KINDS)})"
        )
    if state.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{state_file}: model format version {state.get('format_version')!r}; this lstmkit reads {FORMAT_VERSION}"
        )
    params, fitted = state.get("params"), state.get("fitted")
    if not isinstance(params, dict) or not isinstance(fitted, dict):
        raise CheckpointError(f"{state_file}: expected 'params' and 'fitted' objects")
    estimator_class = KINDS[kind]
    try:
        estimator = estimator_class(**params)
        estimator._restore_fitted(fitted)
        model = estimator._build_model()
        model.load_state_dict(tensors)
    except (TypeError, KeyError, ValueError, RuntimeError) as error:
        raise CheckpointError(
            f"{state_file}: not a consistent saved {kind} ({type(error).__name__}: {error})"
        ) from None
    estimator.model_ = model.eval()
    return estimator


def member_seeds(seed: int, count: int) -> list[int]:
    """Independent seeds for the ensemble's members, from numpy's SeedSequence (so that the members of seed s
    and of seed s + 1 share nothing)."""
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(count, dtype=np.uint32)]
