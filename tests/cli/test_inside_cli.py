"""``lstmkit demo gates`` and ``lstmkit inspect`` as a user runs them."""

from __future__ import annotations

from html.parser import HTMLParser

from tests.cli.helpers import run_cli


def test_demo_gates_writes_the_pictures_and_reports_the_measurements(tmp_path, capsys, monkeypatch):
    code, out, err = run_cli(
        ["demo", "gates", "--out", tmp_path, "--length", "12", "--epochs", "3"], capsys, monkeypatch
    )
    assert code == 0, err
    assert {p.name for p in tmp_path.iterdir()} == {
        "lstm_gates.png",
        "lstm_saturation.png",
        "hidden_states.png",
        "gradient_flow.png",
    }
    for name in ("LSTM", "GRU", "vanilla RNN"):
        assert f"{name}" in out and "held-out accuracy" in out and "|dL/dh_0| / |dL/dh_11|" in out


def test_inspect_writes_pngs_and_a_self_contained_report(tmp_path, capsys, monkeypatch):
    run = tmp_path / "run"
    code, _, err = run_cli(["forecast", "--epochs", "5", "--folds", "1", "--out", run], capsys, monkeypatch)
    assert code == 0, err
    code, out, err = run_cli(["inspect", run, "--out", tmp_path / "inside", "--units", "0:8"], capsys, monkeypatch)
    assert code == 0, err
    names = {p.name for p in (tmp_path / "inside").iterdir()}
    assert {"gates.png", "saturation.png", "training.png", "forecast.png", "backtest.png", "report.html"} == names
    page = (tmp_path / "inside" / "report.html").read_text()
    sources = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            sources.extend(value for key, value in attrs if key in ("src", "href"))

    Collector().feed(page)
    assert len(sources) == 5 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "http://" not in page and "https://" not in page
    assert "seasonal_naive" in page and "interval coverage" in page


def test_inspect_refuses_what_is_not_a_run(tmp_path, capsys, monkeypatch):
    code, out, err = run_cli(["inspect", tmp_path, "--out", tmp_path / "x"], capsys, monkeypatch)
    assert code == 2 and "not a forecasting run folder" in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()
