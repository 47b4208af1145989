"""The ``lstmkit`` command-line tool: the only code in lstmkit that prints or exits.

Every command is a thin layer over an importable function. Errors lstmkit raises on purpose
(``LstmkitError``) become one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import sys

import typer

from lstmkit.cli.cells import cells
from lstmkit.cli.classify import classify_app
from lstmkit.cli.detect import detect_app
from lstmkit.cli.experiment import experiment_app
from lstmkit.cli.forecast import datasets, forecast_app
from lstmkit.cli.generate import generate_app
from lstmkit.cli.inside import demo_app, inspect
from lstmkit.cli.tag import tag_app
from lstmkit.cli.translate import translate
from lstmkit.cli.tune import tune_app
from lstmkit.errors import LstmkitError

app = typer.Typer(
    name="lstmkit",
    help="LSTM networks you can read, train and see inside.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("cells")(cells)
app.command("datasets")(datasets)
app.add_typer(forecast_app, name="forecast")
app.add_typer(classify_app, name="classify")
app.add_typer(tag_app, name="tag")
app.add_typer(detect_app, name="detect")
app.command("translate")(translate)
app.add_typer(generate_app, name="generate")
app.add_typer(tune_app, name="tune")
app.add_typer(demo_app, name="demo")
app.command("inspect")(inspect)
app.add_typer(experiment_app, name="experiment")


def main() -> None:
    """Console entry point. Usage errors exit 2 with typer's message; so do lstmkit's own errors."""
    try:
        app()
    except (LstmkitError, OSError) as error:  # OSError: a file system refusing a write lstmkit could not foresee
        typer.echo(f"error: {error}", err=True)
        sys.exit(2)
