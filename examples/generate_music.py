"""Bach chorales from an LSTM: the guides' music generator, working. They draw notes at random and call it music;
here an LSTM learns JSB Chorales as piano rolls (88 keys per quarter-note step, several sounding at once), is judged
by its negative log-likelihood on the held-out chorales (the measure of Boulanger-Lewandowski et al. 2012 and Bai et
al. 2018) beside each key played with its training frequency, and writes new chorales as MIDI and pictures.

    python examples/generate_music.py [--quick] [--out chorale]

--quick trains a 48-unit LSTM for 8 epochs at a high learning rate (seconds); the full run trains the default
256-unit LSTM with early
stopping on the validation chorales (a few minutes). Writes <out>.mid (needs mido: pip install 'lstmkit[music]')
and <out>.png.
"""

from __future__ import annotations

import argparse

import torch

from lstmkit.data.datasets import load_jsb_chorales
from lstmkit.data.midi import write_midi
from lstmkit.tasks import MusicGenerator
from lstmkit.tasks.baselines import key_frequency_nll
from lstmkit.viz import plot_piano_roll


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default="chorale", help="file name (without extension) of the sampled chorale")
    args = parser.parse_args()
    torch.set_num_threads(1)
    chorales = load_jsb_chorales()  # the standard split: 229 training, 76 validation, 77 test chorales

    model = MusicGenerator(
        hidden_size=48 if args.quick else 256,
        epochs=8 if args.quick else 150,
        lr=1e-2 if args.quick else 1e-3,
        dropout=0.0 if args.quick else 0.3,
        seed=0,
    )
    model.fit(chorales.train, chorales.valid)

    print(f"test NLL per step: {model.nll(chorales.test):.3f} nats (LSTM, {len(model.history_)} epochs)")
    print(f"each key with its training frequency: {key_frequency_nll(chorales.train, chorales.test):.3f} nats")

    roll = model.generate(64, seed=1)  # an opening chord from the training chorales, then 63 sampled steps
    print(f"sampled 64 steps, {roll.sum(axis=1).mean():.1f} notes sounding per step on average")
    write_midi(roll, f"{args.out}.mid")
    plot_piano_roll(roll, title="A sampled chorale").savefig(f"{args.out}.png", dpi=110)
    print(f"written {args.out}.mid and {args.out}.png")


if __name__ == "__main__":
    main()
