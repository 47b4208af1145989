"""English to French: the guides' encoder-decoder pseudocode ("the encoder reads the sentence into a state, the
decoder writes the translation from it"), working, on real Tatoeba pairs embedded in lstmkit (CC BY 2.0 FR;
attribution: www.manythings.org/anki and tatoeba.org), with the attention the pseudocode leaves out.

    python examples/translate_en_fr.py [--quick] [--out attention.png]

Held-out English sentences (never seen in training under any translation) are scored with sacreBLEU against all
of their French references, beside the floor of copying the English sentence unchanged. --quick trains a small
model for 3 epochs on the 8,000 shortest pairs (under a minute); the full run trains the default model for 8 epochs
on all of them (about 8 minutes).
"""

from __future__ import annotations

import argparse

import torch

from lstmkit.data.datasets import load_translation_pairs
from lstmkit.data.translation import split_by_source
from lstmkit.tasks import Seq2Seq
from lstmkit.tasks.metrics import translation_scores
from lstmkit.viz import plot_alignment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default="attention.png", help="where to draw one sentence's attention")
    args = parser.parse_args()
    torch.set_num_threads(1 if args.quick else 2)
    pairs = load_translation_pairs()  # sorted by the English sentence's length, shortest first
    pairs = pairs[:8000] if args.quick else pairs  # quick: the 8,000 shortest (up to 4 English words)
    split = split_by_source(pairs, test_sources=300 if args.quick else 1000, val_sources=300 if args.quick else 500)
    english, french = [s for s, _ in split.train], [t for _, t in split.train]

    # encoder: a bidirectional LSTM over the English words; decoder: an LSTM writing French words one at a time,
    # attending over the encoder's outputs at every step (Luong's "general" score) and fed its last attentional state
    model = Seq2Seq(
        attention_kind="general",
        hidden_size=128 if args.quick else 256,
        epochs=5 if args.quick else 8,
        batch_size=32 if args.quick else 64,
        seed=0,
    )
    model.fit(english, french, validation=([s for s, _ in split.val], [t for _, t in split.val]))

    scores = model.evaluate(split.test_sources, split.test_references)
    floor = translation_scores(split.test_sources, split.test_references)
    print(f"held-out BLEU {scores.bleu:.1f}, chrF {scores.chrf:.1f} ({len(split.test)} English sentences)")
    print(f"copying the English sentence: BLEU {floor.bleu:.1f}, chrF {floor.chrf:.1f}")
    print(f"signature: {scores.bleu_signature}")
    for source in ["I am cold.", "Where is Tom?", "We lost."]:
        print(f"{source} -> {model.predict([source], beam_size=5)[0]}")
    alignment = model.attention("I am cold.")
    plot_alignment(alignment.weights, alignment.source_tokens, alignment.target_tokens).savefig(args.out, dpi=110)
    print(f"attention of one sentence drawn in {args.out}")


if __name__ == "__main__":
    main()
