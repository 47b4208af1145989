"""Translation training speed against the same model written by hand in torch, and batched beam search.

Ours: the ``Trainer`` over the (N, L, 2) pair batches ``Seq2Seq`` builds, driving its ``TranslationNet``
(lstmkit's bidirectional LSTM encoder, an lstmkit ``LSTMCell`` decoder, Luong "general" attention, input feeding).
Theirs: the loop a tutorial writes: ``pack_padded_sequence`` + ``torch.nn.LSTM`` encoder, ``torch.nn.LSTMCell``
decoder, the same attention written inline, Adam with the same clipping, the same batches in the same order. Both
start from the same weights (dropout off), and their weights after three steps are compared (same work). Reported
as training target tokens per second and their ratio (target: ours within 1.1x; ours computes the output layer
only at steps with a target, theirs everywhere). Then decoding 1,000 held-out sentences: greedy, batched beam
search (beam 5), and beam search one sentence at a time, in sentences per second.

    python benchmarks/seq2seq_speed.py [--rounds 3] [--pairs 4000]
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

sys.path.insert(0, str(Path(__file__).parent))
from common import compare, hand_written_epoch, trainer_epoch, write_results
from lstmkit.data.datasets import load_translation_pairs
from lstmkit.data.translation import split_by_source, translation_tokens
from lstmkit.tasks import Seq2Seq
from lstmkit.tasks.losses import TokenCrossEntropy

BATCH, LR, CLIP = 64, 2e-3, 5.0


def token_loss(logits, targets):
    """The tutorial's loss: cross-entropy over every step, padding ignored."""
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=0)


class HandWritten(torch.nn.Module):
    """The encoder-decoder as a tutorial writes it; ``ours`` lends its weights (copied, not shared)."""

    def __init__(self, ours):
        super().__init__()
        self.source_embedding = copy.deepcopy(ours.encoder.embedding)
        rnn = ours.encoder.rnn
        self.encoder = torch.nn.LSTM(rnn.input_size, rnn.hidden_size, batch_first=True, bidirectional=True)
        self.encoder.load_state_dict(rnn.state_dict())
        self.bridge_h, self.bridge_c = copy.deepcopy(ours.bridge_h), copy.deepcopy(ours.bridge_c)
        self.embedding = copy.deepcopy(ours.embedding)
        cell = ours.cells[0]
        self.cell = torch.nn.LSTMCell(cell.input_size, cell.hidden_size)
        self.cell.load_state_dict(cell.state_dict())
        self.attention = copy.deepcopy(ours.attention.weight)
        self.combine, self.output = copy.deepcopy(ours.combine), copy.deepcopy(ours.output)

    def forward(self, inputs, lengths):
        source, previous = inputs[..., 0], inputs[..., 1]
        source_lengths = (source != 0).sum(1)
        source = source[:, : int(source_lengths.max())]
        packed = pack_padded_sequence(
            self.source_embedding(source), source_lengths, batch_first=True, enforce_sorted=False
        )
        out, (h_n, _) = self.encoder(packed)
        memory, _ = pad_packed_sequence(out, batch_first=True, total_length=source.shape[1])
        final = torch.cat([h_n[0], h_n[1]], dim=-1)
        h, c = torch.tanh(self.bridge_h(final)), self.bridge_c(final)
        keys = self.attention(memory)
        mask = torch.arange(source.shape[1])[None] < source_lengths[:, None]
        feed = torch.zeros_like(h)
        logits = []
        for t in range(int((previous != 0).sum(1).max())):
            h, c = self.cell(torch.cat([self.embedding(previous[:, t]), feed], -1), (h, c))
            scores = torch.bmm(keys, h[:, :, None]).squeeze(-1).masked_fill(~mask, float("-inf"))
            context = torch.bmm(torch.softmax(scores, -1)[:, None], memory).squeeze(1)
            feed = torch.tanh(self.combine(torch.cat([context, h], -1)))
            logits.append(self.output(feed))
        logits = torch.stack(logits, 1)
        return torch.nn.functional.pad(logits, (0, 0, 0, inputs.shape[1] - logits.shape[1]))


