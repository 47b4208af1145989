"""Several worker processes fill one study: on a real PostgreSQL server (the multi-machine set-up) and on a
journal file (one machine); a worker killed mid-trial costs that trial only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from lstmkit.tasks.tuning import open_storage
from tests.postgres import postgres_server

ROOT = Path(__file__).resolve().parents[2]
WORKER = """
import sys, numpy as np, optuna, torch
from optuna.distributions import IntDistribution
from lstmkit.tasks import SequenceClassifier, tune
torch.set_num_threads(1)
optuna.logging.set_verbosity(optuna.logging.WARNING)
storage, trials, epochs, heartbeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(0)
X = [rng.normal(size=(int(rng.integers(3, 10)), 2)) for _ in range(80)]
y = np.array([int(x[:, 0].sum() > 0) for x in X])
estimator = SequenceClassifier(hidden_size=8, epochs=epochs, val_fraction=0.3, patience=None)
tune(estimator, {"hidden_size": IntDistribution(4, 16)}, X, y, n_trials=trials, storage=storage,
     study_name="shared", pruner="none", seed=int(sys.argv[5]), heartbeat_seconds=heartbeat)
"""


def worker(storage: str, trials: int, epochs: int = 2, heartbeat: int = 60, seed: int = 0) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    command = [sys.executable, "-c", WORKER, storage, str(trials), str(epochs), str(heartbeat), str(seed)]
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen) -> None:
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err[-2000:]


def states(storage: str) -> list[str]:
    return [t.state.name for t in optuna.load_study(study_name="shared", storage=open_storage(storage)).trials]


@pytest.fixture(scope="module")
def database():
    with postgres_server() as url:
        yield url


@pytest.mark.parametrize("kind", ["postgresql", "journal"])
def test_two_workers_share_one_study_and_lose_no_trial(kind, database, tmp_path):
    storage = database if kind == "postgresql" else str(tmp_path / "study.journal")
    if kind == "postgresql":  # start from an empty database: drop a study an earlier test left
        for summary in optuna.get_all_study_summaries(storage=storage):
            optuna.delete_study(study_name=summary.study_name, storage=storage)
    a, b = worker(storage, 3, seed=1), worker(storage, 3, seed=2)
    finish(a)
    finish(b)
    study = optuna.load_study(study_name="shared", storage=open_storage(storage))
    assert sorted(t.number for t in study.trials) == list(range(6))  # 3 + 3: none lost, none counted twice
    assert states(storage) == ["COMPLETE"] * 6


@pytest.mark.parametrize("kind", ["postgresql", "journal"])
def test_a_worker_killed_mid_trial_costs_that_trial_only(kind, database, tmp_path):
    """A database marks the killed worker's trial failed once its heartbeat is missed; a journal file has no
    heartbeat in Optuna, so the trial stays 'running' for good. Either way the next worker's trials complete."""
    storage = database if kind == "postgresql" else str(tmp_path / "study.journal")
    if kind == "postgresql":
        for summary in optuna.get_all_study_summaries(storage=storage):
            optuna.delete_study(study_name=summary.study_name, storage=storage)
    slow = worker(storage, 100, epochs=400, heartbeat=1)  # long trials
    deadline = time.monotonic() + 120
    while "RUNNING" not in (states(storage) if optuna.get_all_study_summaries(storage=open_storage(storage)) else []):
        assert time.monotonic() < deadline and slow.poll() is None, slow.stderr.read() if slow.poll() else "timeout"
        time.sleep(0.2)
    os.kill(slow.pid, signal.SIGKILL)
    slow.wait()
    assert states(storage).count("RUNNING") == 1
    time.sleep(3)  # past the grace period (2 heartbeats of 1 s)
    finish(worker(storage, 2, heartbeat=1, seed=3))
    after = states(storage)
    left = "FAIL" if kind == "postgresql" else "RUNNING"
    assert after.count(left) == 1 and after.count("COMPLETE") == len(after) - 1
    assert after.count("COMPLETE") >= 2  # the study went on


def test_two_cli_workers_share_a_study_on_the_database(database, tmp_path):
    for summary in optuna.get_all_study_summaries(storage=database):
        optuna.delete_study(study_name=summary.study_name, storage=database)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    command = [sys.executable, "-m", "lstmkit", "tune", "classify", "--epochs", "2", "--trials", "2"]
    shared = ["--storage", database, "--study", "cli"]
    workers = [
        subprocess.Popen(
            [*command, *shared, "--seed", str(k), "--out", str(tmp_path / f"w{k}")],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(2)
    ]
    for process in workers:
        finish(process)
    study = optuna.load_study(study_name="cli", storage=database)
    assert sorted(t.number for t in study.trials) == [0, 1, 2, 3]
    assert {t.state.name for t in study.trials} <= {"COMPLETE", "PRUNED"}  # the median pruner may stop the last ones
    assert all((tmp_path / f"w{k}" / "study.json").is_file() for k in range(2))
