"""``lstmkit forecast``: backtest an LSTM forecaster against the baselines, fit it, and write a run folder.

The run folder holds run.json (the settings), backtest/ (each fold's forecasts, kept as it finishes),
checkpoints/, model/ (safetensors + JSON), metrics.json, forecast.csv and the PNG plots. Every input
check runs before the folder is created; an interrupted run continues with ``--resume DIR`` and ends
where an uninterrupted one would.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from lstmkit.cli import common
from lstmkit.data.datasets import DATASETS, EMBEDDED_SEQUENCES, load_dataset, load_sequence_dataset
from lstmkit.data.series import to_frame
from lstmkit.errors import DataError, ParameterError
from lstmkit.files import write_atomically
from lstmkit.tasks import Forecaster, backtest
from lstmkit.tasks.backtest import coverage
from lstmkit.tasks.forecast_baselines import NAMES, statistical_available
from lstmkit.tasks.forecaster import PreparedSeries, prepare_series
from lstmkit.viz import plot_backtest, plot_forecast, plot_training_curves

forecast_app = typer.Typer(help="Forecast a time series with an LSTM, backtested against baselines.")
EMBEDDED = "embedded:airline"


COMMAND = "forecast"
UNDEFINED_MASE = "MASE is null where the in-sample seasonal-naive error is zero (a constant series): it divides by zero"


@dataclass
class ForecastSettings:
    """Everything a forecast run depends on; recorded in run.json so ``--resume`` repeats it exactly."""

    data: str = EMBEDDED  # "embedded:<name>" or a CSV file
    target: str | None = None
    time: str | None = None
    horizon: int | None = None  # None: one season (settled before the run folder is made)
    lookback: int | None = None
    epochs: int = 300
    ensemble: int = 5
    folds: int = 3
    seed: int = 0
    fill: bool = False
    covariates: str = ""  # past covariates, "COL,COL" as given to --covariates
    future: str = ""  # known-future covariates, "COL,COL" as given to --future
    future_data: str | None = None  # a CSV file with the future covariates' values after the data
    fingerprint: str = ""


def _load(settings: ForecastSettings):
    """The series the settings name: an embedded dataset or the user's CSV file."""
    if settings.data.startswith("embedded:"):
        return load_dataset(settings.data.removeprefix("embedded:"))
    return settings.data


def columns(text: str | None, option: str) -> tuple[str, ...]:
    """ "COL,COL" -> ("COL", "COL"); a ParameterError for an empty name."""
    if not text:
        return ()
    names = tuple(name.strip() for name in text.split(","))
    if not all(names):
        raise ParameterError(f"{option}: expected column names separated by commas, got {text!r}")
    return names


def make_forecaster(settings: ForecastSettings) -> Forecaster:
    """The run's forecaster, its parameters checked (before any file is written)."""
    forecaster = Forecaster(
        horizon=settings.horizon or 1,
        lookback=settings.lookback,
        covariates=columns(settings.covariates, "--covariates"),
        future_covariates=columns(settings.future, "--future"),
        seed=settings.seed,
        epochs=settings.epochs,
        ensemble=settings.ensemble,
        progress=None,
    )
    forecaster.check_params()
    return forecaster


def _results_table(summary: pd.DataFrame, cover: float, settings: ForecastSettings) -> Table:
    table = Table(
        title=f"Backtest: {settings.folds} rolling origins, horizon {settings.horizon} ({settings.data})",
        caption=f"mean over folds; MASE < 1 beats the in-sample seasonal-naive error; "
        f"LSTM 80% interval coverage {cover:.0%}",
    )
    table.add_column("model")
    for metric in summary.columns:
        table.add_column(metric, justify="right")
    for model, row in summary.iterrows():
        table.add_row(NAMES[model], *(f"{value:.3f}" for value in row))
    return table


def read_series(settings: ForecastSettings) -> PreparedSeries:
    """The series the settings name, read once and checked with the settings' window sizes (every DataError comes
    from here). Settings without a horizon get one season (or one step), settled here from the data."""
    template = make_forecaster(settings)
    prepared = prepare_series(
        _load(settings),
        settings.target,
        settings.time,
        settings.fill,
        horizon=settings.horizon or 1,
        lookback=settings.lookback or (None if settings.horizon else 1),  # without a horizon, checked below
        covariates=template.covariates,
        future_covariates=template.future_covariates,
    )
    if settings.horizon is None:
        settings.horizon = prepared.seasonal_period
        checked = prepare_series(  # the frame already read, checked again for the settled horizon
            prepared.frame,
            horizon=settings.horizon,
            lookback=settings.lookback,
            seasonal_period=prepared.seasonal_period,
            covariates=template.covariates,
            future_covariates=template.future_covariates,
        )
        prepared = replace(checked, unused=prepared.unused)
    return prepared


