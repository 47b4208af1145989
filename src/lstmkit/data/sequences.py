"""Variable-length sequences: checking them, padding them to (N, T, C) with lengths, and reading `.ts` files.

A collection of sequences comes as a list of (T_i, C) arrays (or (T_i,) for one channel) or as one
(N, T, C) array; ``as_sequences`` checks it once (at least one case, each with at least one step, the
same channels everywhere, finite values) and ``pad_sequences`` lays it out for a batch:
``x[n, :lengths[n]] = sequences[n]``, zeros after.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lstmkit.data.series import check_input_file
from lstmkit.errors import DataError


def as_sequences(X, name: str = "X") -> list[np.ndarray]:
    """``X`` as a list of float64 (T_i, C) arrays; a DataError naming the first bad case otherwise."""
    if isinstance(X, np.ndarray) and X.dtype != object:
        if X.ndim == 2:
            X = X[:, :, None]  # (N, T) univariate
        if X.ndim != 3:
            raise DataError(f"expected {name} as (N, T, C) or a list of (T_i, C) arrays, got shape {X.shape}")
        cases = list(X)
    elif isinstance(X, list | tuple | np.ndarray):
        cases = list(X)
    else:
        raise DataError(f"expected {name} as (N, T, C) or a list of (T_i, C) arrays, got {type(X).__name__}")
    if not cases:
        raise DataError(f"{name} is empty: expected at least one sequence")
    sequences = []
    for k, case in enumerate(cases):
        if isinstance(case, str):
            raise DataError(f"{name}[{k}] is a string but other cases are numeric: expected one kind of input")
        try:
            array = np.asarray(case, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise DataError(f"{name}[{k}]: expected numbers, got {type(case).__name__} ({error})") from None
        if array.ndim == 1:
            array = array[:, None]
        if array.ndim != 2 or len(array) == 0 or array.shape[1] == 0:
            raise DataError(f"{name}[{k}]: expected a (T, C) array with T >= 1 and C >= 1, got shape {array.shape}")
        if sequences and array.shape[1] != sequences[0].shape[1]:
            raise DataError(
                f"{name}[{k}] has {array.shape[1]} channels but {name}[0] has {sequences[0].shape[1]}: "
                "expected the same channels in every case"
            )
        bad = ~np.isfinite(array)
        if bad.any():
            step, channel = map(int, np.argwhere(bad)[0])
            raise DataError(
                f"{name}[{k}] holds {int(bad.sum())} NaN or infinite values (first at step {step}, channel "
                f"{channel}); expected finite numbers"
            )
        sequences.append(array)
    return sequences


def pad_sequences(sequences: list[np.ndarray], dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """(N, T_max, C) array with zeros after each sequence's end, and the lengths (N,) as int64."""
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    padded = np.zeros((len(sequences), int(lengths.max()), *sequences[0].shape[1:]), dtype=dtype)
    for n, sequence in enumerate(sequences):
        padded[n, : len(sequence)] = sequence
    return padded, lengths


def resample(sequences: list[np.ndarray], length: int) -> np.ndarray:
    """Each (T_i, C) sequence linearly interpolated to ``length`` steps: (N, length, C). For distance baselines."""
    out = np.empty((len(sequences), length, sequences[0].shape[1]))
    grid = np.linspace(0.0, 1.0, length)
    for n, sequence in enumerate(sequences):
        steps = np.linspace(0.0, 1.0, len(sequence)) if len(sequence) > 1 else np.zeros(1)
        for c in range(sequence.shape[1]):
            out[n, :, c] = np.interp(grid, steps, sequence[:, c])
    return out


@dataclass
class LabelledSequences:
    """Cases read from one file: a list of (T_i, C) arrays, their labels (strings; None for a file without
    labels), the declared class order."""

    sequences: list[np.ndarray]
    labels: np.ndarray | None
    class_labels: list[str]


