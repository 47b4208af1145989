"""The embedded Reber grammar: the allowed next symbols equal those of every string of the language sharing the
prefix (enumerated by brute force), and a short run of either net goes far past the best memoryless rule."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lstmkit.data.synthetic import REBER_EDGES, embedded_reber_strings, embedded_reber_successors
from lstmkit.errors import ParameterError
from lstmkit.experiments.reber import ReberConfig
from tests.cli.helpers import run_cli


def inner_strings(max_edges: int) -> list[str]:
    """Every Reber string whose walk takes at most ``max_edges`` edges, by breadth-first enumeration."""
    found, frontier = [], [("B", 1)]
    for _ in range(max_edges):
        grown = []
        for prefix, node in frontier:
            for symbol, target in REBER_EDGES[node]:
                (found if target == 6 else grown).append((prefix + symbol, target))
        frontier = grown
    return [prefix + "E" for prefix, _ in found]


def test_successors_are_those_of_the_language():
    language = ["B" + b + inner + b + "E" for inner in inner_strings(9) for b in "TP"]
    assert "BTBTXSETE" in language and "BPBPVVEPE" in language
    rng = np.random.default_rng(0)
    for string in embedded_reber_strings(200, rng):
        if len(string) > 14:  # the enumeration holds every string of up to 9 inner edges
            continue
        assert string in language
        for k, allowed in enumerate(embedded_reber_successors(string)):
            prefix = string[: k + 1]
            # strings longer than the enumeration can continue short prefixes too: compare on the short ones
            expected = {s[k + 1] for s in language if s.startswith(prefix) and len(s) > k + 1}
            if k + 1 < 9:
                assert set(allowed) == expected, (string, k)
    with pytest.raises(ParameterError, match="not an embedded Reber string"):
        embedded_reber_successors("BTBTXSEPE")  # the branch symbols differ


def test_a_short_run_beats_the_best_memoryless_rule(tmp_path, capsys, monkeypatch):
    out = tmp_path / "reber.json"
    code, shown, err = run_cli(["experiment", "reber", "--quick", "--json", out], capsys, monkeypatch)
    assert code == 0, err
    result = json.loads(out.read_text())
    assert 0.45 < result["memoryless_step_accuracy"] < 0.65
    assert [t["cell"] for t in result["trials"]] == ["lstm", "rnn"]
    for trial in result["trials"]:  # both nets learn the grammar's local rules: far past any memoryless rule
        assert trial["step_accuracy"] > result["memoryless_step_accuracy"] + 0.3
    assert "Embedded Reber grammar" in shown and "of 1" in shown
    with pytest.raises(ParameterError, match="expected epochs >= 1"):
        ReberConfig(epochs=0)
