"""Vocabulary: tokens <-> integer ids with the special tokens every text task needs.

Ids 0-3 are always PAD (padding, ignored by losses and masks), UNK (any token not kept), BOS and EOS
(sequence start and end, for decoders). Tokens are kept if they occur at least ``min_freq`` times,
most frequent first (ties in first-seen order), up to ``max_size`` ids in all.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence

from lstmkit.errors import DataError, ParameterError

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = (PAD, UNK, BOS, EOS)


class Vocabulary:
    """``encode(tokens) -> ids`` and ``decode(ids) -> tokens``; ``len`` counts the special tokens too."""

    pad_id, unk_id, bos_id, eos_id = 0, 1, 2, 3

    def __init__(self, tokens: Sequence[str] = ()):
        self.itos = list(SPECIALS) + [t for t in tokens if t not in SPECIALS]
        self.stoi = {token: i for i, token in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            raise DataError("a vocabulary's tokens must be unique")

    @classmethod
    def build(cls, texts: Iterable[Sequence[str]], min_freq: int = 1, max_size: int | None = None) -> Vocabulary:
        """From tokenized texts: the tokens seen at least ``min_freq`` times, most frequent first."""
        if isinstance(min_freq, bool) or not isinstance(min_freq, int) or min_freq < 1:
            raise ParameterError(f"expected min_freq to be an integer >= 1, got {min_freq!r}")
        if max_size is not None and (isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 5):
            raise ParameterError(
                f"expected max_size to be an integer >= 5 (4 special tokens + 1) or None, got {max_size!r}"
            )
        counts = Counter(token for text in texts for token in text)
        kept = [token for token, count in counts.most_common() if count >= min_freq and token not in SPECIALS]
        if max_size is not None:
            kept = kept[: max_size - len(SPECIALS)]
        return cls(kept)

    @property
    def tokens(self) -> list[str]:
        """The kept tokens, without the special ones (what ``Vocabulary(tokens)`` rebuilds this from)."""
        return self.itos[len(SPECIALS) :]

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def encode(self, tokens: Sequence[str], bos: bool = False, eos: bool = False) -> list[int]:
        ids = [self.stoi.get(token, self.unk_id) for token in tokens]
        return [self.bos_id] * bos + ids + [self.eos_id] * eos

    def decode(self, ids: Iterable[int], strip_special: bool = True) -> list[str]:
        tokens = [self.itos[int(i)] for i in ids]
        return [t for t in tokens if t not in SPECIALS] if strip_special else tokens

    def to_json(self) -> str:
        return json.dumps({"tokens": self.tokens})

    @classmethod
    def from_json(cls, text: str) -> Vocabulary:
        try:
            payload = json.loads(text)
            tokens = payload["tokens"]
        except (json.JSONDecodeError, TypeError, KeyError) as error:
            raise DataError(f"not a saved Vocabulary: expected JSON with a 'tokens' list ({error})") from None
        if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
            raise DataError("not a saved Vocabulary: 'tokens' must be a list of strings")
        return cls(tokens)

    def __eq__(self, other) -> bool:
        return isinstance(other, Vocabulary) and self.itos == other.itos

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} tokens)"
