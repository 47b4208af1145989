"""Property: whatever CSV file and options ``lstmkit forecast`` gets, it ends in exactly one of two ways: exit 0
with finite forecasts and strict JSON, or exit 2 with one line and no run folder. Never a traceback, a NaN or
a half-written folder."""

from __future__ import annotations

import json
import math

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstmkit.tasks.forecast_baselines import baseline_names
from tests.cli.helpers import run_cli

values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.floats(min_value=-1e6, max_value=1e6),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.sampled_from(["", "x", "1,5", "nan", "True", " 3 "]),
)


@st.composite
def csv_files(draw):
    rows = draw(st.one_of(st.integers(min_value=0, max_value=30), st.integers(min_value=60, max_value=120)))
    dated = draw(st.booleans())
    columns = draw(st.one_of(st.just(["y"]), st.lists(st.sampled_from(["y", "x", "sales"]), min_size=1, max_size=3)))
    smooth = draw(st.sampled_from([True, True, False]))  # most files hold a clean series, some any cells
    lines = [",".join((["date"] if dated else []) + columns)]
    start = pd.Timestamp("2000-01-01")
    for k in range(rows):
        cells = [f"{(start + pd.DateOffset(months=k)):%Y-%m-%d}"] if dated else []
        for c in range(len(columns)):
            cells.append(str(10 + math.sin(k / 3) + c) if smooth else str(draw(values)))
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


options = st.fixed_dictionaries(
    {},
    optional={
        "--horizon": st.one_of(st.integers(min_value=1, max_value=4), st.integers(min_value=-1, max_value=40)),
        "--lookback": st.one_of(st.integers(min_value=1, max_value=8), st.integers(min_value=-1, max_value=60)),
        "--folds": st.integers(min_value=0, max_value=3),
        "--target": st.sampled_from(["y", "x", "missing"]),
        "--time": st.sampled_from(["date", "y", "nope"]),
        "--fill": st.just(None),
        "--seed": st.one_of(st.integers(min_value=0, max_value=9), st.integers(min_value=-2, max_value=2**64)),
    },
)


def strict_json(path) -> object:
    return json.loads(path.read_text(), parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=csv_files(), chosen=options)
def test_forecast_exits_0_with_finite_output_or_2_with_one_line(tmp_path_factory, capsys, monkeypatch, text, chosen):
    folder = tmp_path_factory.mktemp("property")
    data = folder / "data.csv"
    data.write_text(text)
    args = ["forecast", "--data", data, "--epochs", "2", "--ensemble", "1", "--out", folder / "run"]
    for name, value in chosen.items():
        args += [name] if value is None else [name, value]
    if "--folds" not in chosen:
        args += ["--folds", "1"]
    code, out, err = run_cli(args, capsys, monkeypatch)
    assert "Traceback" not in out + err
    if code == 0:
        metrics = strict_json(folder / "run" / "metrics.json")  # NaN or Infinity would fail here
        assert set(metrics["backtest"]) | set(metrics["not_scored"]) == {"lstm", *baseline_names()}
        forecast = pd.read_csv(folder / "run" / "forecast.csv", index_col=0)
        assert len(forecast) >= 1 and forecast.map(math.isfinite).all().all()
        strict_json(folder / "run" / "model" / "state.json")
    else:
        assert code == 2, err
        assert err.count("\n") == 1 or err.startswith("Usage"), err
        assert not (folder / "run").exists()
