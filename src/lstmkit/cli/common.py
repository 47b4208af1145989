"""What every task command shares: the console, the run folder (its checks, its settings file, --resume),
a fingerprint of the data, and writing result files. Commands check all of their data and options before
``create_run_folder``, so a refused run leaves nothing behind."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import sys
import types
import typing
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console

from lstmkit.data.series import check_input_file
from lstmkit.errors import DataError, OutputPathError, ParameterError
from lstmkit.files import check_output_path, write_atomically

SETTINGS = "run.json"

# Options every task command shares (typer reads an option's declaration from its default value).
SEED = typer.Option(0, min=0, max=2**63 - 1, help="Seed of every random choice: the same seed, the same numbers.")
RUN_FOLDER = typer.Option(None, help="A new (or empty) run folder (default: runs/<timestamp>).")
RESUME = typer.Option(None, help="Continue the interrupted run in this folder (no other options).")


def console() -> Console:
    return Console(width=None if sys.stdout.isatty() else 120)


def one_thread() -> None:
    """Small recurrent models: one thread is fastest and does not oversubscribe shared machines."""
    import torch

    torch.set_num_threads(1)


def check_resume_alone(ctx: typer.Context) -> None:
    """--resume repeats a run with its recorded settings: refuse other options rather than ignore them."""
    given = [
        f"--{name.replace('_', '-')}"
        for name in ctx.params
        # compared by name: the enum comes from the click typer was built with, not necessarily the installed one
        if name != "resume" and getattr(ctx.get_parameter_source(name), "name", None) == "COMMANDLINE"
    ]
    if given:
        raise ParameterError(
            f"--resume continues a run with the settings in its run.json; drop {', '.join(given)} (or start a new run)"
        )


def check_run_folder(out: Path | None) -> Path:
    """The run folder to create (default ``runs/<timestamp>``), refused if it exists with anything in it."""
    out = Path("runs") / datetime.now().strftime("%Y%m%d-%H%M%S") if out is None else out
    check_output_path(out, "run folder")
    if out.exists() and not out.is_dir():
        raise OutputPathError(f"{out}: exists and is not a folder; choose another --out")
    if out.is_dir() and any(out.iterdir()):
        raise OutputPathError(f"{out}: the run folder exists and is not empty; choose another --out, or --resume it")
    return out


def create_run_folder(out: Path, command: str, settings) -> None:
    """Make the (checked) run folder and record the command and its settings (a dataclass) in run.json."""
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / SETTINGS, {"command": command, "settings": dataclasses.asdict(settings)})


def read_settings(folder: Path, command: str, settings_class):
    """The settings a run folder was started with, checked field by field against ``settings_class``."""
    file = folder / SETTINGS
    if not file.is_file():
        raise DataError(f"{folder}: not a run folder (no {SETTINGS})")
    payload = read_json(file, dict)
    if payload.get("command") != command:
        raise DataError(f"{file}: a run of {payload.get('command')!r}, not of {command!r}")
    values = payload.get("settings")
    if not isinstance(values, dict):
        raise DataError(f"{file}: expected a 'settings' object")
    hints = typing.get_type_hints(settings_class)
    fields = {f.name for f in dataclasses.fields(settings_class)}
    if set(values) != fields:
        raise DataError(f"{file}: expected the settings {sorted(fields)}, got {sorted(values)}")
    for name, value in values.items():
        if not _matches(value, hints[name]):
            raise DataError(f"{file}: setting {name!r} is {value!r}, expected {hints[name]}")
    return settings_class(**values)


def read_json(file: Path, expected: type = dict):
    """A JSON file lstmkit wrote, refused with its name if it is unreadable or not of the ``expected`` type."""
    try:
        payload = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(f"{file}: not a readable JSON file ({error})") from None
    if not isinstance(payload, expected):
        raise DataError(f"{file}: expected a JSON {expected.__name__}, got {type(payload).__name__}")
    return payload


def _matches(value, hint) -> bool:
    options = (
        typing.get_args(hint)
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
        else (hint,)
    )
    for option in options:
        if option is type(None) and value is None:
            return True
        if option is float and isinstance(value, int | float) and not isinstance(value, bool):
            return True
        if option is int and isinstance(value, int) and not isinstance(value, bool):
            return True
        if option in (str, bool) and isinstance(value, option):
            return True
    return False


def data_setting(path: Path | None, default: str | None = None) -> str:
    """A data file as recorded in run.json: checked and absolute; ``default`` (an "embedded:..." name) without one."""
    return default if path is None else str(check_input_file(path).resolve())


def fingerprint(*paths: Path | str | None) -> str:
    """SHA-256 over the bytes of the data files (an embedded dataset's name stands for itself)."""
    digest = hashlib.sha256()
    for path in paths:
        if path is None:
            continue
        path_text = str(path)
        digest.update(path_text.encode() if path_text.startswith("embedded:") else check_input_file(path).read_bytes())
    return digest.hexdigest()


def resume_run(ctx: typer.Context, folder: Path, command: str, settings_class):
    """The settings of the interrupted run in ``folder``: no other options given, run.json checked field by field,
    and the data files (``data_files``) unchanged since the run started."""
    check_resume_alone(ctx)
    settings = read_settings(folder, command, settings_class)
    current = fingerprint(*data_files(settings))
    if current != settings.fingerprint:
        raise DataError(
            f"{folder}: the data changed since this run started (fingerprint {current[:12]} vs "
            f"{settings.fingerprint[:12]}); --resume needs the same data: start a new run instead"
        )
    return settings


DATA_FIELDS = ("data", "train", "dev", "test", "future_data")  # settings fields that name data files


def data_files(settings) -> list[str | None]:
    """The data files a run's settings name (fields in DATA_FIELDS), in that order: what its fingerprint covers."""
    return [getattr(settings, name) for name in DATA_FIELDS if hasattr(settings, name)]


def open_run(
    ctx: typer.Context, resume: Path | None, out: Path | None, command: str, settings_class, new_settings, read
):
    """(settings, data, run folder) of a run: with ``resume``, the interrupted run's settings and its data read
    again by ``read(settings)``; else ``new_settings()``, its data read and checked by ``read`` before the run
    folder is checked, created and given run.json (with the data's fingerprint)."""
    if resume is not None:
        settings = resume_run(ctx, resume, command, settings_class)
        return settings, read(settings), resume
    settings = new_settings()
    data = read(settings)
    settings.fingerprint = fingerprint(*data_files(settings))
    out = check_run_folder(out)
    create_run_folder(out, command, settings)
    return settings, data, out


def finite_json(value):
    """``value`` with every non-finite float refused: JSON never holds NaN or Infinity."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ParameterError(f"refusing to write the non-finite number {value} into JSON")
    if isinstance(value, dict):
        return {str(k): finite_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(v) for v in value]
    return value


def undefined_as_null(payload: dict, key: str, reason: str) -> dict:
    """``payload`` with every non-finite number under ``key`` (a value undefined or overflowed for this data, alone
    or in a list) as None, and ``reason`` recorded under "notes" when there was one; non-finite numbers elsewhere
    stay, for ``write_json`` to refuse."""
    found = []

    def null(value):
        if isinstance(value, float) and not math.isfinite(value):
            found.append(value)
            return None
        return [null(v) for v in value] if isinstance(value, list) else value

    def clean(value):
        if isinstance(value, list):
            return [clean(v) for v in value]
        if not isinstance(value, dict):
            return value
        return {name: null(item) if name == key else clean(item) for name, item in value.items()}

    result = clean(payload)
    return result | {"notes": {key: reason}} if found else result


def write_json(path: Path, payload) -> None:
    """Strict JSON (no NaN or Infinity), written atomically."""
    write_atomically(path, json.dumps(finite_json(payload), indent=2, allow_nan=False))


def write_figure(figure, path: Path) -> None:
    """A matplotlib Figure as a PNG at ``path``, written atomically."""
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    write_atomically(path, buffer.getvalue())


def check_new_file(path: Path, what: str) -> Path:
    """An output file that does not exist yet (lstmkit never replaces a user's file), in a writable place."""
    check_output_path(path, what)
    if path.exists() or path.is_symlink():
        raise OutputPathError(
            f"{path}: already exists; lstmkit does not replace files it did not write: choose another"
        )
    return path


def load_saved(model: Path, estimator_class, what: str, command: str):
    """The estimator saved in ``model`` (a run folder holding model/, or the model folder itself), refused with a
    DataError when it is not an ``estimator_class`` (``what``, as ``lstmkit <command>`` trains)."""
    from lstmkit.tasks import load

    folder = model / "model" if (model / "model").is_dir() else model
    estimator = load(folder)
    if not isinstance(estimator, estimator_class):
        raise DataError(f"{folder}: holds a {estimator.kind} model, not {what} (lstmkit {command})")
    return estimator
