"""Reading and checking a user's time series: CSV files, pandas objects, arrays.

Every problem is a ``DataError`` that names the file, the column and the lines (line 1 is the CSV
header, so data row k is line k + 1), says what was expected, and what came.
"""

from __future__ import annotations

import csv
import io
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from lstmkit.errors import DataError

MAX_HEADER = 100_000  # bytes: a header longer than this is not a table of series
PERIODS = {
    "MS": 12,
    "ME": 12,
    "M": 12,
    "QS": 4,
    "QE": 4,
    "Q": 4,
    "W": 52,
    "D": 7,
    "B": 5,
    "h": 24,
    "H": 24,
    "YS": 1,
    "YE": 1,
    "Y": 1,
    "A": 1,
    "AS": 1,
}


def _lines(rows, limit: int = 10) -> str:
    rows = [int(r) + 2 for r in rows]  # data row r (0-based) is line r + 2
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return ", ".join(map(str, rows[:limit])) + more


def check_input_file(path: str | Path) -> Path:
    """``path`` as a Path if it names a regular file, else a DataError that says what it names instead."""
    if str(path) in ("", "."):
        raise DataError("expected a data file, got an empty path")
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if path.is_dir():
        raise DataError(f"{path}: a folder, not a data file")
    if not path.is_file():
        raise DataError(f"{path}: not a regular file (a device, a pipe or a socket); expected a data file")
    return path


