"""Hyperparameter search with Optuna through the estimator spine: any estimator is tunable with no code of its own.

``tune(estimator, space, X, y, n_trials=...)`` runs an Optuna study whose trials each fit
``clone(estimator).set_params(**sampled)`` and return its ``validation_score()`` (the estimator's validation
metric on its own split at the epoch it kept, with its direction; the classifier and the forecaster both
minimize their validation loss). A Trainer callback
reports the metric every epoch, so the pruner (median by default, Hyperband on request) stops hopeless
trials; they are recorded as pruned, not failed. Storage: in memory (None), an Optuna database URL
(``sqlite:///study.db``, ``postgresql://...``: workers on several machines share one study), or a journal
file (a path ending in ``.journal``: several processes on one machine). The same ``study_name`` continues a
study. With a database, a worker killed mid-trial leaves that trial running until its heartbeat is missed
for twice ``heartbeat_seconds``; the next worker then marks it failed (Optuna does not re-queue it) and the
study goes on. A journal file has no heartbeat: such a trial stays "running" for good, and the study goes
on. Optuna is an optional extra (``pip install 'lstmkit[tune]'``), imported when ``tune`` is called.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sklearn.base import clone

from lstmkit.errors import ParameterError
from lstmkit.tasks.base import SequenceEstimator
from lstmkit.training.callbacks import Callback

PRUNERS = ("median", "hyperband", "none")
KIND_ATTRIBUTE = "lstmkit_kind"


def _optuna():
    try:
        import optuna
    except ImportError:
        raise ImportError("hyperparameter search needs Optuna: pip install 'lstmkit[tune]'") from None
    return optuna


@dataclass
class TuneResult:
    study: Any  # optuna.Study: every trial's parameters, value and state
    best_estimator: (
        SequenceEstimator | None
    )  # a clone with the best parameters refit on all of X (None: no trial completed)


class ReportToTrial(Callback):
    """Reports the validation metric to an Optuna trial after each epoch and stops the trial if it is pruned."""

    def __init__(self, trial, metric: str):
        self.trial, self.metric = trial, metric

    def on_epoch_end(self, trainer, logs: dict) -> None:
        if self.metric in logs:
            self.trial.report(float(logs[self.metric]), step=int(logs["epoch"]))
            if self.trial.should_prune():
                raise _optuna().TrialPruned(f"pruned after epoch {logs['epoch']}")


def check_space(estimator: SequenceEstimator, space) -> None:
    """Every name a parameter of ``estimator``, every numeric distribution on a numeric parameter."""
    if callable(space):
        return
    optuna = _optuna()
    if not isinstance(space, dict) or not space:
        raise ParameterError(
            f"expected the search space as a dict of parameter -> distribution, or a callable, got {space!r}"
        )
    params = estimator.get_params()
    unknown = sorted(set(space) - set(params))
    if unknown:
        raise ParameterError(
            f"{type(estimator).__name__} has no parameter {', '.join(unknown)}; "
            f"its parameters are {', '.join(sorted(params))}"
        )
    for name, distribution in space.items():
        if not isinstance(distribution, optuna.distributions.BaseDistribution):
            raise ParameterError(f"expected an Optuna distribution for {name!r}, got {distribution!r}")
        numeric = isinstance(
            distribution, optuna.distributions.IntDistribution | optuna.distributions.FloatDistribution
        )
        current = params[name]
        if numeric and (isinstance(current, bool | str) or not isinstance(current, int | float | type(None))):
            raise ParameterError(
                f"{name!r} is {type(current).__name__} ({current!r}); a numeric distribution needs a numeric parameter"
            )


def suggest(trial, name: str, distribution):
    """The trial's value for one Optuna distribution, through Optuna's public suggest API."""
    distributions = _optuna().distributions
    if isinstance(distribution, distributions.IntDistribution):
        low, high, step, log = distribution.low, distribution.high, distribution.step, distribution.log
        return trial.suggest_int(name, low, high, step=step, log=log)
    if isinstance(distribution, distributions.FloatDistribution):
        low, high, step, log = distribution.low, distribution.high, distribution.step, distribution.log
        return trial.suggest_float(name, low, high, step=step, log=log)
    return trial.suggest_categorical(name, distribution.choices)


def open_storage(storage, heartbeat_seconds: int | None = 60):
    """None, a database URL, or a journal file (a path ending in .journal) as what Optuna takes.

    A database storage gets Optuna's heartbeat: a trial whose worker stopped beating for twice
    ``heartbeat_seconds`` (killed, its machine gone) is marked failed by the next worker, and the study goes on.
    """
    optuna = _optuna()
    if storage is None or not isinstance(storage, str | Path):
        return storage
    text = str(storage)
    if text.endswith(".journal"):
        from optuna.storages.journal import JournalFileBackend

        return optuna.storages.JournalStorage(JournalFileBackend(text))
    try:
        if heartbeat_seconds is None:
            return optuna.storages.RDBStorage(text)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # the heartbeat arguments
            return optuna.storages.RDBStorage(
                text, heartbeat_interval=heartbeat_seconds, grace_period=2 * heartbeat_seconds
            )
    except Exception as error:  # noqa: BLE001 (SQLAlchemy raises many types for an unusable URL)
        raise ParameterError(
            f"cannot open the study storage {text!r}: {type(error).__name__}: {str(error).splitlines()[0]}"
        ) from None


def _pruner(name: str):
    optuna = _optuna()
    if name not in PRUNERS:
        raise ParameterError(f"unknown pruner {name!r}; expected one of {', '.join(PRUNERS)}")
    return {
        "median": lambda: optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=2),
        "hyperband": lambda: optuna.pruners.HyperbandPruner(),
        "none": lambda: optuna.pruners.NopPruner(),
    }[name]()


def tune(
    estimator: SequenceEstimator,
    space: dict | Callable,
    X,
    y=None,
    *,
    n_trials: int,
    timeout: float | None = None,
    storage=None,
    study_name: str | None = None,
    pruner: str = "median",
    seed: int = 0,
    heartbeat_seconds: int | None = 60,
    progress: bool = False,
) -> TuneResult:
    """Search ``space`` (parameter -> Optuna distribution, or ``trial -> dict of parameters``) for the parameters
    that give ``estimator`` the best validation metric on ``X`` (and ``y``); see the module docstring.
    ``progress`` shows Optuna's progress bar (trials done, best value)."""
    optuna = _optuna()
    check_space(estimator, space)
    metric, direction = estimator.validation_metric
    study = optuna.create_study(
        storage=open_storage(storage, heartbeat_seconds),
        study_name=study_name,
        direction=direction,
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=_pruner(pruner),
        load_if_exists=study_name is not None,
    )
    kind = study.user_attrs.get(KIND_ATTRIBUTE)
    if kind is not None and kind != estimator.kind:
        raise ParameterError(f"study {study.study_name!r} tunes a {kind}, not a {estimator.kind}")
    study.set_user_attr(KIND_ATTRIBUTE, estimator.kind)
    fit_args = (X,) if y is None else (X, y)

    def objective(trial) -> float:
        params = space(trial) if callable(space) else {name: suggest(trial, name, d) for name, d in space.items()}
        candidate = clone(estimator).set_params(**params)
        candidate.fit(*fit_args, callbacks=[ReportToTrial(trial, metric)])
        return candidate.validation_score()

    study.optimize(objective, n_trials=n_trials, timeout=timeout, catch=(), show_progress_bar=progress)
    completed = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not completed:  # every trial pruned or failed: nothing to refit
        return TuneResult(study, None)
    return TuneResult(study, clone(estimator).set_params(**study.best_params).fit(*fit_args))
