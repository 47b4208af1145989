"""The generation corpora: the embedded copies equal ../shared's files, the folder loaders read the same, and bad
text and piano-roll files are refused with the reason."""

from __future__ import annotations

import io
import shutil

import numpy as np
import pytest
from scipy.io import savemat

from lstmkit.data.datasets import load_jsb_chorales, load_tiny_shakespeare, parse_piano_rolls
from lstmkit.data.text import read_text
from lstmkit.errors import DataError
from tests.shared_data import shared


def test_embedded_tiny_shakespeare_is_the_corpus(tmp_path):
    text = load_tiny_shakespeare()
    assert text == shared("tinyshakespeare", "input.txt").read_text(encoding="utf-8")
    assert len(text) == 1_115_394 and len(set(text)) == 65
    shutil.copy(shared("tinyshakespeare", "input.txt"), tmp_path / "input.txt")
    assert load_tiny_shakespeare(folder=tmp_path) == text
    with pytest.raises(DataError, match="missing input.txt; download it from https://raw.githubusercontent"):
        load_tiny_shakespeare(folder=tmp_path / "nowhere")


def test_embedded_chorales_are_the_mat_file(tmp_path):
    embedded = load_jsb_chorales()
    shutil.copy(shared("jsb_chorales", "JSB_Chorales.mat"), tmp_path / "JSB_Chorales.mat")
    from_folder = load_jsb_chorales(folder=tmp_path)
    for split in ("train", "valid", "test"):
        a, b = getattr(embedded, split), getattr(from_folder, split)
        assert len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    used = np.flatnonzero(np.concatenate(embedded.train + embedded.valid + embedded.test).any(axis=0))
    assert (used.min() + 21, used.max() + 21) == (43, 96)  # G2 to C7, as the corpus's README counts
    with pytest.raises(DataError, match="missing JSB_Chorales.mat"):
        load_jsb_chorales(folder=tmp_path / "nowhere")


def mat(**variables) -> bytes:
    buffer = io.BytesIO()
    savemat(buffer, variables)
    return buffer.getvalue()


def test_bad_piano_roll_files_are_refused():
    roll = np.zeros((4, 88), dtype=np.uint8)
    rolls = np.empty((1, 1), dtype=object)
    rolls[0, 0] = roll
    good = parse_piano_rolls(mat(traindata=rolls, validdata=rolls, testdata=rolls), "good.mat")
    assert np.array_equal(good.test[0], roll)
    with pytest.raises(DataError, match="no 'validdata' variable"):
        parse_piano_rolls(mat(traindata=rolls, testdata=rolls), "two.mat")
    narrow = np.empty((1, 1), dtype=object)
    narrow[0, 0] = np.zeros((4, 12))
    with pytest.raises(DataError, match=r"traindata\[0\] has shape \(4, 12\)"):
        parse_piano_rolls(mat(traindata=narrow, validdata=rolls, testdata=rolls), "narrow.mat")
    with pytest.raises(DataError, match="not a MATLAB file of piano rolls"):
        parse_piano_rolls(b"just text", "text.mat")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"  \n\t\n", "the file is empty"),
        (b"ROMEO\x00", "binary data"),
        ("Ça".encode("latin-1"), "not UTF-8 text"),
    ],
)
def test_read_text_refuses_what_is_not_text(tmp_path, content, message):
    path = tmp_path / "play.txt"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_text(path)


def test_read_text_reads_utf8(tmp_path):
    path = tmp_path / "play.txt"
    path.write_text("Ça va?\n", encoding="utf-8")
    assert read_text(path) == "Ça va?\n"
    with pytest.raises(DataError, match="no such file"):
        read_text(tmp_path / "missing.txt")
