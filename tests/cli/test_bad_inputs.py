"""Every command against bad and odd inputs: exit code 2, one line that says what was expected and what came,
no traceback, and nothing written, changed or deleted (the whole working folder is compared before and after)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lstmkit.data import load_dataset
from tests.cli.helpers import run_cli

SMALL = ["--horizon", "3", "--lookback", "6", "--folds", "1", "--epochs", "2", "--ensemble", "1"]


def write(path: Path, content: str | bytes) -> Path:
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def airline_csv() -> str:
    series = load_dataset("airline")
    return "date,value\n" + "".join(f"{t:%Y-%m-%d},{v}\n" for t, v in series.items())


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A finished forecast run and a finished classify run to point commands at (made once)."""
    import sys

    folder = tmp_path_factory.mktemp("runs")
    for args in (
        ["forecast", *SMALL, "--out", folder / "forecast"],
        ["classify", "--epochs", "1", "--out", folder / "classify"],
    ):
        sys.argv = ["lstmkit", *map(str, args)]
        from lstmkit.cli import main

        try:
            main()
        except SystemExit as done:
            assert not done.code
    return folder


def snapshot(root: Path) -> dict:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*"))}


def cases(d: Path, runs: Path) -> list[tuple[list, str]]:
    """(arguments, a fragment of the one-line message). ``d`` holds the inputs; ``runs`` the finished runs."""
    g = airline_csv()
    lines = g.splitlines()
    f = runs / "forecast"
    c = runs / "classify"
    ts = write(
        d / "cases.ts", "@classLabel true a b\n@data\n" + "".join(f"{k},{k + 1}:{'ab'[k % 2]}\n" for k in range(8))
    )
    bad_run = {}
    for name, content in {
        "invalid": "{",
        "list": "[]",
        "other": json.dumps({"command": "classify", "settings": {}}),
        "missing": json.dumps({"command": "forecast", "settings": {"data": "embedded:airline"}}),
        "types": json.dumps(
            {
                "command": "forecast",
                "settings": json.loads((f / "run.json").read_text())["settings"] | {"horizon": "abc"},
            }
        ),
    }.items():
        (d / f"run-{name}").mkdir()
        write(d / f"run-{name}" / "run.json", content)
        bad_run[name] = d / f"run-{name}"
    bad_models = {}
    for name, change in {
        "state-invalid": lambda s: "{",
        "no-fitted": lambda s: s.replace('"fitted"', '"unfitted"'),
        "unknown-param": lambda s: s.replace('"horizon": 3', '"horizon": 3, "colour": 1'),
        "bogus-freq": lambda s: s.replace('"step": "MS"', '"step": "bogus"'),
        "kind": lambda s: s.replace('"kind": "Forecaster"', '"kind": "Teapot"'),
        "version": lambda s: s.replace('"format_version": 1', '"format_version": 99'),
        "no-tail": lambda s: s.replace('"tail"', '"tale"'),
        "two-names": lambda s: s.replace('"columns": [\n    "passengers"\n   ]', '"columns": ["a", "b"]'),
        "null-state": lambda s: s.replace('"state": {', '"state": null, "was": {'),
    }.items():
        shutil.copytree(f / "model", d / name)
        state = (d / name / "state.json").read_text()
        changed = change(state)
        assert changed != state, name
        write(d / name / "state.json", changed)
        bad_models[name] = d / name
    shutil.copytree(f / "model", d / "tampered")
    write(d / "tampered" / "tensors.safetensors", (d / "tampered" / "tensors.safetensors").read_bytes()[:-8])
    short = write(d / "short.csv", "\n".join(lines[:5]) + "\n")
    two = write(d / "two.csv", "date,value,x\n" + "".join(f"{r},1\n" for r in lines[1:]))
    existing = write(d / "existing.csv", "keep me\n")
    full = write(d / "full.csv", g)
    (d / "nonempty").mkdir()
    write(d / "nonempty" / "mine.txt", "mine")
    forecast = [
        (["--data", d / "missing.csv"], "missing.csv: no such file"),
        (["--data", write(d / "empty.csv", "")], "the file is empty"),
        (["--data", write(d / "blank.csv", "\n\n  \n")], "the file is empty"),
        (["--data", write(d / "header.csv", "date,value\n")], "a header (date, value) but no data lines"),
        (["--data", write(d / "bin.csv", b"\x89PNG\r\n\x1a\n\x00\x00")], "binary data"),
        (["--data", write(d / "latin.csv", b"date,value\n2000-01-01,caf\xe9\n")], "not UTF-8"),
        (["--data", d], "a folder, not a data file"),
        (["--data", "/dev/null"], "not a regular file"),
        (["--data", ""], "expected a data file, got an empty path"),
        (["--data", write(d / "noheader.csv", "1,2\n3,4\n5,6\n")], "holds numbers, not column names"),
        (["--data", write(d / "wide.csv", ",".join(f"c{k}" for k in range(30000)) + "\n1\n")], "bytes long"),
        (["--data", full, "--target", "sales"], "target column 'sales' not found; columns are value"),
        (["--data", full, "--time", "when"], "time column 'when' not found"),
        (
            ["--data", write(d / "t.csv", g.replace("1949-02-01", "soon"))],
            "column 'date' has non-numeric values at lines 2, 3",
        ),
        (["--data", write(d / "t2.csv", g.replace("1949-02-01", "soon")), "--time", "date"], "not dates at lines 3"),
        (
            ["--data", write(d / "flt.csv", "t,y\n" + "".join(f"{k + 0.5},{k}\n" for k in range(80))), "--time", "t"],
            "not whole time steps",
        ),
        (
            [
                "--data",
                write(d / "bool.csv", "t,y\n" + "".join(f"{k % 2 == 0},{k}\n" for k in range(80))),
                "--time",
                "t",
            ],
            "True/False",
        ),
        (
            ["--data", write(d / "one.csv", "y\n" + "".join(f"{k}\n" for k in range(90))), "--time", "y"],
            "no column is left",
        ),
        (["--data", write(d / "dup.csv", g.replace("1949-02-01", "1949-01-01"))], "duplicate timestamps at lines 2, 3"),
        (["--data", write(d / "uns.csv", g.replace("1949-02-01", "1949-03-15"))], "not in increasing order"),
        (["--data", write(d / "gap.csv", "\n".join(lines[:60] + lines[61:]) + "\n")], "cannot tell the time step"),
        (["--data", write(d / "miss.csv", g.replace(",118.0\n", ",\n", 1))], "missing values at lines 3"),
        (["--data", write(d / "nonnum.csv", g.replace(",118.0\n", ",12O\n", 1))], "non-numeric values at lines 3"),
        (["--data", write(d / "inf.csv", g.replace(",118.0\n", ",inf\n", 1))], "infinite values"),
        (["--data", write(d / "ninf.csv", g.replace(",118.0\n", ",-inf\n", 1))], "infinite values"),
        (["--data", write(d / "huge.csv", "y\n" + "1e300\n-1e300\n" * 40)], "too large to difference"),
        (
            [
                "--data",
                write(
                    d / "comma.csv",
                    "date,value\n"
                    + "".join(f"{r.split(',')[0]},{r.split(',')[1].replace('.', ',')}\n" for r in lines[1:]),
                ),
            ],
            "more fields than the header",
        ),
        (["--data", short], "the series has 4 rows"),
        (["--data", full, "--lookback", "200"], "lookback 200"),
        (["--data", full, "--horizon", "140"], "horizon 140"),
        (["--data", full, "--folds", "50"], "50 backtest folds"),
        (
            ["--data", full, "--lookback", "3", "--horizon", "1", "--folds", "200"],
            "200 backtest folds of horizon 1 with lookback 3",
        ),
        (["--horizon", "0"], "Invalid value for '--horizon'"),
        (["--horizon", "2.5"], "Invalid value for '--horizon'"),
        (["--lookback", "0"], "Invalid value for '--lookback'"),
        (["--epochs", "0"], "Invalid value for '--epochs'"),
        (["--epochs", "abc"], "Invalid value for '--epochs'"),
        (["--folds", "0"], "Invalid value for '--folds'"),
        (["--seed", "-1"], "Invalid value for '--seed'"),
        (["--data", two, "--covariates", "nope"], "covariate columns ['nope'] not found; columns are value, x"),
        (["--data", two, "--covariates", "x,,value"], "--covariates: expected column names separated by commas"),
        (["--data", two, "--covariates", "x", "--future", "x"], "named both as past and as future covariates"),
        (["--data", two, "--future", "value"], "'value' is the target; it cannot also be a covariate"),
        (["--data", two, "--future", "x"], "reads the future covariates ['x']: pass --future-data"),
        (["--data", two, "--future", "x", "--future-data", d / "missing.csv"], "missing.csv: no such file"),
        (["--data", two, "--future", "x", "--future-data", short], "expected at least 12 rows of the future"),
        (["--data", two, "--future-data", full], "--future-data gives the values of --future covariates"),
        (["--ensemble", "0"], "Invalid value for '--ensemble'"),
        (["--seed", "20000000000000000000"], "Invalid value for '--seed'"),
        (["--out", existing], "exists and is not a folder"),
        (["--out", existing / "run"], "is a file, not a folder"),
        (["--out", d / "nonempty"], "not empty"),
        (["--resume", d / "nowhere"], "not a run folder (no run.json)"),
        (["--resume", d / "nonempty"], "not a run folder (no run.json)"),
        (["--resume", bad_run["invalid"]], "not a readable JSON file"),
        (["--resume", bad_run["list"]], "expected a JSON dict, got list"),
        (["--resume", bad_run["other"]], "a run of 'classify', not of 'forecast'"),
        (["--resume", bad_run["missing"]], "expected the settings"),
        (["--resume", bad_run["types"]], "setting 'horizon' is 'abc'"),
        (["--resume", c], "a run of 'classify', not of 'forecast'"),
        (["--resume", f, "--epochs", "5"], "drop --epochs"),
        (["--unknown"], "No such option"),
    ]
    predict = [
        (["--model", d / "nowhere"], "missing"),
        (["--model", existing], "missing"),
        (["--model", c], "holds a SequenceClassifier model, not a forecaster"),
        (["--model", f, "--horizon", "0"], "Invalid value for '--horizon'"),
        (["--model", f, "--future-data", full], "--future-data gives the values of --future covariates"),
        (["--model", f, "--horizon", "x"], "Invalid value for '--horizon'"),
        (["--model", f, "--out", existing], "already exists"),
        (["--model", f, "--out", d], "already exists"),
        (["--model", f, "--out", existing / "f.csv"], "is a file, not a folder"),
        (["--model", bad_models["state-invalid"]], "not valid JSON"),
        (["--model", bad_models["no-fitted"]], "expected 'params' and 'fitted' objects"),
        (["--model", bad_models["unknown-param"]], "not a consistent saved Forecaster"),
        (["--model", bad_models["bogus-freq"]], "not a consistent saved Forecaster"),
        (["--model", bad_models["kind"]], "kind 'Teapot'"),
        (["--model", bad_models["version"]], "model format version 99"),
        (["--model", d / "tampered"], "do not match the checksum"),
        (["--model", bad_models["no-tail"]], "not a consistent saved Forecaster (KeyError: 'tail')"),
        (["--model", bad_models["two-names"]], "not a consistent saved Forecaster"),
        (["--model", bad_models["null-state"]], "not a saved lstmkit model"),
        ([], "Missing option '--model'"),
    ]
    inspect = [
        ([d / "nowhere", "--out", d / "i"], "not a forecasting run folder"),
        ([c, "--out", d / "i"], "holds a saved SequenceClassifier, not a Forecaster"),
        ([f, "--out", d / "i", "--units", "5:2"], "0 <= START < STOP"),
        ([f, "--out", d / "i", "--units", "40:50"], "within the 32 units"),
        ([f, "--out", d / "i", "--units", "a:b"], "expected --units as START:STOP"),
        ([f, "--out", d / "i", "--layer", "5"], "expected --layer in [-1, 1)"),
        ([f, "--out", d / "i", "--input", short], "the series has 4 rows"),
        ([f, "--out", d / "i", "--input", two], "expected the columns ['passengers']"),
        ([f, "--out", d / "i", "--input", d / "missing.csv"], "no such file"),
        ([f, "--out", d / "nonempty"], "not empty"),
        ([f, "--out", existing], "exists and is not a folder"),
        ([f], "Missing option '--out'"),
    ]
    demo = [
        (["--out", existing], "exists and is not a folder"),
        (["--out", d / "nonempty"], "not empty"),
        (["--out", existing / "x"], "is a file, not a folder"),
        (["--length", "2"], "Invalid value for '--length'"),
        (["--epochs", "0"], "Invalid value for '--epochs'"),
        (["--seed", "-1"], "Invalid value for '--seed'"),
    ]
    experiment = [
        (["--json", existing], "already exists"),
        (["--json", d], "already exists"),
        (["--json", existing / "r.json"], "is a file, not a folder"),
        (["--task", "copy"], "unknown task 'copy'"),
        (["--length", "1"], "expected length >= 2, got 1"),
        (["--seed", "-1"], "Invalid value for '--seed'"),
        (["--steps", "many"], "Invalid value for '--steps'"),
    ]
    tag = [
        (["--epochs", "0"], "Invalid value for '--epochs'"),
        (["--cell", "nope"], "cell"),
        (["--lexicons", "gazetteer"], "expected lexicon names from ['frequency', 'languages', 'names', 'places']"),
        (["--ensemble", "0"], "Invalid value for '--ensemble'"),
        (["--patience", "0"], "Invalid value for '--patience'"),
        (["--train", d / "missing.conll", "--dev", full, "--test", full], "missing.conll: no such file"),
        (["--train", full, "--dev", full, "--test", full], "line 1 has 1 column(s) ('date,value'); expected 2"),
        (["--train", write(d / "b.conll", b"\x00\x01bin"), "--dev", full, "--test", full], "binary data"),
    ]
    detect = [
        (["--data", d / "missing.csv"], "missing.csv: no such file"),
        (["--data", full, "--value", "units"], "value column 'units' not found; columns are date, value"),
        (["--data", full, "--label", "value"], "label column 'value' must hold 0 or 1"),
        (["--data", short, "--time", "date"], "4 rows; window 64 needs at least 65"),
        (["--scorer", "vae"], "unknown scorer 'vae'"),
        (["--threshold", "magic"], "unknown threshold 'magic'"),
        (["--window", "2"], "Invalid value for '--window'"),
    ]
    detect_predict = [
        (["--model", f, "--data", full], "holds a Forecaster model, not an anomaly detector"),
        (["--model", f, "--data", full, "--value", "units"], "value column 'units' not found"),
        (["--model", f, "--data", d / "missing.csv"], "missing.csv: no such file"),
        (["--model", f, "--data", full, "--out", existing], "already exists"),
    ]
    pairs = write(d / "pairs.txt", "".join(f"Sentence {k}.\tPhrase {k}.\n" for k in range(40)))
    translate = [
        (["--data", d / "missing.txt"], "missing.txt: no such file"),
        (["--data", full], "line 1: expected 'source<TAB>target'"),
        (["--data", write(d / "t.bin", b"\x00\x01\tbin\n")], "binary data"),
        (["--data", write(d / "latin.txt", "Hi.\tÇa\n".encode("latin-1"))], "not UTF-8"),
        (["--data", write(d / "blank.txt", "Hi.\t \n")], "line 1: an empty sentence"),
        (["--data", pairs], "40 distinct source sentences are too few to hold out 1000"),
        (["--hidden-size", "63"], "even hidden_size"),
        (["--cell", "nope"], "cell"),
        (["--epochs", "0"], "Invalid value for '--epochs'"),
        (["a sentence"], "is translated with --model DIR"),
        (["--model", f, "Hello."], "holds a Forecaster model, not a translation model"),
        (["--model", f], "needs a sentence"),
        (["--model", f, "Hi.", "--data", full], "not both"),
        (["--model", f, "--data", d / "missing.txt"], "missing.txt: no such file"),
        (["--model", f, "--data", write(d / "gap.txt", "Hi.\n\nBye.\n")], "line 2: an empty line"),
        (["--model", f, "--data", write(d / "none.txt", "")], "the file is empty"),
        (["--model", f, "--data", d / "t.bin"], "binary data"),
        (["--model", f, " "], "the sentence is empty"),
        (["--out", existing], "exists and is not a folder"),
    ]
    tag_predict = [
        (["--model", f, "--data", full], "holds a Forecaster model, not a tagger"),
        (["--model", c, "--data", full], "holds a SequenceClassifier model, not a tagger"),
        (["--model", f, "--data", d / "missing.txt"], "missing.txt: no such file"),
    ]
    classify_predict = [
        (["--model", c, "--data", d / "missing.ts"], "no such file"),
        (["--model", c, "--data", ts], "expected 12 channels per step, got 1"),
        (["--model", c, "--data", full], "needs --text COL"),
        (["--model", c, "--data", full, "--text", "value"], "fitted on numeric sequences"),
        (["--model", c, "--data", full, "--text", "body"], "text column 'body' not found"),
        (["--model", f, "--data", ts], "holds a Forecaster model, not a classifier"),
        (["--model", c, "--data", ts, "--out", existing], "already exists"),
    ]
    tune = [
        (["--storage", "nodb://nowhere"], "cannot open the study storage 'nodb://nowhere'"),
        (["--trials", "0"], "Invalid value for '--trials'"),
        (["--timeout", "0"], "Invalid value for '--timeout'"),
        (["--data", d / "missing.ts"], "no such file"),
        (["--data", ts, "--test-size", "0.01"], "expected at least one case of each class"),
        (["--out", existing], "exists and is not a folder"),
        (["--seed", "-1"], "Invalid value for '--seed'"),
    ]
    tune_forecast = [
        (["--horizon", "0"], "Invalid value for '--horizon'"),
        (["--ensemble", "0"], "Invalid value for '--ensemble'"),
        (["--data", d / "missing.csv"], "missing.csv: no such file"),
        (["--data", short], "the series has 4 rows"),
        (["--storage", "nodb://nowhere"], "cannot open the study storage"),
    ]
    text = write(d / "play.txt", "ROMEO:\nBut soft, what light through yonder window breaks?\n" * 20)
    generate_text = [
        (["--data", d / "missing.txt"], "missing.txt: no such file"),
        (["--data", write(d / "empty.txt", " \n\n")], "the file is empty"),
        (["--data", write(d / "play.bin", b"ROMEO\x00\x01")], "binary data"),
        (["--data", write(d / "play-latin.txt", "Ça va\n".encode("latin-1"))], "not UTF-8"),
        (["--data", text, "--prime", "JULIET"], "the prime holds characters the training text never shows: 'IJLTU'"),
        (["--data", text, "--temperature", "0"], "expected temperature in (0.0, inf), got"),
        (["--data", text, "--temperature", "-1"], "expected temperature in (0.0, inf), got"),
        (["--data", text, "--top-p", "1.5"], "expected top_p in (0.0, 1.0], got 1.5"),
        (["--data", text, "--cell", "nope"], "cell"),
        (["--data", text, "--length", "0"], "Invalid value for '--length'"),
        (["--model", f, "--prime", "a"], "holds a Forecaster model, not a text generator"),
        (["--model", c], "holds a SequenceClassifier model, not a text generator"),
        (["--model", d / "nowhere"], "nowhere"),
        (["--data", text, "--out", existing], "exists and is not a folder"),
    ]
    generate_music = [
        (["--model", f, "--out", d / "samples"], "holds a Forecaster model, not a music generator"),
        (["--temperature", "0"], "expected temperature in (0.0, inf), got"),
        (["--samples", "0"], "Invalid value for '--samples'"),
        (["--cell", "nope"], "cell"),
        (["--out", existing], "exists and is not a folder"),
    ]
    reber = [
        (["--seeds", "0,one"], "expected --seeds as comma-separated integers, got '0,one'"),
        (["--epochs", "0"], "Invalid value for '--epochs'"),
        (["--quick", "--json", existing], "already exists"),
    ]
    temporal = [
        (["--relevant", "4"], "Invalid value for '--relevant'"),
        (["--input-bias", "-"], "Invalid value for '--input-bias'"),
        (["--seeds", "1;2"], "expected --seeds as comma-separated integers, got '1;2'"),
        (["--quick", "--json", existing], "already exists"),
    ]
    adding = [
        (["--length", "21"], "Invalid value for '--length'"),
        (["--input-bias", "minus"], "Invalid value for '--input-bias'"),
        (["--seeds", ""], "expected --seeds as comma-separated integers, got ''"),
        (["--quick", "--json", existing], "already exists"),
    ]
    continual = [
        (["--epochs", "0"], "Invalid value for '--epochs'"),
        (["--quick", "--picture", existing], "already exists"),
        (["--quick", "--picture", existing / "c.png"], "is a file, not a folder"),
    ]
    first = [
        (["--length", "1"], "Invalid value for '--length'"),
        (["--quick", "--picture", existing], "already exists"),
        (["--seeds", "a"], "expected --seeds as comma-separated integers, got 'a'"),
    ]
    compare = [
        (["--tasks", "adding,poetry"], "expected tasks among adding, temporal-order, japanese-vowels, char-lm"),
        (["--variants", "lstm,transformer"], "expected variants among lstm, peephole"),
        (["--quick", "--picture", existing], "already exists"),
    ]
    return (
        [(["experiment", "reber", *a], m) for a, m in reber]
        + [(["experiment", "compare", *a], m) for a, m in compare]
        + [(["experiment", "first-symbol", *a], m) for a, m in first]
        + [(["experiment", "temporal-order", *a], m) for a, m in temporal]
        + [(["experiment", "adding", *a], m) for a, m in adding]
        + [(["experiment", "continual-reber", *a], m) for a, m in continual]
        + [(["generate", "text", *a], m) for a, m in generate_text]
        + [(["generate", "music", *a], m) for a, m in generate_music]
        + [(["forecast", *a], m) for a, m in forecast]
        + [(["tune", "classify", *a], m) for a, m in tune]
        + [(["tune", "forecast", *a], m) for a, m in tune_forecast]
        + [(["forecast", "predict", *a], m) for a, m in predict]
        + [(["inspect", *a], m) for a, m in inspect]
        + [(["demo", "gates", *a], m) for a, m in demo]
        + [(["experiment", "long-lag", *a], m) for a, m in experiment]
        + [(["classify", "predict", *a], m) for a, m in classify_predict]
        + [(["tag", *a], m) for a, m in tag]
        + [(["detect", *a], m) for a, m in detect]
        + [(["detect", "predict", *a], m) for a, m in detect_predict]
        + [(["tag", "predict", *a], m) for a, m in tag_predict]
        + [(["translate", *a], m) for a, m in translate]
    )


def test_bad_inputs_to_every_command(tmp_path, runs, capsys, monkeypatch):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    table = cases(inputs, runs)
    assert len(table) >= 100
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # default run folders would land here
    failures = []
    for args, message in table:
        before = snapshot(tmp_path), snapshot(runs)
        code, out, err = run_cli(args, capsys, monkeypatch)
        problems = []
        if code != 2:
            problems.append(f"exit {code}")
        if message not in err:
            problems.append("message")
        if "Traceback" in out + err:
            problems.append("traceback")
        if not err.startswith("Usage") and err.count("\n") != 1:
            problems.append("not one line")
        if (snapshot(tmp_path), snapshot(runs)) != before:
            problems.append("files changed")
        if problems:
            failures.append(f"{args[:3]} ... {problems}: {err.strip()[-300:]}")
    assert not failures, "\n".join(failures)
