"""Two workers filling one study against one worker: the same 12 trials over the classifier on JapaneseVowels,
run by one process, then by two processes sharing a journal file (each one thread). Prints the wall times and
the speedup; writes benchmarks/results/tuning_workers.json. On N machines, give every worker the same database
URL (--storage postgresql://...) and study name instead of the journal file.

    python benchmarks/tuning_workers.py [--trials 12]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import write_results

ROOT = Path(__file__).resolve().parents[1]
WORKER = """
import sys, optuna, torch
from lstmkit.cli.tune import classifier_space
from lstmkit.data.datasets import load_sequence_dataset
from lstmkit.tasks import SequenceClassifier, tune
torch.set_num_threads(1)
optuna.logging.set_verbosity(optuna.logging.WARNING)
train = load_sequence_dataset("japanese_vowels").train
tune(SequenceClassifier(bidirectional=True, epochs=15, patience=20), classifier_space(), train.sequences,
     train.labels, n_trials=int(sys.argv[2]), storage=sys.argv[1], study_name="bench", seed=int(sys.argv[3]))
"""


def run_workers(storage: str, trials_each: list[int]) -> float:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    started = time.perf_counter()
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, storage, str(n), str(k)], env=env)
        for k, n in enumerate(trials_each)
    ]
    for worker in workers:
        if worker.wait() != 0:
            raise SystemExit("a worker failed")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        one = run_workers(str(Path(folder) / "one.journal"), [args.trials])
        two = run_workers(str(Path(folder) / "two.journal"), [args.trials // 2, args.trials - args.trials // 2])
    print(f"{args.trials} trials: one worker {one:.1f} s, two workers {two:.1f} s, speedup {one / two:.2f}x")
    write_results("tuning_workers", {"trials": args.trials, "one_worker_s": one, "two_workers_s": two})


if __name__ == "__main__":
    main()