def shorten(text: str, limit: int = 200) -> str:
    """``text`` cut to ``limit`` characters for a message, saying how much was left out."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text) - limit} more characters)"


def read_csv(path: str | Path) -> pd.DataFrame:
    """A CSV file as a DataFrame, or a DataError for a missing, empty, header-only or non-CSV file."""
    path = check_input_file(path)
    raw = path.read_bytes()
    if not raw.strip():
        raise DataError(f"{path}: the file is empty; expected a CSV file with a header line and data lines")
    header = raw.split(b"\n", 1)[0]
    if len(header) > MAX_HEADER:
        raise DataError(f"{path}: the first line is {len(header):,} bytes long; expected a CSV header line")
    if b"\x00" in raw[:4096]:
        raise DataError(f"{path}: not a CSV file (it holds binary data)")
    names = next(csv.reader(io.StringIO(header.decode("utf-8", errors="replace"), newline="")), [])
    repeated = sorted({n.strip() for n in names if [m.strip() for m in names].count(n.strip()) > 1})
    if repeated:
        raise DataError(
            f"{path}: the header names {shorten(', '.join(repeated))} more than once; expected unique names"
        )
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start}); save it as UTF-8") from None
    try:
        frame = pd.read_csv(path, skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: not a CSV file ({str(error).splitlines()[0]})") from None
    if frame.empty:
        raise DataError(f"{path}: a header ({shorten(', '.join(map(str, frame.columns)))}) but no data lines")
    if not isinstance(frame.index, pd.RangeIndex):  # pandas made the extra leading fields an index
        raise DataError(
            f"{path}: data lines have more fields than the header's {frame.shape[1]} columns "
            f"({shorten(', '.join(map(str, frame.columns)))}); decimal commas? quote such values or use a dot"
        )
    if all(_is_number(column) for column in frame.columns):
        raise DataError(
            f"{path}: the first line ({shorten(', '.join(map(str, frame.columns)))}) holds numbers, not column names; "
            "expected a header line first"
        )
    return frame


def _is_number(text) -> bool:
    try:
        float(str(text))
    except ValueError:
        return False
    return True


def to_frame(data, target: str | None = None, time: str | None = None, source: str = "the data") -> pd.DataFrame:
    """Any supported input as a DataFrame: the target column first, then the covariates; indexed by time.

    ``data``: a CSV path, a pandas Series or DataFrame (its index is the time axis unless ``time`` names a
    column; without ``time``, a column of ISO 8601 dates becomes the time axis), or a NumPy array (1-D, or
    2-D with the target in column 0).
    """
    if isinstance(data, str | Path):
        source = str(data)
        frame = read_csv(data)
    elif isinstance(data, pd.Series):
        frame = data.to_frame(name=data.name if data.name is not None else "value")
    elif isinstance(data, pd.DataFrame):
        frame = data.copy()
    else:
        array = np.asarray(data)
        if array.ndim not in (1, 2) or array.size == 0:
            raise DataError(f"expected a 1-D series or a 2-D (time, columns) array, got shape {array.shape}")
        array = array.reshape(len(array), -1)
        frame = pd.DataFrame(array, columns=["value"] + [f"x{k}" for k in range(1, array.shape[1])])
    if frame.empty:
        raise DataError(f"{source}: no data")
    if time is None and not isinstance(frame.index, pd.DatetimeIndex):
        time = _date_column(frame)
    if time is not None:
        if time not in frame.columns:
            raise DataError(
                f"{source}: time column {time!r} not found; columns are {shorten(', '.join(map(str, frame.columns)))}"
            )
        frame = frame.drop(columns=time).set_index(_time_index(frame[time], time, source))
        if frame.shape[1] == 0:
            raise DataError(f"{source}: no column is left to forecast besides the time column {time!r}")
    target = frame.columns[0] if target is None else target
    if target not in frame.columns:
        raise DataError(
            f"{source}: target column {target!r} not found; columns are {shorten(', '.join(map(str, frame.columns)))}"
        )
    frame = frame[[target, *[c for c in frame.columns if c != target]]]
    _check_index(frame.index, source)
    return frame


def _time_index(values: pd.Series, name: str, source: str) -> pd.Index:
    """A time column as the index: integers (time steps, years) stay integers; text becomes dates, in UTC when the
    stamps carry different offsets (daylight saving). Never numbers read as nanoseconds since 1970."""
    if pd.api.types.is_bool_dtype(values):
        raise DataError(f"{source}: time column {name!r} holds True/False; expected dates or integer time steps")
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(numbers) | (numbers != np.round(numbers)))
        if len(bad):
            raise DataError(
                f"{source}: time column {name!r} has numbers that are not whole time steps at lines {_lines(bad)}; "
                "expected dates or integer time steps"
            )
        return pd.Index(numbers.astype(np.int64), name=name)
    stamps = _dates(values, utc=False)
    if stamps is None:  # offsets differ between rows (daylight saving): compare them in UTC
        stamps = _dates(values, utc=True)
    bad = np.flatnonzero(stamps.isna().to_numpy())
    if len(bad):
        raise DataError(f"{source}: time column {name!r} has values that are not dates at lines {_lines(bad)}")
    return pd.DatetimeIndex(stamps, name=name)


def _dates(values: pd.Series, utc: bool) -> pd.Series | None:
    """Text as dates (NaT where a value is not one): ISO 8601 first, else pandas' inference; None when the
    values carry different UTC offsets and ``utc`` is off."""
    try:
        stamps = pd.to_datetime(values, errors="coerce", format="ISO8601", utc=utc)
        if stamps.isna().any():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "could not infer format": each value parsed alone
                stamps = pd.to_datetime(values, errors="coerce", utc=utc)
    except ValueError:
        return None
    return stamps


def _date_column(frame: pd.DataFrame) -> str | None:
    """The first text column whose every value is an ISO 8601 date (2024-01-31, 2024-01, 2024-01-31 12:00), if any."""
    for column in frame.columns:
        values = frame[column]
        if values.dtype != object and not pd.api.types.is_string_dtype(values):
            continue
        parsed = pd.to_datetime(values, errors="coerce", format="ISO8601")
        if parsed.notna().all():
            return column
    return None


def _check_index(index: pd.Index, source: str) -> None:
    duplicated = np.flatnonzero(index.duplicated(keep=False))
    if len(duplicated):
        raise DataError(f"{source}: duplicate timestamps at lines {_lines(duplicated)}; expected one row per time step")
    values = index.to_numpy()
    backwards = np.flatnonzero(values[1:] < values[:-1])
    if len(backwards):
        raise DataError(
            f"{source}: timestamps are not in increasing order, first at line {_lines(backwards[:1] + 1)}; "
            f"expected rows sorted by time"
        )


def to_numeric(frame: pd.DataFrame, fill: bool = False, source: str = "the data") -> pd.DataFrame:
    """Every column as float64. Non-numeric cells are refused (with their lines); missing values are refused
    (with their lines) unless ``fill``, which interpolates linearly in time and extends the ends."""
    numeric = frame.copy()
    for column in frame.columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = np.flatnonzero((values.isna() & frame[column].notna()).to_numpy())
        if len(bad):
            examples = ", ".join(repr(frame[column].iloc[k]) for k in bad[:3])
            raise DataError(f"{source}: column {column!r} has non-numeric values at lines {_lines(bad)} ({examples})")
        numeric[column] = values.astype(float)
    missing = np.flatnonzero(numeric.isna().any(axis=1).to_numpy())
    if len(missing) and not fill:
        raise DataError(
            f"{source}: missing values at lines {_lines(missing)}; fill them, or pass --fill (fill=True) to interpolate"
        )
    if len(missing):
        numeric = numeric.interpolate(limit_direction="both")
    if not np.isfinite(numeric.to_numpy()).all():
        raise DataError(f"{source}: infinite values; expected finite numbers")
    return numeric


def index_frequency(index: pd.Index) -> pd.DateOffset | None:
    """A DatetimeIndex's frequency as an offset: its own, else inferred; None if irregular or too short."""
    if not isinstance(index, pd.DatetimeIndex):
        return None
    if index.freq is not None:
        return index.freq
    if len(index) < 3:
        return None
    try:  # pandas 3 announces that infer_freq will return an offset; ask for that where the option exists
        with pd.option_context("future.infer_freq_returns_offset", True):
            freq = pd.infer_freq(index)
    except (KeyError, pd.errors.OptionError):
        freq = pd.infer_freq(index)
    return None if freq is None else pd.tseries.frequencies.to_offset(freq)


