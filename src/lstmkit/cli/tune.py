"""``lstmkit tune classify|forecast``: an Optuna study over the estimator's learning rate, size and dropout (and
cell or layers), in memory or in a shared storage (several processes or machines fill one study), then the best
model, every trial in study.json, and Optuna's optimization-history and parameter-importance pictures in a run
folder."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import typer

from lstmkit.cli import classify, common, forecast
from lstmkit.cli.classify import make_classifier, read_data
from lstmkit.cli.forecast import make_forecaster, read_series
from lstmkit.tasks.metrics import classification_scores

tune_app = typer.Typer(help="Search hyperparameters with Optuna (the [tune] extra).", no_args_is_help=True)


def classifier_space() -> dict:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    return {
        "lr": FloatDistribution(1e-3, 3e-2, log=True),
        "hidden_size": IntDistribution(16, 128, log=True),
        "dropout": FloatDistribution(0.0, 0.5),
        "cell": CategoricalDistribution(["lstm", "gru"]),
    }


def forecaster_space() -> dict:
    from optuna.distributions import FloatDistribution, IntDistribution

    return {
        "lr": FloatDistribution(1e-3, 3e-2, log=True),
        "hidden_size": IntDistribution(8, 64, log=True),
        "num_layers": IntDistribution(1, 2),
        "dropout": FloatDistribution(0.0, 0.3),
    }


def study_record(study) -> dict:
    """Every trial's number, state, parameters and value, as JSON."""
    return {
        "study": study.study_name,
        "direction": study.direction.name.lower(),
        "trials": [
            {"number": t.number, "state": t.state.name.lower(), "params": t.params, "value": t.value}
            for t in study.trials
        ],
    }


def save_pictures(study, out: Path) -> list[str]:
    """Optuna's optimization history (and parameter importances, from two completed trials) as PNGs."""
    from optuna.trial import TrialState
    from optuna.visualization import matplotlib as plots

    written = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna marks its matplotlib plots experimental
        completed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        pictures = {"history.png": plots.plot_optimization_history}
        if len({tuple(sorted(t.params.items())) for t in completed}) >= 2:
            pictures["importances.png"] = plots.plot_param_importances
        for name, plot in pictures.items():
            axes = plot(study)
            axes.figure.savefig(out / name, dpi=110, bbox_inches="tight")
            written.append(name)
    return written


# The study options both commands take.
TRIALS = typer.Option(20, min=1, help="Trials this process runs.")
TIMEOUT = typer.Option(None, min=1, help="Stop starting trials after this many seconds.")
STORAGE = typer.Option(None, help="Optuna storage: a database URL, or a FILE.journal (default: memory).")
STUDY = typer.Option(None, help="Study name: the same name in the same storage continues that study.")


@tune_app.command("classify")
def tune_classify(
    data: Path = classify.DATA,
    test: Path = classify.TEST,
    text: str = classify.TEXT,
    label: str = classify.LABEL,
    test_size: float = classify.TEST_SIZE,
    epochs: int = typer.Option(30, min=1, help="Maximum epochs per trial."),
    trials: int = TRIALS,
    timeout: float = TIMEOUT,
    storage: str = STORAGE,
    study: str = STUDY,
    seed: int = common.SEED,
    out: Path = common.RUN_FOLDER,
) -> None:
    """Search the classifier's hyperparameters on its validation part; score the best on the test split."""
    common.one_thread()
    settings = classify.settings_for(data, test, text=text, label=label, test_size=test_size, epochs=epochs, seed=seed)
    cases = read_data(settings)
    settings.fingerprint = common.fingerprint(settings.data, settings.test)
    study_options = dict(trials=trials, timeout=timeout, storage=storage, study=study, seed=seed, out=out)
    result, out = run_study(
        make_classifier(settings),
        classifier_space(),
        (cases.train_inputs, cases.train_labels),
        settings,
        "tune classify",
        **study_options,
    )
    if result.best_estimator is not None:
        scores = classification_scores(cases.test_labels, result.best_estimator.predict(cases.test_inputs))
        common.write_json(out / "metrics.json", {"test": {"lstm": scores}, "best_params": result.study.best_params})
        common.console().print(f"test accuracy of the best parameters {scores['accuracy']:.3f}")


@tune_app.command("forecast")
def tune_forecast(
    data: Path = forecast.DATA,
    target: str = forecast.TARGET,
    time: str = forecast.TIME,
    horizon: int = forecast.HORIZON,
    lookback: int = forecast.LOOKBACK,
    epochs: int = typer.Option(100, min=1, help="Maximum epochs per trial."),
    ensemble: int = typer.Option(
        1, min=1, help="Members per trial (one by default: the tuned settings then serve any ensemble)."
    ),
    fill: bool = forecast.FILL,
    covariates: str = forecast.COVARIATES,
    future: str = forecast.FUTURE,
    trials: int = TRIALS,
    timeout: float = TIMEOUT,
    storage: str = STORAGE,
    study: str = STUDY,
    seed: int = common.SEED,
    out: Path = common.RUN_FOLDER,
) -> None:
    """Search the forecaster's hyperparameters on its chronological validation windows (pinball loss, down)."""
    common.one_thread()
    settings = forecast.settings_for(
        data,
        target=target,
        time=time,
        horizon=horizon,
        lookback=lookback,
        epochs=epochs,
        ensemble=ensemble,
        seed=seed,
        fill=fill,
        covariates=covariates,
        future=future,
    )
    frame = read_series(settings).frame
    settings.fingerprint = common.fingerprint(settings.data)
    study_options = dict(trials=trials, timeout=timeout, storage=storage, study=study, seed=seed, out=out)
    result, out = run_study(
        make_forecaster(settings), forecaster_space(), (frame,), settings, "tune forecast", **study_options
    )
    if result.best_estimator is not None:
        common.write_json(
            out / "metrics.json",
            {"best_validation_loss": result.study.best_value, "best_params": result.study.best_params},
        )


def run_study(template, space, fit_args, settings, command, *, trials, timeout, storage, study, seed, out):
    """Check the space and the storage, make the run folder, run (or join) the study, and write the best model,
    study.json and the pictures; returns the TuneResult and the run folder."""
    from lstmkit.tasks.tuning import check_space, open_storage, tune

    check_space(template, space)
    open_storage(storage)  # an unreachable storage is refused before the run folder exists
    out = common.check_run_folder(out)
    common.create_run_folder(out, command, settings)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    result = tune(
        template,
        space,
        *fit_args,
        n_trials=trials,
        timeout=timeout,
        storage=storage,
        study_name=study,
        seed=seed,
        progress=sys.stderr.isatty(),
    )
    record = common.undefined_as_null(study_record(result.study), "value", "null: the trial did not complete")
    common.write_json(out / "study.json", record)
    pictures = save_pictures(result.study, out)
    states = [t.state.name.lower() for t in result.study.trials]
    counts = ", ".join(f"{states.count(s)} {s}" for s in sorted(set(states)))
    shown = common.console()
    if result.best_estimator is None:
        shown.print(f"no trial completed ({counts}); study.json has every trial")
        return result, out
    result.best_estimator.save(out / "model")
    metric, _ = template.validation_metric
    shown.print(f"{len(states)} trials in the study ({counts}); best {metric} {result.study.best_value:.4g}")
    shown.print(f"best parameters: {result.study.best_params}")
    shown.print(f"run folder: {out} (model/, study.json, metrics.json, {', '.join(pictures)})")
    return result, out
