"""``lstmkit detect``: fit an anomaly detector to a series (default: the embedded NYC taxi series with NAB's
windows), score every step, flag the anomalous ranges, and, where labels are known, score the detector beside
the baselines.

The run folder holds run.json, checkpoints/, model/, scores.csv (step, time, value, score, flagged and the label
if any), anomalies.json (the flagged ranges with their peak scores), metrics.json (with labels: ROC-AUC, PR-AUC,
range-based F1 and peak-in-window for the detector, a rolling z-score and an isolation forest), scores.png and
training.png. Every check of the data and the options runs before the folder is created.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import typer

from lstmkit.cli import common
from lstmkit.data.datasets import load_nab
from lstmkit.data.series import read_csv, shorten, to_numeric
from lstmkit.errors import DataError
from lstmkit.files import write_atomically
from lstmkit.tasks import AnomalyDetector
from lstmkit.tasks.metrics import anomaly_scores, range_scores

detect_app = typer.Typer(help="Find anomalies in a series with an LSTM, scored against baselines where labelled.")
COMMAND = "detect"
EMBEDDED = "embedded:nyc_taxi"


@dataclass
class DetectSettings:
    """Everything a detect run depends on; recorded in run.json so ``--resume`` repeats it exactly."""

    data: str = EMBEDDED  # "embedded:nyc_taxi" (NAB's windows as labels) or a CSV file
    value: str = "value"
    time: str | None = None
    label: str | None = None  # a 0/1 column of known anomalies (used only to score)
    scorer: str = "autoencoder"
    window: int = 64
    threshold: str = "quantile"
    epochs: int = 30
    seed: int = 0
    fingerprint: str = ""


def read_data(settings: DetectSettings) -> tuple[np.ndarray, list[str], np.ndarray | None]:
    """(values, time stamps as text, labels or None); every DataError comes from here."""
    if settings.data == EMBEDDED:
        series = load_nab()
        return series.values, [str(t) for t in series.timestamps], series.labels.astype(int)
    frame = read_csv(settings.data)
    for role, column in (("value", settings.value), ("time", settings.time), ("label", settings.label)):
        if column is not None and column not in frame.columns:
            raise DataError(
                f"{settings.data}: {role} column {column!r} not found; columns are "
                f"{shorten(', '.join(map(str, frame.columns)))}"
            )
    values = to_numeric(frame[[settings.value]], source=settings.data).iloc[:, 0].to_numpy()
    times = [str(t) for t in frame[settings.time]] if settings.time else [str(k) for k in range(len(frame))]
    labels = None
    if settings.label is not None:
        labels = to_numeric(frame[[settings.label]], source=settings.data).iloc[:, 0].to_numpy()
        if not np.isin(labels, (0, 1)).all():
            raise DataError(f"{settings.data}: label column {settings.label!r} must hold 0 or 1 on every line")
        labels = labels.astype(int)
    if len(values) < settings.window + 1:
        raise DataError(
            f"{settings.data}: {len(values)} rows; window {settings.window} needs at least {settings.window + 1}"
        )
    return values, times, labels


def make_detector(settings: DetectSettings) -> AnomalyDetector:
    detector = AnomalyDetector(
        scorer=settings.scorer,
        window=settings.window,
        threshold=settings.threshold,
        epochs=settings.epochs,
        seed=settings.seed,
        progress=None,
    )
    detector.check_params()
    return detector


def _evaluate(labels: np.ndarray, scores: np.ndarray, flagged: np.ndarray) -> dict:
    return anomaly_scores(labels, scores) | {"range_f1": range_scores(labels, flagged)["f1"]}


def run(settings: DetectSettings, data, out: Path, console) -> dict:
    from lstmkit.tasks.baselines import isolation_forest_scores, rolling_zscore
    from lstmkit.viz import plot_anomalies, plot_training_curves

    values, times, labels = data
    detector = make_detector(settings).fit(values, checkpoint_dir=out / "checkpoints")
    detector.save(out / "model", overwrite=True)  # the run folder is ours: a resumed run rewrites its model
    scores = detector.score_samples(values)  # one pass; the flags and ranges come from these scores
    flagged, found = detector.flag(scores), detector.ranges_of(scores)
    table = pd.DataFrame({"time": times, "value": values, "score": scores, "flagged": flagged})
    if labels is not None:
        table["label"] = labels
    write_atomically(out / "scores.csv", table.to_csv(index_label="step", float_format="%.6g"))
    common.write_json(
        out / "anomalies.json", [a | {"start_time": times[a["start"]], "end_time": times[a["end"]]} for a in found]
    )
    metrics = {"flagged_share": float(flagged.mean()), "ranges": len(found)}
    if labels is not None and labels.any() and not labels.all():
        metrics["test"] = {"lstm": _evaluate(labels, scores, flagged)}
        for name, baseline in (
            ("rolling_zscore", rolling_zscore(values, settings.window)),
            ("isolation_forest", isolation_forest_scores(values, 32)),
        ):
            metrics["test"][name] = _evaluate(labels, baseline, baseline > np.quantile(baseline, 1 - flagged.mean()))
    common.write_json(out / "metrics.json", metrics)
    threshold = detector.threshold_for(scores)
    plot_anomalies(
        values, scores, flagged, threshold, labels, title=f"{settings.data}: {settings.scorer} scores"
    ).savefig(out / "scores.png", dpi=110)
    plot_training_curves(detector.history_, title="Training: mean squared error").savefig(out / "training.png", dpi=110)
    console.print(f"{len(found)} anomalous ranges flagged ({flagged.mean():.1%} of the steps)")
    for name, row in metrics.get("test", {}).items():
        console.print(f"{name:18s} " + "  ".join(f"{k} {v:.3f}" for k, v in row.items()))
    return metrics


@detect_app.callback(invoke_without_command=True)
def detect(
    ctx: typer.Context,
    data: Path = typer.Option(None, help="CSV file (default: the embedded NYC taxi series with NAB's windows)."),
    value: str = typer.Option("value", help="Column of the values."),
    time: str = typer.Option(None, "--time", help="Column of time stamps (kept as text; rows stay in file order)."),
    label: str = typer.Option(None, help="Column of known anomalies (0/1), used only to score."),
    scorer: str = typer.Option("autoencoder", help="autoencoder, seq2seq or forecast."),
    window: int = typer.Option(64, min=4, help="Steps per window."),
    threshold: str = typer.Option("quantile", help="quantile (of the training scores) or dynamic (Hundman's)."),
    epochs: int = typer.Option(30, min=1, help="Maximum epochs."),
    seed: int = common.SEED,
    out: Path = common.RUN_FOLDER,
    resume: Path = common.RESUME,
) -> None:
    """Fit, score and flag; with no options, on the embedded NYC taxi series."""
    if ctx.invoked_subcommand is not None:
        return
    common.one_thread()
    shown = common.console()

    def new_settings() -> DetectSettings:
        return DetectSettings(
            data=common.data_setting(data, EMBEDDED),
            value=value,
            time=time,
            label=label,
            scorer=scorer,
            window=window,
            threshold=threshold,
            epochs=epochs,
            seed=seed,
        )

    def read(settings: DetectSettings):
        make_detector(settings)
        return read_data(settings)

    settings, series, out = common.open_run(ctx, resume, out, COMMAND, DetectSettings, new_settings, read)
    run(settings, series, out, shown)
    shown.print(f"run folder: {out} (model/, scores.csv, anomalies.json, metrics.json, scores.png, training.png)")


@detect_app.command("predict")
def predict(
    model: Path = typer.Option(..., help="A detect run folder, or its model/ folder."),
    data: Path = typer.Option(..., help="CSV file with the series to score."),
    value: str = typer.Option("value", help="Column of the values."),
    out: Path = typer.Option(None, help="Write the scores to this new CSV file instead of printing the ranges."),
) -> None:
    """Score a series with a saved detector: every step's score and flag, and the flagged ranges."""
    if out is not None:
        common.check_new_file(out, "scores")
    values, _, _ = read_data(DetectSettings(data=common.data_setting(data), value=value, window=1))
    detector = common.load_saved(model, AnomalyDetector, "an anomaly detector", "detect")
    scores = detector.score_samples(values)
    flagged = detector.flag(scores)
    if out is None:
        shown = common.console()
        for found in detector.ranges_of(scores):
            shown.print(f"steps {found['start']}-{found['end']}: peak score {found['peak']:.2f}")
        shown.print(f"{int(flagged.sum())} of {len(values)} steps flagged")
    else:
        table = pd.DataFrame({"value": values, "score": scores, "flagged": flagged})
        write_atomically(out, table.to_csv(index_label="step", float_format="%.6g"))
        common.console().print(f"{len(values)} scores written to {out}")
