"""Character-level Tiny Shakespeare: held-out loss against training time, and sampling speed.

Quality (``--part quality``): ``TextGenerator`` (2 x 512 LSTM, dropout 0.25, truncated BPTT over 32 streams of
128 characters, Adam 3e-3 with a cosine schedule) trained on the first 90% of the text with torch's two threads,
scored on the last 10% read as one stream, beside a 5-gram model (interpolated absolute discounting) on the same
split. Prints the validation loss after each epoch against the wall-clock time; the issue's target is
<= 1.45 nats per character within 15 minutes (nanoGPT's GPU transformer: 1.47 on the same split).

Speed (``--part speed``, one thread): characters per second sampled from a 2 x 256 LSTM with the state carried
(``TextGenerator.generate``), against the guides' loop that re-reads a window of the last 100 characters for
every new one, against ``torch.nn.LSTM`` stepped one character at a time on the same weights, and against the
step's matrix-vector products alone (torch.mv, output layer included: a floor no implementation of this model
goes under) and the layers' products alone as the compiled stream makes them (output layer not included).

    python benchmarks/text_generation.py [--part quality|speed|all] [--epochs 7] [--seeds 0]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch

from common import write_results
from lstmkit.data.datasets import load_tiny_shakespeare
from lstmkit.data.text import split_text
from lstmkit.tasks import TextGenerator
from lstmkit.tasks.baselines import CharNGram

WINDOW = 100  # the guides' re-reading window


def quality(epochs: int, seed: int) -> dict:
    torch.set_num_threads(2)
    text = load_tiny_shakespeare()
    model = TextGenerator(epochs=epochs, seed=seed, progress=False)
    train_text, val_text = split_text(text, model.val_fraction)
    started = time.perf_counter()
    model.fit(text)
    train_seconds = time.perf_counter() - started
    score = model.score(val_text)
    elapsed, curve = 0.0, []
    for row in model.history_:
        elapsed += row["seconds"]
        curve.append(
            {"epoch": row["epoch"], "minutes": elapsed / 60, "train": row["train_loss"], "val": row["val_loss"]}
        )
        print(
            f"epoch {row['epoch']}: {elapsed / 60:5.1f} min  train {row['train_loss']:.4f}  val {row['val_loss']:.4f}"
        )
    ngram = CharNGram(5).fit(train_text).nats_per_char(val_text)
    print(
        f"seed {seed}: held-out {score.nats_per_char:.4f} nats/char ({score.bits_per_char:.3f} bits) after "
        f"{train_seconds / 60:.1f} min of training; 5-gram {ngram:.4f}"
    )
    return {
        "seed": seed,
        "nats_per_char": score.nats_per_char,
        "bits_per_char": score.bits_per_char,
        "train_minutes": train_seconds / 60,
        "curve": curve,
        "five_gram": ngram,
    }


def speed(characters: int = 2000, rounds: int = 3) -> dict:
    torch.set_num_threads(1)
    text = load_tiny_shakespeare()[:200_000]
    model = TextGenerator(hidden_size=256, num_layers=2, epochs=1, batch_size=32, seed=0).fit(text)
    net = model.model_.eval()
    lstm = torch.nn.LSTM(model.embedding_dim, 256, 2, batch_first=True)
    lstm.load_state_dict(net.rnn.state_dict())
    prime_ids = model.vocabulary_.encode(list("ROMEO:\n"))

    @torch.no_grad()
    def torch_stepped(n: int) -> None:
        generator = torch.Generator().manual_seed(0)
        token, state = torch.tensor([prime_ids]), None
        out, state = lstm(net.embedding(token), state)
        for _ in range(n):
            probabilities = torch.softmax(net.output(out[:, -1]), dim=-1)
            token = torch.multinomial(probabilities, 1, generator=generator)
            out, state = lstm(net.embedding(token), state)

    @torch.no_grad()
    def rereading(n: int) -> None:
        generator = torch.Generator().manual_seed(0)
        ids = list(prime_ids)
        for _ in range(n):
            window = torch.tensor([ids[-WINDOW:]])
            out, _ = lstm(net.embedding(window))
            probabilities = torch.softmax(net.output(out[:, -1]), dim=-1)
            ids.append(int(torch.multinomial(probabilities, 1, generator=generator)))

    matrices = [w.detach() for name, w in net.rnn.named_parameters() if name.startswith("weight")]
    matrices.append(net.output.weight.detach())
    vectors = [torch.randn(w.shape[1]) for w in matrices]

    @torch.no_grad()
    def products_alone(n: int) -> None:  # the floor: only the step's matrix-vector products, nothing else
        for _ in range(n):
            for w, v in zip(matrices, vectors, strict=True):
                torch.mv(w, v)

    runs = {
        "lstmkit generate (state carried)": lambda n: model.generate("ROMEO:\n", n, seed=0),
        "the products alone (a floor)": products_alone,
    }
    stream = net.rnn.stream()
    if stream.compiled:  # the layers' products as generate's stream makes them, without the output layer
        x0 = torch.zeros(1, model.embedding_dim)
        runs["the stream's layer products alone, C"] = lambda n: stream._engine.products(x0, n)
    runs |= {
        "torch.nn.LSTM stepped": torch_stepped,
        f"re-reading a {WINDOW}-character window": rereading,
    }
    rates: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            n = characters if "window" not in name else characters // 10
            started = time.perf_counter()
            run(n)
            rates[name].append(n / (time.perf_counter() - started))
    ours = float(np.median(rates["lstmkit generate (state carried)"]))
    result = {}
    for name, values in rates.items():
        rate = float(np.median(values))
        result[name] = {"characters_per_second": rate, "ours_over_this": ours / rate}
        print(f"{name:40s} {rate:10.0f} chars/s   lstmkit is {ours / rate:6.2f}x")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("quality", "speed", "all"), default="all")
    parser.add_argument("--epochs", type=int, default=7)
    parser.add_argument("--seeds", default="0")
    args = parser.parse_args()
    results: dict = {}
    if args.part in ("speed", "all"):
        results["speed"] = speed()
    if args.part in ("quality", "all"):
        runs = [quality(args.epochs, int(seed)) for seed in args.seeds.split(",")]
        values = [r["nats_per_char"] for r in runs]
        spread = float(np.std(values, ddof=1)) if len(values) > 1 else math.nan
        print(f"held-out nats/char over seeds {args.seeds}: {np.mean(values):.4f} ± {spread:.4f}")
        results["quality"] = {"runs": runs, "mean": float(np.mean(values)), "sd": spread}
    write_results("text_generation", results)


if __name__ == "__main__":
    main()
