"""Sentence pairs: the embedded Tatoeba copy, normalization, the reader's errors, the split by source sentence."""

from __future__ import annotations

import gzip
from importlib import resources

import pytest

from lstmkit.data.datasets import load_translation_pairs
from lstmkit.data.translation import (
    detokenize,
    group_by_source,
    normalize,
    parse_pairs,
    read_pairs,
    split_by_source,
    translation_tokens,
)
from lstmkit.errors import DataError, ParameterError
from tests.shared_data import shared


def test_the_embedded_pairs_are_the_shared_subset_byte_for_byte():
    raw = resources.files("lstmkit.data").joinpath("embedded", "fra.txt.gz").read_bytes()
    assert gzip.decompress(raw) == shared("translation_en_fr", "fra.txt").read_bytes()
    pairs = load_translation_pairs()
    assert pairs == read_pairs(shared("translation_en_fr", "fra.txt"))
    assert len(pairs) == 30_000 and len(group_by_source(pairs)) == 18_828  # the counts its README gives
    assert pairs[0] == ("Go.", "Va !") and pairs[-1] == ("Sing a song with me.", "Chantez une chanson avec moi.")


def test_normalization_unifies_the_spaces_and_apostrophes_tatoeba_mixes():
    assert normalize("Cours\u202f!") == normalize("Cours\u00a0!") == normalize("Cours  !") == "Cours !"
    assert normalize("J\u2019ai faim. ") == "J'ai faim."
    pairs = load_translation_pairs()
    assert not any(ch in text for pair in pairs for text in pair for ch in "\u00a0\u202f\u2019")
    assert translation_tokens("Qu'est-ce que c'est\u202f?") == ["qu'est", "-", "ce", "que", "c'est", "?"]


def test_detokenized_tokens_score_as_the_references_themselves():
    """Tokenizing then detokenizing the French side loses nothing sacreBLEU sees (13a tokens, lower-cased)."""
    from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

    tokenize = Tokenizer13a()
    french = [target for _, target in load_translation_pairs()]
    same = sum(tokenize(detokenize(translation_tokens(t))) == tokenize(t.lower()) for t in french)
    assert same / len(french) > 0.999
    assert detokenize(["tom", "est", "là", "."]) == "tom est là." and detokenize(["va", "!"]) == "va !"
    assert detokenize(["est", "-", "ce", "3", ".", "5", "(", "oui", ")"]) == "est-ce 3.5 (oui)"


def test_the_reader_names_the_bad_line_and_ignores_extra_columns(tmp_path):
    assert parse_pairs("Hi.\tSalut !\tCC-BY 2.0 (France) Attribution: tatoeba.org\n\n", "x") == [("Hi.", "Salut !")]
    with pytest.raises(DataError, match=r"x, line 2: expected 'source<TAB>target'.*'only one'"):
        parse_pairs("Hi.\tSalut !\nonly one\n", "x")
    with pytest.raises(DataError, match="line 1: an empty sentence"):
        parse_pairs("Hi.\t \n", "x")
    with pytest.raises(DataError, match="no sentence pairs"):
        parse_pairs("\n\n", "x")
    binary = tmp_path / "model.bin"
    binary.write_bytes(b"\x00\x01\x02\tabc\n")
    with pytest.raises(DataError, match="binary data"):
        read_pairs(binary)
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Hi.\tÇa va\n".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8"):
        read_pairs(latin)
    with pytest.raises(DataError, match="no such file"):
        read_pairs(tmp_path / "missing.txt")


def test_the_split_keeps_every_translation_of_a_source_on_one_side():
    pairs = load_translation_pairs()
    split = split_by_source(pairs, test_sources=1000, val_sources=500, seed=3)
    train, val = {s for s, _ in split.train}, {s for s, _ in split.val}
    test = set(split.test_sources)
    assert len(test) == 1000 and len(val) == 500 and not (train & val or train & test or val & test)
    assert len(split.train) + len(split.val) + sum(map(len, split.test_references)) == len(pairs)
    every = dict(group_by_source(pairs))
    assert all(references == every[source] for source, references in split.test)
    assert split_by_source(pairs, 1000, 500, seed=3) == split
    assert split_by_source(pairs, 1000, 500, seed=4).test != split.test
    with pytest.raises(ParameterError, match="below the 18828 distinct source sentences"):
        split_by_source(pairs, test_sources=18_000, val_sources=828)
