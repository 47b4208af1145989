"""Entity chunks and scores against seqeval (conlleval-compatible mode), the CRF against brute force."""

from __future__ import annotations

import itertools
import random
import warnings

import pytest
import torch

from lstmkit.data.tags import entities
from lstmkit.tasks.crf import CRF, bio_constraints
from lstmkit.tasks.metrics import entity_scores, surface_scores

seqeval = pytest.importorskip("seqeval.metrics")
TAGS = ["O", "B-PER", "I-PER", "E-PER", "S-PER", "B-LOC", "I-LOC", "E-LOC", "S-LOC", "B-corp-x", "I-corp-x", "O"]


def random_corpus(rng: random.Random, sentences: int, tags=TAGS) -> list[list[str]]:
    return [[rng.choice(tags) for _ in range(rng.randint(1, 9))] for _ in range(sentences)]


def test_chunks_match_seqeval_on_random_and_ill_formed_sequences():
    from seqeval.metrics.sequence_labeling import get_entities

    rng = random.Random(0)
    for tags in random_corpus(rng, 5000):
        assert entities(tags) == get_entities(tags)
    assert entities(["I-PER", "I-PER", "O", "B-PER", "I-LOC"]) == [("PER", 0, 1), ("PER", 3, 3), ("LOC", 4, 4)]


def test_entity_scores_match_seqeval_overall_and_per_type():
    rng = random.Random(1)
    for _ in range(200):
        gold = random_corpus(rng, rng.randint(1, 12))
        noisy = [[t if rng.random() < 0.6 else rng.choice(TAGS) for t in s] for s in gold]
        ours = entity_scores(gold, noisy)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # seqeval warns about undefined scores (no predicted chunk)
            assert ours["precision"] == pytest.approx(seqeval.precision_score(gold, noisy))
            assert ours["recall"] == pytest.approx(seqeval.recall_score(gold, noisy))
            assert ours["f1"] == pytest.approx(seqeval.f1_score(gold, noisy))
            report = seqeval.classification_report(gold, noisy, output_dict=True)
        for kind, values in ours["per_type"].items():
            if values["support"]:
                assert values["f1"] == pytest.approx(report[kind]["f1-score"])
                assert values["support"] == report[kind]["support"]


def test_surface_scores_count_each_entity_text_once():
    tokens = [["Paris", "is", "big"], ["Paris", "again"], ["New", "York"]]
    gold = [["S-LOC", "O", "O"], ["B-LOC", "O"], ["B-LOC", "I-LOC"]]
    predicted = [["B-LOC", "O", "O"], ["O", "O"], ["B-PER", "I-PER"]]
    scores = surface_scores(tokens, gold, predicted)  # gold forms {Paris, New York}; predicted {Paris, PER New York}
    assert scores["precision"] == 0.5 and scores["recall"] == 0.5 and scores["f1"] == 0.5
    assert entity_scores(gold, predicted)["correct"] == 1  # the Paris of sentence 1 only


def brute_force(crf: CRF, emissions: torch.Tensor, length: int) -> tuple[torch.Tensor, list[int]]:
    """log Z and the best path of one sentence, over all K^length paths."""
    trans, start, end = crf._scores()
    scores = {}
    for path in itertools.product(range(emissions.shape[-1]), repeat=length):
        s = start[path[0]] + end[path[-1]] + sum(emissions[t, y] for t, y in enumerate(path))
        s = s + sum(trans[a, b] for a, b in itertools.pairwise(path))
        scores[path] = s
    values = torch.stack(list(scores.values()))
    return torch.logsumexp(values, 0), list(max(scores, key=lambda p: scores[p]))


def test_crf_partition_path_score_and_viterbi_equal_brute_force_with_masks():
    torch.manual_seed(0)
    K, lengths = 3, [4, 1, 3, 2]
    crf = CRF(K).double()
    with torch.no_grad():
        for p in crf.parameters():
            p.normal_()
    emissions = torch.randn(len(lengths), 4, K, dtype=torch.float64)
    mask = torch.arange(4)[None] < torch.tensor(lengths)[:, None]
    tags = torch.randint(0, K, (len(lengths), 4))
    log_z = crf.log_partition(emissions, mask)
    paths = crf.decode(emissions, mask)
    trans, start, end = crf._scores()
    for n, length in enumerate(lengths):
        expected_z, best = brute_force(crf, emissions[n], length)
        assert log_z[n].item() == pytest.approx(expected_z.item(), abs=1e-10)
        assert paths[n] == best
        y = tags[n, :length].tolist()
        manual = start[y[0]] + end[y[-1]] + sum(emissions[n, t, v] for t, v in enumerate(y))
        manual = manual + sum(trans[a, b] for a, b in itertools.pairwise(y))
        assert crf.path_score(emissions, tags, mask)[n].item() == pytest.approx(manual.item(), abs=1e-10)
    nll = crf.nll(emissions, tags, mask)
    nll.backward()  # differentiable in the transitions
    assert nll.item() > 0 and crf.transitions.grad.abs().sum() > 0


def test_bio_constraints_make_viterbi_return_well_formed_sequences():
    tags = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    crf = CRF(len(tags), bio_constraints(tags))
    emissions = torch.randn(64, 7, len(tags)) * 3
    mask = torch.arange(7)[None] < torch.randint(1, 8, (64,))[:, None]
    for path in crf.decode(emissions, mask):
        named = [tags[k] for k in path]
        for before, after in itertools.pairwise(["O", *named]):
            if after.startswith("I-"):
                assert before[2:] == after[2:], named
