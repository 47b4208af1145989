"""The translation parts against independent references: BLEU by hand, attention by its formula, the network's
teacher-forced pass against its own steps, padding against rows run alone, beam search against brute force."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import pytest
import sacrebleu
import torch

from lstmkit.errors import DataError
from lstmkit.tasks.decoding import beam_search, greedy_search, select
from lstmkit.tasks.encoder_decoder import Attention, TranslationNet
from lstmkit.tasks.metrics import reference_streams, translation_scores

# ---- BLEU ------------------------------------------------------------------------------------------------------


def bleu_by_hand(hypotheses: list[str], references: list[list[str]]) -> float:
    """Papineni et al. 2002 on whitespace tokens: clipped n-gram precisions (n <= 4, clipped by the most any one
    reference has), their geometric mean, the brevity penalty against the closest reference length."""
    matches, totals, hyp_length, ref_length = [0] * 4, [0] * 4, 0, 0
    for hypothesis, refs in zip(hypotheses, references, strict=True):
        words, ref_words = hypothesis.split(), [r.split() for r in refs]
        hyp_length += len(words)
        ref_length += min((abs(len(r) - len(words)), len(r)) for r in ref_words)[1]
        for n in range(1, 5):
            grams = Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
            most = Counter()
            for r in ref_words:
                most |= Counter(tuple(r[i : i + n]) for i in range(len(r) - n + 1))
            matches[n - 1] += sum(min(count, most[g]) for g, count in grams.items())
            totals[n - 1] += max(len(words) - n + 1, 0)
    log_precision = sum(math.log(m / t) for m, t in zip(matches, totals, strict=True)) / 4
    brevity = min(1.0, math.exp(1 - ref_length / hyp_length))
    return 100 * brevity * math.exp(log_precision)


def test_multi_reference_bleu_equals_the_formula_by_hand():
    hypotheses = ["the cat sat on the mat today", "there is a small dog in the old house", "he reads a good book now"]
    references = [
        ["the cat sat on the mat", "a cat was sitting on the mat today"],
        ["there is a dog in the old house"],
        ["he is reading a good book now", "he reads a book now", "now he reads a good book"],
    ]
    scores = translation_scores(hypotheses, references)
    assert scores.bleu == pytest.approx(bleu_by_hand(hypotheses, references), abs=1e-9)
    assert "nrefs:var" in scores.bleu_signature and "case:lc" in scores.bleu_signature
    assert scores.chrf == pytest.approx(sacrebleu.corpus_chrf(hypotheses, reference_streams(references)).score)
    single = translation_scores(hypotheses, [refs[:1] for refs in references])
    assert scores.bleu > single.bleu  # more references can only match more n-grams here
    assert translation_scores(["The Cat"], [["the cat"]]).bleu == pytest.approx(
        translation_scores(["the cat"], [["the cat"]]).bleu
    )


def test_reference_streams_pad_missing_references_with_none():
    assert reference_streams([["a", "b"], ["c"], ["d", "e", "f"]]) == [
        ["a", "c", "d"],
        ["b", None, "e"],
        [None, None, "f"],
    ]
    with pytest.raises(DataError, match="one list of references per hypothesis"):
        translation_scores(["a"], [["a"], ["b"]])
    with pytest.raises(DataError, match="non-empty list of strings"):
        translation_scores(["a"], ["a"])


# ---- attention and the network ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["dot", "general", "additive"])
def test_attention_follows_its_formula_and_ignores_padding(kind):
    torch.manual_seed(0)
    attention = Attention(kind, 6).double()
    memory, query = torch.randn(2, 5, 6, dtype=torch.float64), torch.randn(2, 6, dtype=torch.float64)
    mask = torch.tensor([[True] * 5, [True, True, True, False, False]])
    context, weights = attention(query, memory, attention.keys(memory), mask)
    for n in range(2):
        valid = memory[n, mask[n]]  # (S_n, H)
        if kind == "dot":
            scores = valid @ query[n]
        elif kind == "general":
            scores = (valid @ attention.weight.weight.T) @ query[n]
        else:
            hidden = valid @ attention.memory_weight.weight.T + attention.query_weight(query[n])
            scores = torch.tanh(hidden) @ attention.v.weight[0]
        expected = torch.softmax(scores, dim=0)
        torch.testing.assert_close(weights[n, mask[n]], expected)
        torch.testing.assert_close(context[n], expected @ valid)
    assert (weights[1, 3:] == 0).all()


def tiny_net(attention: str = "general", cell: str = "lstm", input_feeding: bool = True) -> TranslationNet:
    torch.manual_seed(1)
    net = TranslationNet(
        source_vocab=11,
        target_vocab=9,
        embedding_dim=5,
        hidden_size=6,
        num_layers=2,
        cell=cell,
        attention=attention,
        input_feeding=input_feeding,
        dropout=0.0,
    )
    return net.double().eval()


def pair_batch():
    """Two pairs as the estimator lays them out: (N, L, 2) ids (source | BOS y_1..), lengths = the longer."""
    inputs = torch.zeros(2, 5, 2, dtype=torch.long)
    inputs[0, :5, 0] = torch.tensor([4, 5, 6, 7, 8])
    inputs[0, :3, 1] = torch.tensor([2, 4, 5])
    inputs[1, :2, 0] = torch.tensor([9, 10])
    inputs[1, :4, 1] = torch.tensor([2, 6, 7, 8])
    return inputs, torch.tensor([5, 4])


@pytest.mark.parametrize(
    ("attention", "cell", "feeding"),
    [("general", "lstm", True), ("additive", "gru", True), ("dot", "peephole", False), ("none", "lstm", False)],
)
def test_the_teacher_forced_pass_equals_its_steps_and_each_pair_alone(attention, cell, feeding):
    net = tiny_net(attention, cell, feeding)
    inputs, lengths = pair_batch()
    with torch.no_grad():
        logits = net(inputs, lengths)  # (2, 5, 9)
        assert logits.shape == (2, 5, 9) and (logits[:, 4] == 0).all()  # the longest target has 4 steps
        for n in range(2):
            source = inputs[n : n + 1, : int((inputs[n, :, 0] > 0).sum()), 0]
            memory, carry = net.encode(source, torch.tensor([source.shape[1]]))
            for t in range(int((inputs[n, :, 1] > 0).sum())):
                step_logits, carry, weights = net.step(inputs[n : n + 1, t, 1], carry, memory)
                torch.testing.assert_close(step_logits[0], logits[n, t])
                assert (weights is None) == (attention == "none")


# ---- decoding ----------------------------------------------------------------------------------------------------


class MarkovStep:
    """A toy decoder whose logits depend on the previous token and the input row: a random table (R, V, V); the
    carry holds each row's input index, so ``select`` must move it with its hypotheses."""

    def __init__(self, rows: int, vocab: int, seed: int):
        self.table = torch.randn(rows, vocab, vocab, generator=torch.Generator().manual_seed(seed)) * 2

    def __call__(self, previous, carry):
        (row,) = carry
        return self.table[row, previous], carry, None

    def log_prob(self, row: int, sequence: list[int], bos: int) -> float:
        total, previous = 0.0, bos
        for token in sequence:
            total += float(torch.log_softmax(self.table[row, previous], dim=-1)[token])
            previous = token
        return total


