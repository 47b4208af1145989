"""Translation quality on the embedded English-French Tatoeba pairs: held-out sacreBLEU and chrF over seeds.

The split is the one ``lstmkit translate`` makes: ``split_by_source(pairs, 1000, 500, seed=0)`` (1,000 English
sentences held out for the test with every French reference, 500 for validation, all translations of one English
sentence on one side). Each model is trained once per seed and scored with greedy search and beam search (beam 5),
on the test sentences and on as many training sentences (the gap). Printed as mean ± sd over the seeds, with the
training time; written to benchmarks/results/translation_quality[_NAME].json.

    python benchmarks/translation_quality.py [--preset default|full] [--models general,none] [--seeds 0 1 2]

Presets: ``default`` is the model ``lstmkit translate`` trains (Seq2Seq's defaults, 6 epochs); ``full`` the
full-quality run (H 512, embeddings 256, dropout 0.3, label smoothing 0.1, 12 epochs, cosine schedule).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import write_results
from lstmkit.data.datasets import load_translation_pairs
from lstmkit.data.translation import group_by_source, split_by_source
from lstmkit.tasks import Seq2Seq

PRESETS = {
    "default": dict(epochs=6),
    "full": dict(hidden_size=512, embedding_dim=256, dropout=0.3, label_smoothing=0.1, epochs=12, lr_schedule="cosine"),
}


def measure(options: dict, split, seed: int) -> dict:
    train_sources, train_targets = [s for s, _ in split.train], [t for _, t in split.train]
    validation = ([s for s, _ in split.val], [t for _, t in split.val])
    start = time.perf_counter()
    model = Seq2Seq(**options, seed=seed, progress=False).fit(train_sources, train_targets, validation)
    seconds = time.perf_counter() - start
    seen = group_by_source(split.train)[: len(split.test)]
    row = {"train_seconds": seconds, "epochs_trained": len(model.history_)}
    for name, beam in (("greedy", 1), ("beam5", 5)):
        scores = model.evaluate(split.test_sources, split.test_references, beam)
        row |= {f"{name}_bleu": scores.bleu, f"{name}_chrf": scores.chrf}
    row["train_pairs_greedy_bleu"] = model.evaluate([s for s, _ in seen], [r for _, r in seen], 1).bleu
    row["signature"] = scores.bleu_signature
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="default")
    parser.add_argument("--models", default="general,none", help="attention kinds, comma-separated")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--name", default="", help="a suffix for the results file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    split = split_by_source(load_translation_pairs(), 1000, 500, seed=0)
    results = {"preset": args.preset, "options": PRESETS[args.preset], "threads": args.threads, "models": {}}
    for kind in args.models.split(","):
        rows = []
        for seed in args.seeds:
            rows.append(measure(PRESETS[args.preset] | {"attention_kind": kind}, split, seed))
            print(f"{kind} seed {seed}: " + ", ".join(f"{k} {v:.1f}" for k, v in rows[-1].items() if k != "signature"))
        summary = {}
        for key in rows[0]:
            if key != "signature":
                values = [row[key] for row in rows]
                summary[key] = {
                    "mean": statistics.mean(values),
                    "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
                }
        results["models"][kind] = {"summary": summary, "runs": rows}
        results["signature"] = rows[0]["signature"]
    print(f"\n{args.preset} preset, seeds {args.seeds}, {args.threads} thread(s); {results['signature']}")
    columns = ("BLEU greedy", "BLEU beam 5", "chrF greedy", "BLEU train")
    print(f"{'attention':<10} " + " ".join(f"{c:>14}" for c in columns) + f" {'minutes':>8}")
    for kind, result in results["models"].items():
        s = result["summary"]

        def cell(key, s=s):
            return f"{s[key]['mean']:.1f} ± {s[key]['sd']:.1f}"

        print(
            f"{kind:<10} {cell('greedy_bleu'):>14} {cell('beam5_bleu'):>14} {cell('greedy_chrf'):>14} "
            f"{cell('train_pairs_greedy_bleu'):>14} {s['train_seconds']['mean'] / 60:>8.1f}"
        )
    write_results("translation_quality" + (f"_{args.name}" if args.name else ""), results)


if __name__ == "__main__":
    main()
