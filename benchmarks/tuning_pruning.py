"""What pruning saves: 30 Optuna trials over the classifier on JapaneseVowels, with the median pruner and without,
same sampler seed; wall time, pruned trials, best validation loss, and the refit best model's test accuracy
beside the default model's. One thread. Writes benchmarks/results/tuning_pruning.json.

    python benchmarks/tuning_pruning.py [--trials 30]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import optuna
import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import write_results
from lstmkit.cli.tune import classifier_space
from lstmkit.data.datasets import load_sequence_dataset
from lstmkit.tasks import SequenceClassifier, tune

DEFAULTS = dict(bidirectional=True, dropout=0.2, epochs=30, patience=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30)
    args = parser.parse_args()
    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    data = load_sequence_dataset("japanese_vowels")
    train, test = data.train, data.test
    default = SequenceClassifier(**DEFAULTS).fit(train.sequences, train.labels).score(test.sequences, test.labels)
    rows = {}
    for pruner in ("median", "none"):
        started = time.perf_counter()
        result = tune(
            SequenceClassifier(**DEFAULTS),
            classifier_space(),
            train.sequences,
            train.labels,
            n_trials=args.trials,
            pruner=pruner,
        )
        states = [t.state.name for t in result.study.trials]
        rows[pruner] = {
            "seconds": time.perf_counter() - started,
            "pruned": states.count("PRUNED"),
            "completed": states.count("COMPLETE"),
            "best_validation_loss": result.study.best_value,
            "test_accuracy": result.best_estimator.score(test.sequences, test.labels),
            "best_params": result.study.best_params,
        }
    print(f"JapaneseVowels, {args.trials} trials, epochs <= 30; default model test accuracy {default:.3f}")
    print(f"{'pruner':<8}{'seconds':>9}{'pruned':>8}{'best loss':>10}{'test':>8}")
    for name, row in rows.items():
        print(
            f"{name:<8}{row['seconds']:>9.1f}{row['pruned']:>8}{row['best_validation_loss']:>10.4f}{row['test_accuracy']:>8.3f}"
        )
    print(f"pruning saved {1 - rows['median']['seconds'] / rows['none']['seconds']:.0%} of the time")
    write_results("tuning_pruning", {"default_test_accuracy": default, "results": rows})


if __name__ == "__main__":
    main()