def read_ts(path: str | Path) -> LabelledSequences:
    """A sktime/aeon ``.ts`` file with class labels (see ``parse_ts``); a DataError for a missing, empty,
    non-UTF-8 or malformed file."""
    path = check_input_file(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    return parse_ts(text, str(path))


def parse_ts(text: str, source: str) -> LabelledSequences:
    """The cases of a ``.ts`` text.

    ``#`` lines are comments, ``@`` lines the header (``@classLabel true a b c`` gives the class order),
    and each line after ``@data`` is a case: dimensions separated by ``:``, the values of one dimension by
    ``,``, the label after the last ``:`` (no label where the header says ``@classLabel false``). Every
    problem is a DataError naming ``source`` and the line.
    """
    if not text.strip():
        raise DataError(f"{source}: the file is empty; expected a .ts file with an @data section")
    class_labels: list[str] = []
    sequences, labels, in_data, labelled = [], [], False, True
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            if not line.startswith("@"):
                raise DataError(f"{source}, line {number}: expected a header line starting with @, got {line[:40]!r}")
            words = line.split()
            if words[0].lower() == "@classlabel":
                labelled = len(words) > 1 and words[1].lower() == "true"
                class_labels = words[2:]
            in_data = words[0].lower() == "@data"
            continue
        *dimensions, label = line.split(":") if labelled else [*line.split(":"), ""]
        if not dimensions or (labelled and not label.strip()):
            raise DataError(f"{source}, line {number}: expected values, ':' and a label, got {line[:40]!r}")
        try:
            columns = [np.array(d.split(","), dtype=np.float64) for d in dimensions]
        except ValueError as error:
            raise DataError(f"{source}, line {number}: {error}; expected comma-separated numbers") from None
        if len({len(c) for c in columns}) != 1:
            raise DataError(
                f"{source}, line {number}: the dimensions have {[len(c) for c in columns]} values; expected the "
                "same length in every dimension of a case"
            )
        sequences.append(np.stack(columns, axis=1))  # (T, C): a step is one column across the dimension blocks
        labels.append(label.strip())
    if not in_data:
        raise DataError(f"{source}: no @data line; expected a .ts file (header lines, then @data and the cases)")
    if not sequences:
        raise DataError(f"{source}: no cases after @data")
    sequences = as_sequences(sequences, name=f"{source} case")
    if not labelled:
        return LabelledSequences(sequences, None, [])
    return LabelledSequences(sequences, np.array(labels), class_labels or sorted(set(labels)))


def stack_frames(sequence: np.ndarray, frame_size: int) -> np.ndarray:
    """(T, C) -> (ceil(T / k), k * C): each k consecutive steps become one step (zeros complete the last frame).

    Frame stacking, as speech recognizers feed several acoustic frames at once: the recurrence runs k times
    fewer steps, so long, finely sampled series are easier to learn from.
    """
    if frame_size == 1:
        return sequence
    T, C = sequence.shape
    steps = -(-T // frame_size)
    padded = np.zeros((steps * frame_size, C), dtype=sequence.dtype)
    padded[:T] = sequence
    return padded.reshape(steps, frame_size * C)


def concatenated_streams(
    recordings: LabelledSequences, streams: int, per_stream: int, seed: int = 0
) -> tuple[list[np.ndarray], list[list[str]]]:
    """A per-step labelling task derived from a classification set (the guides' framewise example on real
    signals): each of ``streams`` streams concatenates ``per_stream`` recordings drawn without replacement
    (seeded: the same ``seed`` gives the same streams), and every step is labelled with its recording's class.

    Returns the streams (T_i, C) and their per-step labels (strings). Recordings never repeat within a stream;
    a recording may appear in several streams once the set is used up.
    """
    if streams < 1 or not 1 <= per_stream <= len(recordings.sequences):
        raise DataError(
            f"expected streams >= 1 and per_stream in [1, {len(recordings.sequences)}], got {streams}, {per_stream}"
        )
    rng = np.random.default_rng(seed)
    X, y = [], []
    for _ in range(streams):
        chosen = rng.choice(len(recordings.sequences), per_stream, replace=False)
        X.append(np.concatenate([recordings.sequences[k] for k in chosen]))
        y.append([str(recordings.labels[k]) for k in chosen for _ in range(len(recordings.sequences[k]))])
    return X, y
