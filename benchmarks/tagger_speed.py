"""Tagger training speed against the same tagger written by hand with torch.nn.LSTM, and the CRF's cost.

Ours: the ``Trainer`` over ``Batch(inputs, targets, lengths)`` driving the ``TaggerNet`` that ``SequenceTagger``
builds (word embedding, casing one-hot, character CNN, lstmkit's bidirectional LSTM, linear scores, CRF loss).
Theirs: the loop a tutorial writes: the same feature layers, ``pack_padded_sequence`` + ``torch.nn.LSTM``, the
same CRF, Adam with the same clipping, the same batches in the same order. Both start from the same weights
(dropout off, so both do the same work: the weights are compared after the epoch, within 3 Adam steps).
Reported as training tokens per second and their ratio (target: ours within 1.1x). Then the CRF alone: the
negative log-likelihood (forward algorithm) with its backward, and Viterbi decoding, per sentence, on WNUT17
batches of 32.

    python benchmarks/tagger_speed.py [--rounds 5] [--sentences 800]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

sys.path.insert(0, str(Path(__file__).parent))
from common import compare, hand_written_epoch, trainer_epoch, write_results
from lstmkit.data.datasets import load_wnut17
from lstmkit.tasks import SequenceTagger
from lstmkit.tasks.tag import TaggingLoss

BATCH, LR = 16, 2e-3


class HandWritten(torch.nn.Module):
    """The tagger as a tutorial writes it, with torch.nn.LSTM over packed sequences; ``ours`` lends the feature
    layers and the CRF (their weights are copied, not shared)."""

    def __init__(self, ours):
        super().__init__()
        import copy

        self.words, self.chars, self.scores, self.crf = (
            copy.deepcopy(m) for m in (ours.words, ours.chars, ours.scores, ours.crf)
        )
        self.num_cases = ours.num_cases
        self.lstm = torch.nn.LSTM(ours.rnn.input_size, ours.rnn.hidden_size, batch_first=True, bidirectional=True)
        self.lstm.load_state_dict(ours.rnn.state_dict())

    def forward(self, x, lengths):
        features = torch.cat(
            [
                self.words(x[..., 0]),
                torch.nn.functional.one_hot(x[..., 1], self.num_cases).float(),
                self.chars(x[..., 2:]),  # word id, casing, then the characters (no lexicons)
            ],
            dim=-1,
        )
        packed = pack_padded_sequence(features, lengths, batch_first=True, enforce_sorted=False)
        out, _ = pad_packed_sequence(self.lstm(packed)[0], batch_first=True, total_length=x.shape[1])
        return self.scores(out)


def crf_cost(tagger, X, rounds: int) -> dict[str, float]:
    """Microseconds per sentence of the CRF's likelihood (forward + backward) and of Viterbi, batches of 32."""
    scores, lengths = tagger._scores(X[:32])
    mask = torch.arange(scores.shape[1])[None] < lengths[:, None]
    tags = torch.zeros(scores.shape[:2], dtype=torch.long)
    crf = tagger.model_.crf
    timings = {"likelihood_us": [], "viterbi_us": []}
    for _ in range(rounds):
        emissions = scores.clone().requires_grad_(True)
        start = time.perf_counter()
        crf.nll(emissions, tags, mask).backward()
        timings["likelihood_us"].append((time.perf_counter() - start) / 32 * 1e6)
        start = time.perf_counter()
        crf.decode(scores, mask)
        timings["viterbi_us"].append((time.perf_counter() - start) / 32 * 1e6)
    return {name: sorted(values)[len(values) // 2] for name, values in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sentences", type=int, default=800)
    args = parser.parse_args()
    torch.set_num_threads(1)
    X, y = load_wnut17().train
    X, y = X[: args.sentences], y[: args.sentences]
    tagger = SequenceTagger(epochs=1, dropout=0.0, token_dropout=0.0, val_fraction=0.0).fit(X, y)
    inputs, lengths = tagger._tensors(X)
    data = (inputs, tagger._targets(y, X), lengths)
    torch.manual_seed(0)
    ours = tagger._build_model()
    theirs = HandWritten(ours)
    ours_run = trainer_epoch(ours, data, TaggingLoss(ours.crf), BATCH, LR)
    row = compare(ours_run, hand_written_epoch(theirs, data, TaggingLoss(theirs.crf), BATCH, LR), args.rounds, 1)
    tokens = int(lengths.sum())
    ours_weights = {k.replace("rnn.", "lstm."): v for k, v in ours.state_dict().items()}
    gap = max(float((ours_weights[k] - v).abs().max()) for k, v in theirs.state_dict().items())
    # float32 rounding differs between the two LSTMs; Adam's step is about lr for any weight whose gradient is tiny
    # but non-zero, so such a weight can end up to a few steps apart: same work means well under 3 steps of lr.
    assert gap < 3 * LR, f"the two epochs did different work (weights differ by {gap}, more than 3 Adam steps)"
    row |= {
        "tokens": tokens,
        "ours_tokens_per_s": tokens / row["ours_ms"] * 1e3,
        "theirs_tokens_per_s": tokens / row["theirs_ms"] * 1e3,
        "max_weight_difference": gap,
    }
    crf = crf_cost(tagger, X, 20)
    print(f"one epoch over {len(X)} WNUT17 sentences ({tokens} tokens), batch {BATCH}, 1 thread")
    print(
        f"ours {row['ours_tokens_per_s']:.0f} tokens/s, torch.nn by hand {row['theirs_tokens_per_s']:.0f} tokens/s: "
        f"time ratio {row['ratio']:.3f} (max |dw| {gap:.1e})"
    )
    print(
        f"CRF per sentence (K={len(tagger.classes_)}): likelihood + backward {crf['likelihood_us']:.0f} us, "
        f"Viterbi {crf['viterbi_us']:.0f} us"
    )
    write_results("tagger_speed", {"epoch": row, "crf": crf, "batch_size": BATCH})


if __name__ == "__main__":
    main()
