"""Reading .ts files and the sentiment sentences exactly as their READMEs count them; padding, frames, splits,
vocabularies and the download code."""

from __future__ import annotations

import gzip
import hashlib
import zipfile
from collections import Counter

import numpy as np
import pytest

from lstmkit.data import datasets
from lstmkit.data.datasets import load_sentiment, load_sequence_dataset, load_uea, read_sentiment
from lstmkit.data.scaling import ChannelStandardizer
from lstmkit.data.sequences import as_sequences, pad_sequences, parse_ts, read_ts, resample, stack_frames
from lstmkit.data.splits import chronological_split, stratified_split
from lstmkit.data.tokenize import char_tokens, word_tokens
from lstmkit.data.vocab import Vocabulary
from lstmkit.errors import DataError, ParameterError
from tests.shared_data import shared


def test_japanese_vowels_as_its_readme_counts_it():
    data = load_uea("japanese_vowels", shared("japanese_vowels"), download=False)
    train, test = data.train, data.test
    assert len(train.sequences) == 270 and len(test.sequences) == 370
    assert {s.shape[1] for s in train.sequences + test.sequences} == {12}
    assert min(map(len, train.sequences)) == 7 and max(map(len, train.sequences)) == 26
    assert max(map(len, test.sequences)) == 29
    assert sum(map(len, train.sequences)) == 4274 and sum(map(len, test.sequences)) == 5687
    counts = Counter(test.labels.tolist())
    assert [counts[str(k)] for k in range(1, 10)] == [31, 35, 88, 44, 29, 24, 40, 50, 29]
    assert train.class_labels == [str(k) for k in range(1, 10)]
    assert np.min([s.min() for s in train.sequences]) == pytest.approx(-1.852765)
    assert np.max([s.max() for s in train.sequences]) == pytest.approx(2.203141)


def test_dimension_major_layout_and_upper_case_exponents():
    cases = parse_ts("@problemName x\n@classLabel true a b\n@data\n1,2,-8.3E-4:4,5,6:b\n7:8:a\n", "inline")
    np.testing.assert_array_equal(cases.sequences[0], [[1, 4], [2, 5], [-8.3e-4, 6]])  # (T, C): steps are rows
    assert cases.labels.tolist() == ["b", "a"] and cases.class_labels == ["a", "b"]


def test_basic_motions_and_gunpoint():
    motions = load_uea("basic_motions", shared("basic_motions"), download=False)
    assert [len(motions.train.sequences), len(motions.test.sequences)] == [40, 40]
    assert {s.shape for s in motions.train.sequences} == {(100, 6)}
    assert motions.train.class_labels == ["Standing", "Running", "Walking", "Badminton"]
    assert Counter(motions.test.labels.tolist()) == dict.fromkeys(motions.train.class_labels, 10)
    gun = load_uea("gunpoint", shared("gunpoint"), download=False)
    assert [len(gun.train.sequences), len(gun.test.sequences)] == [50, 150]
    assert {s.shape for s in gun.test.sequences} == {(150, 1)}
    assert Counter(gun.train.labels.tolist()) == {"1": 24, "2": 26}
    assert np.std(gun.train.sequences[0], ddof=1) == pytest.approx(1.0, abs=1e-6)  # z-normalized per series


def test_embedded_files_are_the_original_ones():
    expected = {
        "JapaneseVowels_TRAIN.ts": "68a430eabd919cc77f40b1f5f3bc0dcafacc1486bca9260785aeb7d262cc78cd",
        "BasicMotions_TEST.ts": "79213102bc6fca1a398ad98ce1185dff0208fa3d1465e687f48288946b0ff8dc",
    }
    from importlib import resources

    for name, sha in expected.items():
        raw = gzip.decompress(resources.files("lstmkit.data").joinpath("embedded", f"{name}.gz").read_bytes())
        assert hashlib.sha256(raw).hexdigest() == sha
    embedded = load_sequence_dataset("japanese_vowels")
    local = load_uea("japanese_vowels", shared("japanese_vowels"), download=False)
    for a, b in zip(embedded.test.sequences, local.test.sequences, strict=True):
        np.testing.assert_array_equal(a, b)


def test_sentiment_files_keep_every_line():
    folder = shared("sentiment_sentences")
    for source in ("amazon", "imdb", "yelp"):
        texts, labels = load_sentiment(source, folder, download=False)
        assert len(texts) == 1000 and Counter(labels.tolist()) == {0: 500, 1: 500}
        assert all(t == t.strip() and t for t in texts)
    imdb, _ = read_sentiment(folder / "imdb_labelled.txt")
    assert sum("\x85" in t for t in imdb) == 2  # U+0085 stays inside its sentence, not a line break
    assert any(t.endswith('faux "masterpieces.') for t in imdb)  # an unbalanced quote does not swallow lines


