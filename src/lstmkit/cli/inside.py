"""``lstmkit demo gates`` and ``lstmkit inspect``: pictures of what trained recurrent models do."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch
import typer
from rich.console import Console

from lstmkit.cli import common
from lstmkit.cli.forecast import COMMAND, ForecastSettings, read_future, read_series
from lstmkit.errors import DataError, ParameterError
from lstmkit.files import write_atomically
from lstmkit.viz import (
    plot_backtest,
    plot_forecast,
    plot_gates,
    plot_gradient_flow,
    plot_hidden_states,
    plot_saturation,
    plot_training_curves,
)
from lstmkit.viz.report import figure_png, html_report

demo_app = typer.Typer(
    help="Demonstrations that train small models and draw what happens inside.", no_args_is_help=True
)


def _save(figure, path: Path) -> bytes:
    data = figure_png(figure)
    path.write_bytes(data)
    return data


@demo_app.command("gates")
def demo_gates(
    out: Path = typer.Option(None, help="A new folder for the pictures (default: runs/<timestamp>)."),
    length: int = typer.Option(30, min=5, help="Sequence length T."),
    epochs: int = typer.Option(30, min=1),
    seed: int = common.SEED,
) -> None:
    """Train an LSTM, a GRU and a vanilla RNN on 'remember the first symbol' and draw them from the inside."""
    from lstmkit.experiments.gate_demo import run_gate_demo

    out = common.check_run_folder(out)  # before the training, not after
    common.one_thread()
    console = Console()
    demo = run_gate_demo(length=length, epochs=epochs, seed=seed)
    out.mkdir(parents=True, exist_ok=True)
    _save(plot_gates(demo.trace, inputs=demo.text), out / "lstm_gates.png")
    _save(plot_saturation(demo.trace), out / "lstm_saturation.png")
    _save(
        plot_hidden_states(
            {k: demo.hidden[k] for k in ("LSTM", "vanilla RNN")},
            inputs=demo.text,
            title="Hidden states on the same sequence (first symbol, then distractors)",
        ),
        out / "hidden_states.png",
    )
    _save(
        plot_gradient_flow(
            demo.grad_h, demo.grad_c, title=f"Gradient flow of trained models, T = {length} (loss at the last step)"
        ),
        out / "gradient_flow.png",
    )
    for name, accuracy in demo.accuracy.items():
        ratio = demo.grad_h[name][0] / demo.grad_h[name][-1]
        console.print(f"{name:<12} held-out accuracy {accuracy:.3f}   |dL/dh_0| / |dL/dh_{length - 1}| = {ratio:.1e}")
    console.print(
        f"pictures written to {out}: lstm_gates.png, lstm_saturation.png, hidden_states.png, gradient_flow.png"
    )


def _units(spec: str, hidden_size: int) -> slice:
    """START:STOP of the units to draw, within the layer's ``hidden_size`` units and not empty."""
    try:
        start, stop = (int(p) if p else None for p in spec.split(":"))
    except ValueError:
        raise ParameterError(f"expected --units as START:STOP, e.g. 0:32, got {spec!r}") from None
    start, stop = 0 if start is None else start, hidden_size if stop is None else min(stop, hidden_size)
    if not 0 <= start < stop:
        raise ParameterError(
            f"expected --units START:STOP with 0 <= START < STOP within the {hidden_size} units, got {spec!r}"
        )
    return slice(start, stop)


