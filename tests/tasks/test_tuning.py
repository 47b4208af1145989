"""tune(): trials through get_params/set_params/clone, the validation metric as objective, pruning, storages."""

from __future__ import annotations

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from lstmkit.data import load_dataset
from lstmkit.errors import ParameterError
from lstmkit.tasks import Forecaster, SequenceClassifier, tune, tuning

optuna.logging.set_verbosity(optuna.logging.WARNING)
BASE = dict(hidden_size=8, epochs=3, batch_size=16, val_fraction=0.3, patience=None)


def sums(n=80, seed=0):
    rng = np.random.default_rng(seed)
    X = [rng.normal(size=(int(rng.integers(3, 10)), 2)) for _ in range(n)]
    return X, np.array([int(x[:, 0].sum() > 0) for x in X])


def test_each_trial_is_the_estimator_with_its_parameters_and_the_best_is_refit():
    X, y = sums()
    space = {"lr": FloatDistribution(1e-3, 3e-2, log=True), "cell": CategoricalDistribution(["lstm", "gru"])}
    result = tune(SequenceClassifier(**BASE), space, X, y, n_trials=4, pruner="none")
    trials = result.study.trials
    assert len(trials) == 4 and all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    assert all(1e-3 <= t.params["lr"] <= 3e-2 and t.params["cell"] in ("lstm", "gru") for t in trials)
    for trial in trials[:2]:  # the objective is the validation loss of exactly that fit: refit and compare
        again = SequenceClassifier(**BASE, **trial.params).fit(X, y)
        assert again.validation_score() == pytest.approx(trial.value, abs=1e-9)
    best = result.best_estimator
    assert {k: best.get_params()[k] for k in space} == result.study.best_params and hasattr(best, "model_")
    assert result.study.direction == optuna.study.StudyDirection.MINIMIZE  # cross-entropy goes down


def test_forecaster_minimizes_its_validation_loss():
    result = tune(
        Forecaster(horizon=2, lookback=6, epochs=2),
        {"hidden_size": IntDistribution(4, 16)},
        load_dataset("airline"),
        n_trials=2,
        pruner="none",
    )
    assert result.study.direction == optuna.study.StudyDirection.MINIMIZE
    assert result.study.best_value == min(t.value for t in result.study.trials)


def test_pruned_trials_are_marked_pruned_not_failed(monkeypatch):
    monkeypatch.setattr(tuning, "_pruner", lambda name: optuna.pruners.ThresholdPruner(lower=2.0))  # prunes all
    X, y = sums()
    result = tune(SequenceClassifier(**BASE), {"lr": FloatDistribution(1e-3, 1e-2)}, X, y, n_trials=3)
    assert [t.state for t in result.study.trials] == [optuna.trial.TrialState.PRUNED] * 3
    assert all(len(t.intermediate_values) == 1 for t in result.study.trials)  # stopped after the first epoch
    assert result.best_estimator is None  # no trial completed: nothing to refit


@pytest.mark.parametrize("suffix", ["sqlite", "journal"])
def test_a_named_study_in_storage_continues(tmp_path, suffix):
    storage = f"sqlite:///{tmp_path / 'study.db'}" if suffix == "sqlite" else str(tmp_path / "study.journal")
    X, y = sums()
    space = {"hidden_size": IntDistribution(4, 12)}
    for _ in range(2):
        result = tune(
            SequenceClassifier(**BASE), space, X, y, n_trials=2, storage=storage, study_name="s", pruner="none"
        )
    assert len(result.study.trials) == 4
    with pytest.raises(ParameterError, match="study 's' tunes a SequenceClassifier, not a Forecaster"):
        tune(
            Forecaster(horizon=2, epochs=1),
            {"lr": FloatDistribution(1e-3, 1e-2)},
            load_dataset("airline"),
            n_trials=1,
            storage=storage,
            study_name="s",
        )


def test_bad_spaces_and_storages():
    X, y = sums(20)
    estimator = SequenceClassifier(**BASE)
    with pytest.raises(ParameterError, match="has no parameter colour; its parameters are .*hidden_size"):
        tune(estimator, {"colour": IntDistribution(1, 2)}, X, y, n_trials=1)
    with pytest.raises(ParameterError, match="'cell' is str"):
        tune(estimator, {"cell": IntDistribution(1, 2)}, X, y, n_trials=1)
    with pytest.raises(ParameterError, match="expected an Optuna distribution for 'lr'"):
        tune(estimator, {"lr": [1e-3, 1e-2]}, X, y, n_trials=1)
    with pytest.raises(ParameterError, match="cannot open the study storage"):
        tune(estimator, {"lr": FloatDistribution(1e-3, 1e-2)}, X, y, n_trials=1, storage="nodb://x")
    with pytest.raises(ParameterError, match="unknown pruner 'sometimes'"):
        tune(estimator, {"lr": FloatDistribution(1e-3, 1e-2)}, X, y, n_trials=1, pruner="sometimes")


def test_without_optuna_the_error_names_the_extra(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_optuna(name, *args, **kwargs):
        if name == "optuna" or name.startswith("optuna."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_optuna)
    with pytest.raises(ImportError, match=r"pip install 'lstmkit\[tune\]'"):
        tune(SequenceClassifier(), {}, [], [], n_trials=1)
