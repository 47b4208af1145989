"""The command-line tool, run as a user would: a real subprocess, exit codes and output."""

from __future__ import annotations

import json
import subprocess
import sys


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lstmkit", *args], capture_output=True, text=True, timeout=300)


def test_cells_lists_every_kind_with_its_gates():
    result = run("cells")
    assert result.returncode == 0, result.stderr
    for kind, gates in (("lstm", "i, f, g, o"), ("gru", "r, z, n"), ("coupled", "i, g, o"), ("peephole", "i, f, g, o")):
        assert kind in result.stdout and gates in result.stdout
    assert "weight_ci_l{k}" in result.stdout


def test_long_lag_experiment_prints_and_writes_results(tmp_path):
    out = tmp_path / "results" / "long_lag.json"
    result = run(
        "experiment",
        "long-lag",
        "--task",
        "first-symbol",
        "--length",
        "20",
        "--steps",
        "150",
        "--hidden-size",
        "16",
        "--json",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert "first-symbol: T = 20, 150 steps" in result.stdout and "|dL/dh_0|" in result.stdout
    payload = json.loads(out.read_text())["first-symbol"]
    assert payload["config"]["length"] == 20 and payload["config"]["forget_bias"] == 5.0
    lstm, rnn = payload["results"]["lstm"], payload["results"]["rnn"]
    assert lstm["solved"] and lstm["value"] >= 0.95 and not rnn["solved"]
    assert len(lstm["grad_norms"]) == 20
    assert [p.name for p in out.parent.iterdir()] == ["long_lag.json"]  # no temporary file left


def test_bad_options_exit_2_with_one_clear_line_and_no_traceback(tmp_path):
    for args, message in (
        (("experiment", "long-lag", "--task", "copy"), "unknown task 'copy'"),
        (("experiment", "long-lag", "--length", "1"), "expected length >= 2, got 1"),
        (("experiment", "long-lag", "--length", "many"), "Invalid value"),
    ):
        result = run(*args, "--json", str(tmp_path / "x.json"))
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "x.json").exists()


def test_no_arguments_shows_help():
    result = run()
    assert "experiment" in result.stdout + result.stderr and "Traceback" not in result.stderr