def test_download_code_fetches_and_extracts_the_archive(tmp_path, monkeypatch):
    archive = tmp_path / "upstream.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("sentiment labelled sentences/yelp_labelled.txt", "Great food.\t1\nAwful.\t0\n")
        zipped.writestr("sentiment labelled sentences/amazon_cells_labelled.txt", "Good.\t1\n")
        zipped.writestr("sentiment labelled sentences/imdb_labelled.txt", "Bad.\t0\n")
    monkeypatch.setattr(datasets, "SENTIMENT_URL", archive.as_uri())
    texts, labels = load_sentiment("yelp", tmp_path / "cache")
    assert texts == ["Great food.", "Awful."] and labels.tolist() == [1, 0]
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [
        "amazon_cells_labelled.txt",
        "imdb_labelled.txt",
        "yelp_labelled.txt",
    ]
    with pytest.raises(DataError, match="missing GunPoint_TRAIN.ts, GunPoint_TEST.ts; download them from https://"):
        load_uea("gunpoint", tmp_path / "empty", download=False)
    monkeypatch.setattr(datasets, "UEA_URL", (tmp_path / "nothing-{name}.zip").as_uri())
    with pytest.raises(DataError, match="cannot download"):
        load_uea("gunpoint", tmp_path / "empty")
    assert not (tmp_path / "empty").exists() or not any((tmp_path / "empty").iterdir())


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "the file is empty"),
        ("@data\n", "no cases after @data"),
        ("1,2:a\n", "expected a header line"),
        ("@data\n1,2:3:a\n", r"the dimensions have \[2, 1\] values"),
        ("@data\n1,x:a\n", "expected comma-separated numbers"),
        ("@data\n1,nan:a\n", "NaN or infinite"),
        ("@data\n1,2:a\n1,2:3,4:b\n", "has 2 channels but .* has 1"),
        ("@problemName x\n", "no @data line"),
    ],
)
def test_bad_ts_files_name_the_problem(text, message):
    with pytest.raises(DataError, match=message):
        parse_ts(text, "bad.ts")


def test_unlabelled_ts_and_unreadable_files(tmp_path):
    cases = parse_ts("@classLabel false\n@data\n1,2,3\n4,5\n", "x.ts")
    assert cases.labels is None and [len(s) for s in cases.sequences] == [3, 2]
    (tmp_path / "latin1.ts").write_bytes("@data\n1:caf\xe9\n".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8"):
        read_ts(tmp_path / "latin1.ts")
    with pytest.raises(DataError, match="a folder, not a data file"):
        read_ts(tmp_path)


def test_padding_frames_and_resampling():
    sequences = as_sequences([np.arange(6.0).reshape(3, 2), np.ones((1, 2))])
    padded, lengths = pad_sequences(sequences)
    assert padded.shape == (2, 3, 2) and lengths.tolist() == [3, 1]
    np.testing.assert_array_equal(padded[1], [[1, 1], [0, 0], [0, 0]])
    np.testing.assert_array_equal(stack_frames(np.arange(5.0)[:, None], 2), [[0, 1], [2, 3], [4, 0]])
    np.testing.assert_allclose(resample([np.array([[0.0], [2.0]])], 3)[0, :, 0], [0, 1, 2])
    with pytest.raises(DataError, match=r"X\[1\] has 3 channels but X\[0\] has 2"):
        as_sequences([np.ones((2, 2)), np.ones((2, 3))])
    with pytest.raises(DataError, match=r"X\[0\]: expected a \(T, C\) array with T >= 1"):
        as_sequences([np.ones((0, 2))])


def test_standardizer_uses_every_step_of_the_training_sequences():
    train = [np.array([[1.0, 5.0], [3.0, 5.0]]), np.array([[5.0, 5.0]])]
    scaler = ChannelStandardizer.fit(train)
    assert scaler.mean == [3.0, 5.0] and scaler.std == pytest.approx([np.std([1, 3, 5]), 1.0])
    np.testing.assert_allclose(scaler.transform([np.array([[3.0, 6.0]])])[0], [[0.0, 1.0]])


def test_stratified_and_chronological_splits():
    labels = np.array(["a"] * 30 + ["b"] * 10)
    train, test = stratified_split(labels, 0.2, seed=1)
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(40))
    assert Counter(labels[test].tolist()) == {"a": 6, "b": 2}
    assert (train.tolist(), test.tolist()) == tuple(x.tolist() for x in stratified_split(labels, 0.2, seed=1))
    with pytest.raises(DataError, match="class 'c' has 1 case"):
        stratified_split(np.array(["a", "a", "b", "b", "c"]), 0.5)
    with pytest.raises(DataError, match="only"):
        stratified_split(np.array(["a", "a"]), 0.5)
    with pytest.raises(ParameterError, match=r"expected test_size in \(0, 1\)"):
        stratified_split(labels, 1.5)
    assert [p.tolist() for p in chronological_split(5, 0.4)] == [[0, 1, 2], [3, 4]]


def test_vocabulary_and_tokenizers():
    assert word_tokens("Great phone!! It's fine.") == ["great", "phone", "!", "!", "it's", "fine", "."]
    assert char_tokens("ab ") == ["a", "b", " "]
    vocab = Vocabulary.build([["b", "a", "b"], ["c", "b", "a"], ["d"]], min_freq=2)
    assert vocab.itos == ["<pad>", "<unk>", "<bos>", "<eos>", "b", "a"]
    assert vocab.encode(["a", "zzz"], bos=True, eos=True) == [2, 5, 1, 3]
    assert vocab.decode([2, 5, 1, 3, 0]) == ["a"]
    assert Vocabulary.from_json(vocab.to_json()) == vocab
    assert len(Vocabulary.build([list("aabbbc")], max_size=5)) == 5  # 4 specials + the most frequent token
    with pytest.raises(ParameterError, match="min_freq"):
        Vocabulary.build([], min_freq=0)
    with pytest.raises(DataError, match="not a saved Vocabulary"):
        Vocabulary.from_json("[1, 2]")
