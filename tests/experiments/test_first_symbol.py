"""Remember the first symbol: a short run in which the LSTM names the first of 40 symbols on held-out sequences,
with the gradient flow of every trained net measured step by step and drawn."""

from __future__ import annotations

import json

from tests.cli.helpers import run_cli


def test_the_lstm_keeps_the_first_symbol_and_the_gradient_flow_is_measured(tmp_path, capsys, monkeypatch):
    out, picture = tmp_path / "first.json", tmp_path / "flow.png"
    args = ["experiment", "first-symbol", "--quick", "--json", out, "--picture", picture]
    code, shown, err = run_cli(args, capsys, monkeypatch)
    assert code == 0, err
    result = json.loads(out.read_text())
    trials = {t["cell"]: t for t in result["trials"]}
    assert set(trials) == {"lstm", "gru", "rnn"} and result["chance"] == 0.25
    assert trials["lstm"]["accuracy"] >= 0.95  # measured: 1.000; a net that forgets step 0 stays near 0.25
    for cell, trial in trials.items():
        assert len(trial["grad_h"]) == 40 and min(trial["grad_h"]) > 0
        assert (trial["grad_c"] is not None) == (cell == "lstm")
    assert picture.read_bytes().startswith(b"\x89PNG") and "First symbol across T = 40" in shown
