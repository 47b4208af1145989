"""Every example runs (in its quick mode) and reports what it promises."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(script: str, *args: str, cwd: Path) -> str:
    env = dict(os.environ, MPLBACKEND="Agg")
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_reference_gradients_example_checks_every_gradient(tmp_path):
    out = run("reference_gradients.py", cwd=tmp_path)
    errors = [float(e) for e in re.findall(r"relative error ([0-9.e+-]+)", out)]
    assert len(errors) == 1 + 2 * 2 * 7 + 1  # x and 7 parameters per layer and direction, plus the summary line
    assert max(errors) < 1e-6 and "exact" in out


def test_forecast_example_backtests_and_draws(tmp_path):
    out = run("forecast_airline.py", "--quick", "--out", "f.png", cwd=tmp_path)
    assert "seasonal_naive" in out and "forecast for 1961-01" in out
    assert (tmp_path / "f.png").stat().st_size > 10_000


def test_classification_example_trains_and_draws(tmp_path):
    out = run("classify_with_variants.py", "--quick", "--out", "g.png", cwd=tmp_path)
    accuracy = float(re.search(r"validation accuracy (\S+)", out).group(1))
    assert 0.5 < accuracy <= 1.0
    assert (tmp_path / "g.png").stat().st_size > 10_000