def decoding_speed(model: Seq2Seq, sources: list[str]) -> dict[str, float]:
    """Sentences per second: greedy, batched beam 5, and beam 5 one sentence at a time (the first 100)."""
    rates = {}
    for name, run, n in (
        ("greedy", lambda: model.predict(sources, beam_size=1), len(sources)),
        ("beam5_batched", lambda: model.predict(sources, beam_size=5), len(sources)),
        ("beam5_one_at_a_time", lambda: [model.predict([s], beam_size=5) for s in sources[:100]], 100),
    ):
        start = time.perf_counter()
        run()
        rates[f"{name}_sentences_per_s"] = n / (time.perf_counter() - start)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=4000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    split = split_by_source(load_translation_pairs(), 1000, 0, seed=0)
    train = split.train[:: max(1, len(split.train) // args.pairs)][: args.pairs]
    sources, targets = [s for s, _ in train], [t for _, t in train]
    translator = Seq2Seq(epochs=1, dropout=0.0, label_smoothing=0.0, val_fraction=0.0).fit(sources, targets)
    data = translator._pairs(*(list(map(translation_tokens, texts)) for texts in (sources, targets)))
    torch.manual_seed(0)
    ours = translator._build_model()
    theirs = HandWritten(ours)
    # Same work: three steps on the first 192 pairs take both models to the same weights (float32 rounding apart;
    # over a whole epoch Adam turns rounding-sized gradient differences into lr-sized steps for rare words' weights)
    head = tuple(t[:192] for t in data)
    trainer_epoch(ours, head, TokenCrossEntropy(), BATCH, LR, CLIP)()
    hand_written_epoch(theirs, head, token_loss, BATCH, LR, CLIP)()
    renamed = {
        "encoder.embedding.": "source_embedding.",
        "encoder.rnn.": "encoder.",
        "cells.0.": "cell.",
        "attention.weight.": "attention.",
    }
    ours_weights = {}
    for name, value in ours.state_dict().items():
        for old, new in renamed.items():
            name = name.replace(old, new) if name.startswith(old) else name
        ours_weights[name] = value
    gap = max(float((ours_weights[k] - v).abs().max()) for k, v in theirs.state_dict().items())
    assert gap < 1e-4, f"the two loops did different work (weights differ by {gap} after three steps)"
    ours_run = trainer_epoch(ours, data, TokenCrossEntropy(), BATCH, LR, CLIP)
    row = compare(ours_run, hand_written_epoch(theirs, data, token_loss, BATCH, LR, CLIP), args.rounds, 1)
    tokens = int((data[1] != 0).sum())
    row |= {
        "pairs": len(train),
        "target_tokens": tokens,
        "ours_tokens_per_s": tokens / row["ours_ms"] * 1e3,
        "theirs_tokens_per_s": tokens / row["theirs_ms"] * 1e3,
        "max_weight_difference_after_3_steps": gap,
    }
    decoding = decoding_speed(translator, split.test_sources)
    print(f"one epoch over {len(train)} pairs ({tokens} target tokens), batch {BATCH}, H 256, 1 thread")
    print(
        f"ours {row['ours_tokens_per_s']:.0f} tokens/s, torch by hand {row['theirs_tokens_per_s']:.0f} tokens/s: "
        f"time ratio {row['ratio']:.3f} (max |dw| after 3 steps {gap:.1e})"
    )
    print(
        f"decoding {len(split.test_sources)} sentences: greedy {decoding['greedy_sentences_per_s']:.0f}/s, beam 5 "
        f"batched {decoding['beam5_batched_sentences_per_s']:.0f}/s, beam 5 one at a time "
        f"{decoding['beam5_one_at_a_time_sentences_per_s']:.0f}/s"
    )
    write_results("seq2seq_speed", {"epoch": row, "decoding": decoding, "batch_size": BATCH})


if __name__ == "__main__":
    main()