def inspect(
    run_dir: Path = typer.Argument(..., help="A forecasting run folder (lstmkit forecast --out ...)."),
    out: Path = typer.Option(..., help="A new (or empty) folder for the PNGs and report.html."),
    input_file: Path = typer.Option(None, "--input", help="CSV with the series to run (default: the run's own)."),
    layer: int = typer.Option(-1, help="Layer to draw (default: the last)."),
    units: str = typer.Option("0:32", help="Units to draw, START:STOP."),
) -> None:
    """Write the gate pictures and one self-contained HTML report for a saved forecasting run."""
    from lstmkit.tasks import Forecaster

    out = common.check_run_folder(out)
    model_dir = run_dir / "model"
    metrics_file = run_dir / "metrics.json"
    if not model_dir.is_dir() or not metrics_file.is_file():
        raise DataError(f"{run_dir}: not a forecasting run folder (expected model/ and metrics.json in it)")
    forecaster = Forecaster.load(model_dir)
    unit_slice = _units(units, forecaster.hidden_size)
    metrics = common.read_json(metrics_file, dict)
    settings = common.read_settings(run_dir, COMMAND, ForecastSettings) if (run_dir / "run.json").is_file() else None
    if input_file is not None:  # checked with the run's own window sizes
        base = settings or ForecastSettings(horizon=forecaster.horizon, lookback=forecaster.lookback_)
        frame = read_series(replace(base, data=str(input_file))).frame
    elif settings is not None:
        frame = read_series(settings).frame
    else:
        frame = forecaster.tail_
    if [str(c) for c in frame.columns] != forecaster.columns_:
        raise DataError(
            f"expected the columns {forecaster.columns_} the model was fitted on, got {list(frame.columns)}"
        )
    lstm = forecaster.model_.members[0].lstm  # the first member of the ensemble
    if not -lstm.num_layers <= layer < lstm.num_layers:
        raise ParameterError(f"expected --layer in [{-lstm.num_layers}, {lstm.num_layers}), got {layer}")
    window = frame.to_numpy()[-forecaster.lookback_ :]
    x = torch.from_numpy(forecaster.network_input(frame)[:, : forecaster.lookback_])  # (1, lookback, C)
    with torch.no_grad():
        _, _, trace = lstm(x, return_gates=True)
    given = None
    if forecaster.future_covariates:  # their values after the data: the run's own --future-data
        if settings is None or input_file is not None:
            raise DataError(
                f"this model reads the future covariates {list(forecaster.future_covariates)}: inspect draws it on "
                "its own run's data and --future-data (without --input)"
            )
        given = read_future(settings, settings.future_data)
    future = forecaster.predict(history=frame, future=given)  # every check before the folder is made
    out.mkdir(parents=True, exist_ok=True)
    target = frame.iloc[:, 0]
    images = {
        "gates": _save(plot_gates(trace, layer=layer, inputs=window[:, 0], units=unit_slice), out / "gates.png"),
        "saturation": _save(plot_saturation(trace, layer=layer), out / "saturation.png"),
        "training": _save(
            plot_training_curves(forecaster.history_[0], title="Training, first member: pinball loss"),
            out / "training.png",
        ),
        "forecast": _save(
            plot_forecast(target.iloc[-4 * forecaster.lookback_ :], future),
            out / "forecast.png",
        ),
    }
    folds = metrics.get("folds", []) if isinstance(metrics.get("folds"), list) else []
    if folds:
        import pandas as pd

        images["backtest"] = _save(plot_backtest(pd.DataFrame(folds)), out / "backtest.png")
    backtest_rows = [{"model": model} | values for model, values in metrics.get("backtest", {}).items()]
    facts = [
        {
            "run": str(run_dir),
            "lookback": forecaster.lookback_,
            "horizon": forecaster.horizon,
            "seasonal period": forecaster.seasonal_period_,
            "epochs trained": ", ".join(str(len(history)) for history in forecaster.history_),
            "interval coverage": metrics.get("interval_coverage", float("nan")),
        }
    ]
    sections = [
        ("Run", facts, []),
        ("Backtest (mean over folds)", backtest_rows, [images["backtest"]] if "backtest" in images else []),
        ("Forecast", None, [images["forecast"]]),
        ("Training curves", None, [images["training"]]),
        (
            f"Gates and states over the last {forecaster.lookback_} steps (layer {layer % lstm.num_layers})",
            None,
            [images["gates"], images["saturation"]],
        ),
    ]
    write_atomically(out / "report.html", html_report(f"lstmkit run {run_dir.name}", sections))
    Console().print(f"report written to {out / 'report.html'} with {', '.join(f'{k}.png' for k in images)}")
