"""Plain text for language models: reading a text file, the contiguous train/validation split, parallel streams.

A language model reads one long text. Training cuts it into N parallel streams (N consecutive pieces of equal
length, read side by side, time-first (L, N)), so that the state each stream ends a chunk with is the right
state to start its next chunk with (truncated backprop through time with the state carried).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lstmkit.data.series import check_input_file
from lstmkit.errors import DataError, ParameterError


def read_text(path: str | Path, expected: str = "UTF-8 text") -> str:
    """The UTF-8 text of the file at ``path``; a DataError for a missing, binary, non-UTF-8 or blank file."""
    path = check_input_file(path)
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise DataError(f"{path}: binary data (NUL bytes); expected {expected}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start}); expected {expected}") from None
    if not text.strip():
        raise DataError(f"{path}: the file is empty; expected {expected}")
    return text


def split_text(text: str, val_fraction: float) -> tuple[str, str]:
    """(train, validation): the first ``1 - val_fraction`` of the characters and the rest, in order (a contiguous
    split, as nanoGPT splits Tiny Shakespeare: 90/10 puts the cut at character 1,003,854)."""
    if not 0.0 < val_fraction < 1.0:
        raise ParameterError(f"expected val_fraction in (0, 1), got {val_fraction!r}")
    cut = int(len(text) * (1.0 - val_fraction))
    return text[:cut], text[cut:]


def parallel_streams(ids: np.ndarray, streams: int) -> np.ndarray:
    """(L, N) time-first: ``ids`` (T,) cut into N = ``streams`` consecutive pieces of L = T // N tokens each
    (the last T - N*L tokens are dropped); column n holds ids[n*L : (n+1)*L]."""
    ids = np.asarray(ids)
    L = len(ids) // streams
    if L < 2:
        raise DataError(
            f"a text of {len(ids)} tokens is too short for {streams} parallel streams of at least 2 tokens each"
        )
    return ids[: L * streams].reshape(streams, L).T.copy()  # (N, L) -> (L, N)


def text_features(text: str) -> dict[str, np.ndarray]:
    """Per character of ``text``, the properties Karpathy, Johnson & Fei-Fei (2015) found single LSTM cells
    tracking: "inside quotes" (from an opening double quote to its closing one, both included), "inside
    parentheses" (nesting depth above 0, brackets included), "inside a word" (letters, digits, apostrophes)
    (each 0/1), and "position in line" (characters since the last line break: 0 at a line's first character).
    A feature the text never shows (no quote at all) is left out."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)  # (T,) one code point per character
    quotes = np.cumsum(codes == ord('"'))
    inside_quotes = (quotes % 2 == 1) | ((codes == ord('"')) & (quotes % 2 == 0))
    depth = np.cumsum((codes == ord("(")).astype(int) - (codes == ord(")")))
    inside_parentheses = (depth > 0) | (codes == ord(")"))
    breaks = np.flatnonzero(codes == ord("\n"))
    last_break = np.maximum.accumulate(np.where(codes == ord("\n"), np.arange(len(codes)), -1))
    position = np.arange(len(codes)) - last_break - 1
    position[breaks] = 0  # a line break itself ends its line: counted as the next line's start
    word = np.array([c.isalnum() or c == "'" for c in text])
    features = {
        "inside quotes": inside_quotes.astype(float),
        "inside parentheses": inside_parentheses.astype(float),
        "inside a word": word.astype(float),
        "position in line": position.astype(float),
    }
    return {name: values for name, values in features.items() if np.ptp(values) > 0}
