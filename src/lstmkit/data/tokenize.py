"""Tokenizers shared by every text task: words (lower-cased, punctuation split off) and characters."""

from __future__ import annotations

import re

from lstmkit.errors import ParameterError

WORD = re.compile(r"[\w']+|[^\w\s]")
TOKENIZERS = ("word", "char")


def word_tokens(text: str) -> list[str]:
    """Lower-cased words and punctuation marks: ``"Great phone!"`` -> ``["great", "phone", "!"]``."""
    return WORD.findall(text.lower())


def char_tokens(text: str) -> list[str]:
    """Every character, as written."""
    return list(text)


def tokenizer(kind: str):
    """The tokenizer called ``kind`` ("word" or "char")."""
    if kind not in TOKENIZERS:
        raise ParameterError(f"unknown tokenizer {kind!r}; expected one of {TOKENIZERS}")
    return word_tokens if kind == "word" else char_tokens