def read_future(settings: ForecastSettings, path: str | None) -> pd.DataFrame | None:
    """The future covariates' values over the horizon, from ``path`` (time column as in the data); None for a
    model without future covariates. A DataError when they are needed and missing or short."""
    names = list(columns(settings.future, "--future"))
    if not names:
        if path is not None:
            raise ParameterError("--future-data gives the values of --future covariates; name them with --future")
        return None
    if path is None:
        raise DataError(
            f"the forecast after the data reads the future covariates {names}: pass --future-data with a CSV "
            f"file of their values over the next {settings.horizon} steps"
        )
    frame = to_frame(path, time=settings.time if settings.time else None)
    absent = [name for name in names if name not in map(str, frame.columns)]
    if absent or len(frame) < (settings.horizon or 1):
        raise DataError(
            f"{path}: expected at least {settings.horizon} rows of the future covariates {names}, got "
            f"{len(frame)} rows with columns {[str(c) for c in frame.columns]}"
        )
    return frame.rename(columns=str)[names]


def run(settings: ForecastSettings, frame: pd.DataFrame, out: Path, console: Console) -> dict:
    """Backtest on ``frame`` (checked by ``_read``), fit on all of it, forecast, write the run folder; returns the
    metrics."""
    template = make_forecaster(settings)
    result = backtest(
        template,
        frame,
        folds=settings.folds,
        workdir=out / "backtest",
        on_fold=lambda k: console.print(f"backtest fold {k}/{settings.folds} done"),
    )
    final = make_forecaster(settings).fit(frame, checkpoint_dir=out / "checkpoints" / "final")
    final.save(out / "model", overwrite=True)  # the run folder is ours: a resumed run rewrites its own model
    future = final.predict(future=read_future(settings, settings.future_data))
    future.to_csv(out / "forecast.csv", index_label=frame.index.name or "time")
    summary = result.summary()
    metrics = {
        "backtest": {model: summary.loc[model].to_dict() for model in result.models},
        "not_scored": result.skipped,
        "folds": result.scores.to_dict(orient="records"),
        "interval_coverage": coverage(result.forecasts),
        "seasonal_period": final.seasonal_period_,
        "lookback": final.lookback_,
        "epochs_trained": [len(history) for history in final.history_],  # per ensemble member
    }
    common.write_json(out / "metrics.json", common.undefined_as_null(metrics, "MASE", UNDEFINED_MASE))
    target = frame.iloc[:, 0]
    shown = target.iloc[-max(6 * settings.horizon, 4 * final.lookback_) :]
    plot_forecast(shown, future, title=f"{target.name}: LSTM forecast, {settings.horizon} steps").savefig(
        out / "forecast.png", dpi=110
    )
    plot_backtest(result.scores).savefig(out / "backtest.png", dpi=110)
    plot_training_curves(final.history_[0], title="Final fit, first member: pinball loss").savefig(
        out / "training.png", dpi=110
    )
    console.print(_results_table(summary, metrics["interval_coverage"], settings))
    for reason in result.skipped.values():
        console.print(f"not scored: {reason}")
    if not statistical_available():
        console.print('ETS and ARIMA join the table with the stats extra: pip install "lstmkit[stats]"')
    return metrics


def settings_for(
    data: Path | None, future_data: Path | None = None, *, covariates: str | None, future: str | None, **options
) -> ForecastSettings:
    """Settings with the data files checked and made absolute (the embedded default without --data) and the
    covariate options as given ("" when absent); shared with ``lstmkit tune forecast``."""
    return ForecastSettings(
        data=common.data_setting(data, EMBEDDED),
        future_data=None if future_data is None else common.data_setting(future_data),
        covariates=covariates or "",
        future=future or "",
        **options,
    )


# The data and window options, shared with ``lstmkit tune forecast``.
DATA = typer.Option(None, help="CSV file (default: the embedded monthly airline passengers).")
TARGET = typer.Option(None, help="Column to forecast (default: the first non-time column).")
TIME = typer.Option(None, "--time", help="Column of timestamps (default: none, rows are time steps).")
HORIZON = typer.Option(None, min=1, help="Steps to forecast (default: one season, or 1).")
LOOKBACK = typer.Option(None, min=1, help="Steps the model reads (default: two seasons, or 24).")
FILL = typer.Option(False, "--fill", help="Interpolate missing values instead of refusing them.")
COVARIATES = typer.Option(None, "--covariates", help="Past covariates, COL,COL: read in the lookback window only.")
FUTURE = typer.Option(
    None, "--future", help="Known-future covariates, COL,COL: also read over the horizon (needs --future-data)."
)
FUTURE_DATA = typer.Option(
    None, "--future-data", help="CSV with the --future covariates' values over the steps after the data."
)


