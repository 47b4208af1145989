"""The temporal order problem: sequences as the paper defines them (checked symbol by symbol), and a short run in
which the LSTM learns what a net that forgets cannot (a class decided 80-100 steps before the end)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lstmkit.data.synthetic import TEMPORAL_ORDER_SYMBOLS, temporal_order
from lstmkit.errors import ParameterError
from tests.cli.helpers import run_cli


@pytest.mark.parametrize("relevant", [2, 3])
def test_sequences_follow_the_paper(relevant):
    x, lengths, labels = temporal_order(300, relevant, np.random.default_rng(1))
    windows = {2: [(10, 20), (50, 60)], 3: [(10, 20), (33, 43), (66, 76)]}[relevant]
    assert lengths.min() >= 100 and lengths.max() <= 110 and set(labels) == set(range(2**relevant))
    for n in range(len(x)):
        symbols = "".join(TEMPORAL_ORDER_SYMBOLS[k] for k in x[n, : lengths[n]].argmax(axis=1))
        assert np.allclose(x[n, : lengths[n]].sum(axis=1), 1) and not x[n, lengths[n] :].any()
        assert symbols[0] == "E" and symbols[-1] == "B" and set(symbols[1:-1]) <= set("abcdXY")
        relevant_at = [k + 1 for k, s in enumerate(symbols) if s in "XY"]  # 1-based, as in the paper
        assert len(relevant_at) == relevant
        assert all(low <= at <= high for at, (low, high) in zip(relevant_at, windows, strict=True))
        order = "".join(symbols[at - 1] for at in relevant_at)
        assert labels[n] == int(order.replace("X", "0").replace("Y", "1"), 2)  # XY -> 1, YX -> 2 ...
    with pytest.raises(ParameterError, match="expected relevant to be 2"):
        temporal_order(5, relevant=4)


def test_the_lstm_learns_the_order_in_a_short_run(tmp_path, capsys, monkeypatch):
    out = tmp_path / "order.json"
    code, shown, err = run_cli(["experiment", "temporal-order", "--quick", "--json", out], capsys, monkeypatch)
    assert code == 0, err
    result = json.loads(out.read_text())
    lstm = next(t for t in result["trials"] if t["cell"] == "lstm")
    assert result["chance"] == 0.25
    assert lstm["accuracy"] > 0.9  # a net that forgets step 10-20 by the end stays near 0.25 or 0.5
    assert "Temporal order" in shown and "relevant" in shown
