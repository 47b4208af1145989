"""Shakespeare, one character at a time: the guides' character-level text generator, working. They re-read a
window of the last characters for every new one and take the most likely next character, which soon loops on the
same few words, and never say how good the model is. Here the LSTM carries its state from character to character,
samples with a temperature, and is judged by its loss on held-out text beside a 5-gram model and a unigram model.

    python examples/generate_text.py [--quick] [--out cells.png]

--quick trains a 1 x 128 LSTM for one pass over the first 300,000 characters (about a minute); the full run trains
the default 2 x 512 LSTM for 7 passes over 90% of Tiny Shakespeare (about 15 minutes on two cores) and scores the
rest. Either run draws the text coloured by the unit that best tracks the position in the line.
"""

from __future__ import annotations

import argparse
import math

import torch

from lstmkit.data.datasets import load_tiny_shakespeare
from lstmkit.data.text import split_text
from lstmkit.tasks import TextGenerator
from lstmkit.tasks.baselines import CharNGram
from lstmkit.viz import plot_text_activation


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default="cells.png", help="where to draw the text coloured by one cell")
    args = parser.parse_args()
    torch.set_num_threads(1 if args.quick else 2)
    text = load_tiny_shakespeare()
    text = text[:300_000] if args.quick else text
    train_text, held_out = split_text(text, 0.1)  # the last 10%, never trained on

    model = TextGenerator(
        hidden_size=128 if args.quick else 512,
        num_layers=1 if args.quick else 2,
        epochs=1 if args.quick else 7,
        seed=0,
    )
    model.fit(text)  # truncated backprop through time over 32 streams, the state carried between chunks

    score = model.score(held_out)
    print(f"held-out loss: {score.nats_per_char:.3f} nats/char ({score.bits_per_char:.3f} bits)")
    for order in (1, 5):
        nats = CharNGram(order).fit(train_text).nats_per_char(held_out)
        print(f"{order}-gram model:  {nats:.3f} nats/char ({nats / math.log(2):.3f} bits)")

    print("\n--- the guides' loop: always the most likely character ---")
    print("ROMEO:" + model.generate("ROMEO:", 200, top_k=1))
    for temperature in (0.6, 1.0):
        print(f"\n--- sampled, temperature {temperature} ---")
        print("ROMEO:" + model.generate("ROMEO:", 300, temperature=temperature, seed=1))

    excerpt = held_out[:500]
    best = max(
        (m for m in model.interpretable_cells(held_out[:3000]) if m.feature == "position in line"),
        key=lambda m: m.value,
    )
    print(f"\nunit {best.unit} of layer {best.layer} tracks the position in the line (correlation {best.value:.2f})")
    values = model.cell_states(excerpt)[:, best.layer, best.unit]
    plot_text_activation(excerpt, values, title=f"layer {best.layer} unit {best.unit}").savefig(args.out, dpi=110)
    print(f"the text coloured by that unit drawn in {args.out}")


if __name__ == "__main__":
    main()