def seasonal_period(index: pd.Index) -> int:
    """The seasonal period implied by the index frequency (12 for monthly, 4 quarterly, 7 daily, 24 hourly,
    52 weekly), 1 when there is none or it cannot be inferred (e.g. an integer index)."""
    freq = index_frequency(index)
    if freq is None:
        return 1
    base = freq.freqstr.split("-")[0].lstrip("0123456789")
    return PERIODS.get(base, 1)


def read_labelled_texts(path: str | Path, text: str, label: str | None) -> tuple[list[str], np.ndarray | None]:
    """The ``text`` column of a CSV file as strings and the ``label`` column as labels (None without ``label``).

    A DataError for a missing or unreadable file, an absent column (naming the columns there are), and an
    empty text or a missing label (naming the lines).
    """
    path = Path(path)
    frame = read_csv(path)
    for role, column in (("text", text), ("label", label)):
        if column is not None and column not in frame.columns:
            raise DataError(
                f"{path}: {role} column {column!r} not found; columns are {shorten(', '.join(map(str, frame.columns)))}"
            )
    texts = frame[text]
    empty = np.flatnonzero((texts.isna() | (texts.astype(str).str.strip() == "")).to_numpy())
    if len(empty):
        raise DataError(f"{path}: empty texts in column {text!r} at lines {_lines(empty)}; expected text in every row")
    if label is None:
        return texts.astype(str).tolist(), None
    labels = frame[label]
    missing = np.flatnonzero(labels.isna().to_numpy())
    if len(missing):
        raise DataError(f"{path}: missing labels in column {label!r} at lines {_lines(missing)}")
    return texts.astype(str).tolist(), labels.to_numpy()
