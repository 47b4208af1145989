"""The continual embedded Reber grammar: the stream's targets, a forget gate fixed at 1 that training never moves,
and a short run in which the learned forget gate keeps the cell states bounded and predicts better, while the
cells of the net that cannot forget grow string after string."""

from __future__ import annotations

import json

import numpy as np
import torch

from lstmkit.data.synthetic import REBER_SYMBOLS, embedded_reber_strings, embedded_reber_successors
from lstmkit.experiments.continual_reber import StreamNet, continual_stream
from lstmkit.nn.losses import MaskedBernoulliNLL
from tests.cli.helpers import run_cli


def test_the_stream_asks_for_each_strings_successors_then_the_next_b():
    strings = embedded_reber_strings(5, np.random.default_rng(0))
    inputs, targets, ends = continual_stream(strings)
    stream = "".join(strings)
    assert len(inputs) == len(targets) == len(stream) - 1
    assert "".join(REBER_SYMBOLS[k] for k in inputs.argmax(1)) == stream[:-1]
    np.testing.assert_array_equal(ends, np.cumsum([len(s) for s in strings])[:-1] - 1)
    allowed = [a for s in strings for a in [*embedded_reber_successors(s), "B"]][:-1]
    for row, symbols in zip(targets, allowed, strict=True):
        assert {REBER_SYMBOLS[k] for k in np.flatnonzero(row)} == set(symbols)
    assert all(stream[end] == "E" and targets[end, REBER_SYMBOLS.index("B")] == 1 for end in ends)


def test_a_forget_gate_fixed_at_1_stays_exactly_1_through_training():
    torch.manual_seed(0)
    net = StreamNet(8, "fixed at 1", forget_bias=1.0)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.1)
    x = torch.eye(7)[torch.randint(0, 7, (40, 3))]
    targets = (torch.rand(40, 3, 7) < 0.3).float()
    for _ in range(5):
        optimizer.zero_grad()
        MaskedBernoulliNLL()(net(x)[0], targets).backward()
        optimizer.step()
    _, _, trace = net.rnn(x, return_gates=True)
    assert np.all(trace.layer(0)["f"] == 1.0)


def test_the_learned_forget_gate_keeps_the_cells_bounded(tmp_path, capsys, monkeypatch):
    out, picture = tmp_path / "continual.json", tmp_path / "cells.png"
    args = ["experiment", "continual-reber", "--quick", "--json", out, "--picture", picture]
    code, shown, err = run_cli(args, capsys, monkeypatch)
    assert code == 0, err
    trials = {t["forget_gate"]: t for t in json.loads(out.read_text())["trials"]}
    learned, fixed = trials["learned"], trials["fixed at 1"]
    assert learned["step_accuracy"] > fixed["step_accuracy"] + 0.05  # measured: 0.910 against 0.775
    assert learned["mean_abs_cell"][1] < 2 * learned["mean_abs_cell"][0]  # bounded: 7.8 then 8.1
    assert fixed["mean_abs_cell"][1] > 10 * fixed["mean_abs_cell"][0]  # growing: 131 then 2,499
    assert picture.read_bytes().startswith(b"\x89PNG") and "Continual embedded Reber" in shown