@forecast_app.callback(invoke_without_command=True)
def forecast(
    ctx: typer.Context,
    data: Path = DATA,
    target: str = TARGET,
    time: str = TIME,
    horizon: int = HORIZON,
    lookback: int = LOOKBACK,
    epochs: int = typer.Option(300, min=1, help="Maximum training epochs (early stopping ends most runs sooner)."),
    ensemble: int = typer.Option(5, min=1, help="Members trained from different seeds; the forecast is their median."),
    folds: int = typer.Option(3, min=1, help="Rolling origins in the backtest."),
    seed: int = common.SEED,
    fill: bool = FILL,
    covariates: str = COVARIATES,
    future: str = FUTURE,
    future_data: Path = FUTURE_DATA,
    out: Path = common.RUN_FOLDER,
    resume: Path = common.RESUME,
) -> None:
    """Backtest, fit and forecast; with no options, on the embedded airline series."""
    if ctx.invoked_subcommand is not None:
        return
    common.one_thread()
    console = common.console()

    def new_settings() -> ForecastSettings:
        return settings_for(
            data,
            future_data,
            target=target,
            time=time,
            horizon=horizon,
            lookback=lookback,
            epochs=epochs,
            ensemble=ensemble,
            folds=folds,
            seed=seed,
            fill=fill,
            covariates=covariates,
            future=future,
        )

    def read(settings: ForecastSettings) -> pd.DataFrame:
        """Every input check, before any file: the series, the backtest's length, the future covariates."""
        prepared = read_series(settings)
        frame = prepared.frame
        backtest_needs = (
            prepared.lookback + settings.horizon + 1 + prepared.seasonal_period + settings.folds * settings.horizon
        )
        if len(frame) < backtest_needs:
            raise DataError(
                f"the series has {len(frame)} rows; {settings.folds} backtest folds of horizon "
                f"{settings.horizon} with lookback {prepared.lookback} need at least {backtest_needs}"
            )
        read_future(settings, settings.future_data)
        make_forecaster(settings)
        if prepared.unused:
            console.print(
                f"not used: {', '.join(prepared.unused)} (name columns with --covariates or --future to use them)"
            )
        return frame

    settings, frame, out = common.open_run(ctx, resume, out, COMMAND, ForecastSettings, new_settings, read)
    run(settings, frame, out, console)
    console.print(f"run folder: {out} (model/, metrics.json, forecast.csv, forecast.png, backtest.png, training.png)")


@forecast_app.command("predict")
def predict(
    model: Path = typer.Option(..., help="A run folder, or its model/ folder."),
    horizon: int = typer.Option(None, min=1, help="Steps to forecast (default: the model's horizon)."),
    future_data: Path = typer.Option(
        None, "--future-data", help="CSV with the model's future covariates over those steps (if it has any)."
    ),
    out: Path = typer.Option(None, help="Write the forecast to this CSV file instead of printing it."),
) -> None:
    """Forecast with a saved model."""
    if out is not None:
        common.check_new_file(out, "forecast")
    forecaster = common.load_saved(model, Forecaster, "a forecaster", "forecast")
    settings = ForecastSettings(horizon=horizon or forecaster.horizon, future=",".join(forecaster.future_covariates))
    given = read_future(settings, None if future_data is None else common.data_setting(future_data))
    future = forecaster.predict(horizon, future=given)
    if out is None:
        common.console().print(future.to_string())
    else:
        write_atomically(out, future.to_csv(index_label="time"))
        common.console().print(f"forecast written to {out}")


def datasets() -> None:
    """List the embedded datasets."""
    table = Table(title="Embedded datasets (lstmkit.data.load_dataset)")
    for column in ("name", "series", "points", "seasonal period"):
        table.add_column(column)
    for dataset in DATASETS.values():
        table.add_row(
            dataset.name, dataset.description, str(len(load_dataset(dataset.name))), str(dataset.seasonal_period)
        )
    sequences = Table(title="Embedded classification datasets (lstmkit.data.load_sequence_dataset)")
    for column in ("name", "task", "train", "test"):
        sequences.add_column(column)
    for name, description in EMBEDDED_SEQUENCES.items():
        splits = load_sequence_dataset(name)
        sequences.add_row(name, description, str(len(splits.train.sequences)), str(len(splits.test.sequences)))
    shown = common.console()
    shown.print(table)
    shown.print(sequences)
