"""The adding problem as the 1997 paper poses it: a short run (T = 30) in which the LSTM gets every held-out sum
right to the paper's 0.04 while the vanilla RNN does no better than always answering 0.5."""

from __future__ import annotations

import json

from tests.cli.helpers import run_cli


def test_the_lstm_adds_what_the_rnn_cannot_keep(tmp_path, capsys, monkeypatch):
    out = tmp_path / "adding.json"
    code, shown, err = run_cli(["experiment", "adding", "--quick", "--json", out], capsys, monkeypatch)
    assert code == 0, err
    result = json.loads(out.read_text())
    trials = {t["cell"]: t for t in result["trials"]}
    tested = result["config"]["test_sequences"]
    assert result["constant_wrong"] > 0.8 * tested  # answering 0.5 is right only when |X1 + X2| < 0.16
    assert trials["lstm"]["wrong"] <= 0.02 * tested  # measured: 0 of 512
    assert trials["rnn"]["wrong"] > 0.7 * tested  # measured: 431, the constant answer's 437
    assert result["config"]["input_bias"] == -3.0 and result["paper_wrong"] is None  # T = 30: not in the paper
    assert "Adding problem" in shown
