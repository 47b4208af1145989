"""Entity spans in BIO / BIOES tag sequences, with the chunk rules of CoNLL's ``conlleval`` script.

A tag is ``O`` or PREFIX-TYPE with PREFIX one of B (begin), I (inside), E (end), S (single). A chunk ends
before a tag when the previous tag was E or S, when B or I is followed by B, S or O, or when the type changes
after any non-O tag; a chunk starts at B or S, at I or E that follow O, E or S, and at any non-O tag whose
type differs from the previous one. So ill-formed sequences still give chunks exactly as conlleval counts
them: an I- without a B- starts a chunk, and B-PER I-LOC is two chunks.
"""

from __future__ import annotations

from collections.abc import Sequence

from lstmkit.errors import DataError

PREFIXES = ("B", "I", "E", "S")


def split_tag(tag: str) -> tuple[str, str]:
    """ "B-PER" -> ("B", "PER"); "O" -> ("O", ""). The type is everything after the first hyphen."""
    if tag == "O":
        return "O", ""
    prefix, _, kind = tag.partition("-")
    return prefix, kind


def _ends(previous: str, prefix: str, previous_type: str, kind: str) -> bool:
    if previous in ("E", "S"):
        return True
    if previous in ("B", "I") and prefix in ("B", "S", "O"):
        return True
    return previous != "O" and previous_type != kind


def _starts(previous: str, prefix: str, previous_type: str, kind: str) -> bool:
    if prefix in ("B", "S"):
        return True
    if prefix in ("I", "E") and previous in ("O", "E", "S"):
        return True
    return prefix != "O" and previous_type != kind


def entities(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """The chunks of one sentence's tags as (type, first, last) token positions, last inclusive."""
    chunks, start = [], 0
    previous, previous_type = "O", ""
    for position, tag in enumerate([*tags, "O"]):
        prefix, kind = split_tag(tag)
        if _ends(previous, prefix, previous_type, kind):
            chunks.append((previous_type, start, position - 1))
        if _starts(previous, prefix, previous_type, kind):
            start = position
        previous, previous_type = prefix, kind
    return chunks


def check_scheme(sentences: Sequence[Sequence[str]], source: str = "the tags") -> None:
    """A DataError unless every tag is O or B-/I-/E-/S- followed by a type (a BIO or BIOES scheme)."""
    for number, tags in enumerate(sentences, start=1):
        for tag in tags:
            prefix, kind = split_tag(tag)
            if prefix != "O" and (prefix not in PREFIXES or not kind):
                raise DataError(
                    f"{source}: sentence {number} has the tag {tag!r}; entity scores need BIO or BIOES tags "
                    "(O, or B-, I-, E-, S- followed by a type)"
                )
