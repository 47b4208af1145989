"""Sentence pairs for translation: reading tab-separated pairs, normalizing text, and a split by source sentence.

The pair files are manythings.org's Anki exports of Tatoeba (``English<TAB>French``, newer releases add a third
attribution column, which is ignored). One English sentence often has several French translations on consecutive
lines; ``split_by_source`` keeps all of them on one side of the split, so a test sentence is never seen in training
under another translation, and scores each test sentence against all of its references.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lstmkit.checks import check_integer
from lstmkit.errors import DataError, ParameterError

# U+00A0 NO-BREAK SPACE and U+202F NARROW NO-BREAK SPACE (French spacing before ? ! : ;), U+2019 RIGHT SINGLE
# QUOTATION MARK (a typographic apostrophe): mapped to a space and to "'" so that one word is always one token.
_SPACES = re.compile("[\u00a0\u202f]")
_TOKENS = re.compile(r"[\w']+|[^\w\s]")


def normalize(text: str) -> str:
    """One spelling for what Tatoeba writes several ways: non-breaking spaces -> " ", "’" -> "'", runs of spaces
    collapsed, ends stripped."""
    return " ".join(_SPACES.sub(" ", text).replace("\u2019", "'").split())


def translation_tokens(text: str) -> list[str]:
    """Normalized, lower-cased words and punctuation marks: ``"Qu'est-ce ?"`` -> ``["qu'est", "-", "ce", "?"]``."""
    return _TOKENS.findall(normalize(text).lower())


def detokenize(tokens: Sequence[str]) -> str:
    """Tokens -> text: joined by spaces, then hyphens between words glued back (``est - ce`` -> ``est-ce``) and
    the space before ``.``, ``,`` and ``)`` and after ``(`` removed; the space French writes before ``? ! : ;``
    is kept (``tom est là .`` -> ``tom est là.``, ``va !`` stays); decimals are glued (``3 . 5`` -> ``3.5``)."""
    text = re.sub(r"(?<=\w) - (?=\w)", "-", " ".join(tokens))
    text = re.sub(r"(?<=\d) ([.,]) (?=\d)", r"\1", text)  # 3 . 5 -> 3.5
    return re.sub(r"\( ", "(", re.sub(r" (?=[.,)])", "", text))


def parse_pairs(text: str, source: str) -> list[tuple[str, str]]:
    """``(source sentence, target sentence)`` from tab-separated lines (columns after the second are ignored).

    A DataError names the first line that has fewer than two columns or an empty sentence; blank lines are skipped.
    """
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 2:
            raise DataError(
                f"{source}, line {number}: expected 'source<TAB>target' (two tab-separated columns), got "
                f"{len(fields)} column: {line[:60]!r}"
            )
        first, second = normalize(fields[0]), normalize(fields[1])
        if not first or not second:
            raise DataError(f"{source}, line {number}: an empty sentence; expected text in both columns")
        pairs.append((first, second))
    if not pairs:
        raise DataError(f"{source}: no sentence pairs; expected lines 'source<TAB>target'")
    return pairs


def read_pairs(path: str | Path) -> list[tuple[str, str]]:
    """The pairs of a UTF-8 file of ``source<TAB>target`` lines (see ``parse_pairs``)."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: a folder; expected a text file of sentence pairs") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text; expected lines 'source<TAB>target'") from None
    if "\x00" in text:
        raise DataError(f"{path}: binary data (NUL bytes); expected lines 'source<TAB>target'")
    return parse_pairs(text, str(path))


@dataclass(frozen=True)
class PairSplits:
    """Train and validation pairs, and the test part as (source, [every reference]) grouped by source sentence."""

    train: list[tuple[str, str]]
    val: list[tuple[str, str]]
    test: list[tuple[str, list[str]]]

    @property
    def test_sources(self) -> list[str]:
        return [source for source, _ in self.test]

    @property
    def test_references(self) -> list[list[str]]:
        return [references for _, references in self.test]


def group_by_source(pairs: Sequence[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """Each distinct source sentence (first-seen order) with all of its targets (file order)."""
    groups: dict[str, list[str]] = {}
    for source, target in pairs:
        groups.setdefault(source, []).append(target)
    return list(groups.items())


def split_by_source(
    pairs: Sequence[tuple[str, str]], test_sources: int = 1000, val_sources: int = 1000, seed: int = 0
) -> PairSplits:
    """A seeded split by distinct source sentence: ``test_sources`` and ``val_sources`` of them drawn at random
    (NumPy ``default_rng(seed)`` permutation of the distinct sources in first-seen order), every pair of a drawn
    source on its side; the rest is training."""
    check_integer("test_sources", test_sources, 1)
    check_integer("val_sources", val_sources, 0)
    groups = group_by_source(pairs)
    if test_sources + val_sources >= len(groups):
        raise ParameterError(
            f"expected test_sources + val_sources below the {len(groups)} distinct source sentences, got "
            f"{test_sources} + {val_sources}"
        )
    order = np.random.default_rng(seed).permutation(len(groups))
    test = [groups[k] for k in sorted(order[:test_sources])]
    val = [groups[k] for k in sorted(order[test_sources : test_sources + val_sources])]
    train = [groups[k] for k in sorted(order[test_sources + val_sources :])]

    def flat(part):
        return [(source, target) for source, targets in part for target in targets]

    return PairSplits(flat(train), flat(val), test)