def brute_force_best(step: MarkovStep, row: int, vocab: int, bos: int, eos: int, limit: int, alpha: float):
    """Every sequence of at most ``limit`` tokens that ends at EOS, or is cut at ``limit`` without one."""
    best, best_score = None, -math.inf
    for length in range(1, limit + 1):
        for body in itertools.product([t for t in range(vocab) if t != eos], repeat=length - 1):
            for last in range(vocab):
                sequence = [*body, last]
                if last != eos and length < limit:
                    continue
                words = list(body) if last == eos else sequence
                score = step.log_prob(row, sequence, bos) / max(len(words), 1) ** alpha
                if score > best_score:
                    best, best_score = words, score
    return best


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_beam_search_wide_enough_finds_the_brute_force_best(alpha):
    rows, vocab, bos, eos, limit = 3, 4, 0, 3, 4
    step = MarkovStep(rows, vocab, seed=5)
    beam = vocab**limit  # wider than the number of hypotheses: nothing is ever pruned
    carry = (torch.arange(rows).repeat_interleave(beam),)
    decoded = beam_search(step, carry, rows, bos, eos, limit, beam, alpha)
    for row in range(rows):
        assert decoded.tokens[row] == brute_force_best(step, row, vocab, bos, eos, limit, alpha)
    assert decoded.source_positions == [[-1] * len(t) for t in decoded.tokens]


def test_beam_search_batched_equals_each_row_alone_and_greedy_follows_the_argmax():
    rows, vocab, bos, eos, beam = 4, 7, 0, 6, 3
    step = MarkovStep(rows, vocab, seed=9)
    limits = torch.tensor([5, 8, 3, 8])
    together = beam_search(step, (torch.arange(rows).repeat_interleave(beam),), rows, bos, eos, limits, beam)
    for row in range(rows):
        alone = beam_search(step, (torch.full((beam,), row),), 1, bos, eos, int(limits[row]), beam)
        assert alone.tokens[0] == together.tokens[row] and len(together.tokens[row]) <= limits[row]
    greedy = greedy_search(step, (torch.arange(rows),), rows, bos, eos, limits)
    for row in range(rows):
        previous, expected = bos, []
        while len(expected) < limits[row]:
            previous = int(step.table[row, previous].argmax())
            if previous == eos:
                break
            expected.append(previous)
        assert greedy.tokens[row] == expected
    assert select((torch.arange(4), (torch.arange(4) * 2,)), torch.tensor([3, 0]))[1][0].tolist() == [6, 0]


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_token_cross_entropy_equals_torch_with_ignored_padding(smoothing):
    from lstmkit.nn.losses import TokenCrossEntropy

    logits = torch.randn(3, 4, 7, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    targets = torch.tensor([[1, 2, 3, 0], [4, 0, 0, 0], [5, 6, 1, 2]])
    expected = torch.nn.functional.cross_entropy(
        logits.reshape(-1, 7), targets.reshape(-1), ignore_index=0, label_smoothing=smoothing
    )
    torch.testing.assert_close(TokenCrossEntropy(0, smoothing)(logits, targets), expected)


def test_without_sacrebleu_the_scores_say_how_to_install_it(monkeypatch):
    import sys

    from lstmkit.errors import ParameterError

    monkeypatch.setitem(sys.modules, "sacrebleu.metrics", None)  # what an environment without it imports
    with pytest.raises(ParameterError, match=r'pip install "lstmkit\[translate\]"'):
        translation_scores(["a b"], [["a b"]])
