"""CoNLL files: one token per line with its tag in the last column, sentences separated by blank lines.

Columns are separated by tabs (or, in a file without tabs, by spaces); the first token line fixes the number of
columns and every other token line must have as many. A line holding only whitespace (WNUT17's training file
separates 2,394 of its sentences by a line with a single TAB) ends a sentence, as does a blank line;
``-DOCSTART-`` lines are skipped. Problems are DataErrors naming the file and the line.
"""

from __future__ import annotations

from pathlib import Path

from lstmkit.data.series import check_input_file
from lstmkit.errors import DataError


def parse_conll(text: str, source: str = "the data") -> tuple[list[list[str]], list[list[str]]]:
    """(sentences of tokens, sentences of tags) from the text of a CoNLL file."""
    sentences, tags, words, labels, width = [], [], [], [], None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            if words:
                sentences.append(words)
                tags.append(labels)
                words, labels = [], []
            continue
        if line.startswith("-DOCSTART-"):
            continue
        columns = line.split("\t") if "\t" in line else line.split()
        width = width or len(columns)
        if len(columns) != width or width < 2 or not columns[0] or not columns[-1].strip():
            raise DataError(
                f"{source}: line {number} has {len(columns)} column(s) ({line[:60]!r}); expected {max(width, 2)}: "
                "a token and its tag"
            )
        words.append(columns[0])
        labels.append(columns[-1].strip())
    if words:
        sentences.append(words)
        tags.append(labels)
    if not sentences:
        raise DataError(f"{source}: no sentences (expected token and tag columns, sentences separated by blank lines)")
    return sentences, tags


def read_conll(path: str | Path) -> tuple[list[list[str]], list[list[str]]]:
    """A CoNLL file (see the module docstring) as (sentences of tokens, sentences of tags)."""
    path = check_input_file(Path(path))
    raw = path.read_bytes()
    if b"\x00" in raw[:4096]:
        raise DataError(f"{path}: not a CoNLL file (it holds binary data)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    return parse_conll(text, str(path))
