"""SequenceClassifier: scikit-learn's contract, masking, learning, persistence and its input checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score

from lstmkit.data.splits import stratified_split
from lstmkit.errors import CheckpointError, DataError, NotFittedError, OutputPathError, ParameterError
from lstmkit.tasks import Forecaster, SequenceClassifier, load
from lstmkit.trace import GateTrace

QUICK = dict(hidden_size=16, epochs=3, batch_size=16, val_fraction=0.0)


def signed_sums(n=200, seed=0):
    """Variable-length (T_i, 2) sequences whose label is the sign of channel 0's sum over the whole sequence."""
    rng = np.random.default_rng(seed)
    X = [rng.normal(size=(int(rng.integers(3, 15)), 2)) for _ in range(n)]
    y = np.array(["pos" if x[:, 0].sum() > 0 else "neg" for x in X])
    return X, y


def phrases(n=120, seed=0):
    rng = np.random.default_rng(seed)
    good, bad, filler = ["great", "love", "superb"], ["awful", "hate", "broken"], ["the", "phone", "it", "was", "a"]
    texts, labels = [], []
    for k in range(n):
        words = list(rng.choice(filler, size=int(rng.integers(2, 6))))
        words.insert(int(rng.integers(0, len(words))), str(rng.choice(good if k % 2 else bad)))
        texts.append(" ".join(words))
        labels.append(k % 2)
    return texts, np.array(labels)


def test_init_stores_parameters_and_clone_gives_an_unfitted_copy():
    classifier = SequenceClassifier(cell="gru", hidden_size=7, pooling="nonsense")  # __init__ checks nothing
    assert classifier.get_params()["hidden_size"] == 7 and classifier.pooling == "nonsense"
    copy = clone(classifier.set_params(hidden_size=9))
    assert copy.hidden_size == 9 and not hasattr(copy, "model_")
    with pytest.raises(ParameterError, match="unknown pooling 'nonsense'"):
        classifier.fit(*signed_sums(20))
    for bad, message in (
        (dict(epochs=0), r"expected epochs to be an integer in \[1, inf\], got 0"),
        (dict(lr=-1.0), r"expected lr in \(0.0, inf\), got -1.0"),
        (dict(hidden_size=2.5), "expected hidden_size to be an integer"),
        (dict(dropout=1.0), r"expected dropout in \[0.0, 1.0\)"),
        (dict(seed=-1), r"expected seed to be an integer in \[0, 9223372036854775807\]"),
        (dict(cell="lstm2"), "unknown cell 'lstm2'"),
        (dict(class_weight="heavy"), "expected class_weight None, 'balanced' or a dict"),
    ):
        with pytest.raises(ParameterError, match=message):
            SequenceClassifier(**bad).fit(*signed_sums(20))


def test_learns_variable_length_sequences_a_broken_model_cannot():
    X, y = signed_sums(400)
    classifier = SequenceClassifier(hidden_size=24, epochs=25, lr=1e-2, seed=0).fit(X[:300], y[:300])
    assert list(classifier.classes_) == ["neg", "pos"]
    assert classifier.score(X[300:], y[300:]) >= 0.85  # chance 0.5 (sd 0.05 over 100 cases)
    probabilities = classifier.predict_proba(X[300:])
    np.testing.assert_allclose(probabilities.sum(1), 1, rtol=1e-6)
    assert (classifier.classes_[probabilities.argmax(1)] == classifier.predict(X[300:])).all()
    assert classifier.history_[-1]["val_accuracy"] >= 0.8  # the validation part is monitored


@pytest.mark.parametrize("pooling", ["last", "mean", "max", "attention"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_a_padded_batch_scores_each_case_as_it_would_alone(pooling, bidirectional):
    X, y = signed_sums(30)
    classifier = SequenceClassifier(pooling=pooling, bidirectional=bidirectional, **QUICK).fit(X, y)
    together = classifier.decision_function(X[:8])
    alone = np.concatenate([classifier.decision_function([x]) for x in X[:8]])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_attention_and_gate_trace_of_one_case():
    X, y = signed_sums(30)
    classifier = SequenceClassifier(pooling="attention", **QUICK).fit(X, y)
    weights = classifier.attention(X[0])
    assert weights.shape == (len(X[0]),) and weights.sum() == pytest.approx(1.0, abs=1e-6) and (weights > 0).all()
    trace = classifier.trace(X[0])
    assert isinstance(trace, GateTrace)
    layer = trace.layer(0)
    np.testing.assert_allclose(
        layer["c"][1:, 0], layer["f"][1:, 0] * layer["c"][:-1, 0] + layer["i"][1:, 0] * layer["g"][1:, 0], atol=1e-5
    )
    with pytest.raises(ParameterError, match="pooling='attention'"):
        SequenceClassifier(**QUICK).fit(X, y).attention(X[0])


def test_texts_use_a_vocabulary_built_on_the_training_part_only():
    texts, labels = phrases(120)
    texts[3] = "zyzzyva great"  # a word seen once
    classifier = SequenceClassifier(hidden_size=16, embedding_dim=16, epochs=30, lr=1e-2, val_fraction=0.2)
    classifier.fit(texts, labels)
    train, val = stratified_split(np.unique(labels, return_inverse=True)[1], 0.2, 0)
    assert ("zyzzyva" in classifier.vocabulary_) == (3 in train)
    assert classifier.score(*phrases(60, seed=1)) >= 0.95  # chance 0.5: it found the sentiment words
    assert classifier.predict(["never seen words only"]).shape == (1,)


def test_word_dropout_replaces_tokens_by_unk_in_training_only():
    from lstmkit.tasks.modules import SequenceEncoder

    torch.manual_seed(0)
    encoder = SequenceEncoder(vocab_size=50, embedding_dim=4, hidden_size=3, token_dropout=0.3)
    ids = torch.randint(4, 50, (200, 30))
    ids[:, 20:] = 0  # padding
    seen = []
    encoder.embedding.register_forward_pre_hook(lambda module, args: seen.append(args[0]))  # the ids it embeds
    encoder.train()
    encoder.embed(ids)
    dropped = seen[-1] == 1
    assert dropped[:, 20:].sum() == 0 and (seen[-1][:, 20:] == 0).all()  # padding stays padding
    assert abs(dropped[:, :20].float().mean().item() - 0.3) < 0.02  # 4,000 tokens: sd 0.007
    assert (seen[-1][~dropped] == ids[~dropped]).all()
    encoder.eval()
    encoder.embed(ids)
    assert torch.equal(seen[-1], ids)


def test_standardization_is_fit_on_the_training_part_only():
    X, y = signed_sums(50)
    X = [x * 10 + 3 for x in X]
    classifier = SequenceClassifier(**{**QUICK, "val_fraction": 0.2}).fit(X, y)
    train, _ = stratified_split(np.unique(y, return_inverse=True)[1], 0.2, 0)
    steps = np.concatenate([X[i] for i in train])
    np.testing.assert_allclose(classifier.standardizer_.mean, steps.mean(0))
    np.testing.assert_allclose(classifier.standardizer_.std, steps.std(0))


def test_class_weights_follow_the_training_part():
    X, y = signed_sums(60)
    y = np.where(np.arange(60) < 45, "common", "rare")
    balanced = SequenceClassifier(class_weight="balanced", **QUICK).fit(X, y)
    np.testing.assert_allclose(balanced.class_weight_, [60 / (2 * 45), 60 / (2 * 15)], rtol=1e-6)  # n / (K n_k)
    chosen = SequenceClassifier(class_weight={"rare": 4.0}, **QUICK).fit(X, y)
    np.testing.assert_array_equal(chosen.class_weight_, [1.0, 4.0])
    assert SequenceClassifier(**QUICK).fit(X, y).class_weight_ is None
    with pytest.raises(ParameterError, match="class_weight names"):
        SequenceClassifier(class_weight={"unknown": 2.0}, **QUICK).fit(X, y)


def test_works_inside_scikit_learn():
    X, y = signed_sums(60)
    scores = cross_val_score(SequenceClassifier(**QUICK), X, y, cv=3)
    by_hand = [
        SequenceClassifier(**QUICK).fit([X[i] for i in train], y[train]).score([X[i] for i in test], y[test])
        for train, test in StratifiedKFold(3).split(np.zeros(len(y)), y)
    ]
    np.testing.assert_array_equal(scores, by_hand)  # the same folds, clones and seeds: the same numbers
    texts, labels = phrases(60)
    search = GridSearchCV(SequenceClassifier(**QUICK), {"cell": ["lstm", "gru"]}, cv=2).fit(texts, labels)
    assert search.best_params_["cell"] in ("lstm", "gru") and hasattr(search.best_estimator_, "vocabulary_")
    X3 = np.stack([np.resize(x, (5, 2)) for x in X])  # one (N, T, C) array
    assert SequenceClassifier(**QUICK).fit(X3, y).predict(X3[:4]).shape == (4,)


def test_save_and_load_give_the_same_probabilities(tmp_path):
    for X, y, options in ((*signed_sums(40), {"cell": "peephole", "pooling": "max"}), (*phrases(40), {"cell": "gru"})):
        classifier = SequenceClassifier(**QUICK, **options).fit(X, y)
        folder = tmp_path / options["cell"]
        classifier.save(folder)
        loaded = load(folder)
        assert isinstance(loaded, SequenceClassifier) and loaded.get_params() == classifier.get_params()
        np.testing.assert_array_equal(loaded.predict_proba(X), classifier.predict_proba(X))
        assert loaded.history_ == classifier.history_
    with pytest.raises(CheckpointError, match="holds a saved SequenceClassifier, not a Forecaster"):
        Forecaster.load(tmp_path / "gru")


def test_save_never_replaces_what_lstmkit_did_not_write(tmp_path):
    classifier = SequenceClassifier(**QUICK).fit(*signed_sums(20))
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    with pytest.raises(OutputPathError, match="not an lstmkit model folder"):
        classifier.save(folder)
    assert (folder / "notes.txt").read_text() == "keep me" and [p.name for p in folder.iterdir()] == ["notes.txt"]
    file = tmp_path / "file.txt"
    file.write_text("data")
    for target in (file, file / "model"):
        with pytest.raises(OutputPathError):
            classifier.save(target, overwrite=True)
    assert file.read_text() == "data"
    classifier.save(tmp_path / "model")
    with pytest.raises(OutputPathError, match="pass overwrite=True"):
        classifier.save(tmp_path / "model")
    classifier.save(tmp_path / "model", overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt", "mine", "model"]  # nothing else written


@pytest.mark.parametrize(
    "X, y, message",
    [
        ([np.ones((3, 2))] * 4, ["a"] * 4, "only one class"),
        (["good", "", "bad", "ok"], [0, 1, 0, 1], r"X\[1\] is an empty text"),
        (["good", "  ", "bad", "ok"], [0, 1, 0, 1], r"X\[1\] is an empty text"),
        (
            [np.ones((3, 2)), np.array([[1.0, np.nan]]), np.ones((2, 2)), np.ones((2, 2))],
            [0, 1, 0, 1],
            "NaN or infinite",
        ),
        ([np.ones((3, 2)), np.ones((3, 3)), np.ones((2, 2)), np.ones((2, 2))], [0, 1, 0, 1], "has 3 channels"),
        ([np.ones((3, 2))] * 4, [0, 1, 0], r"expected y as 4 labels"),
        (["good", np.ones(3), "bad", "ok"], [0, 1, 0, 1], "expected one kind of input"),
        ([], [], "non-empty list"),
    ],
)
def test_bad_inputs_are_refused_with_the_case_named(X, y, message):
    with pytest.raises(DataError, match=message):
        SequenceClassifier(**QUICK).fit(X, y)


def test_predict_before_fit_and_on_the_wrong_kind_of_input():
    with pytest.raises(NotFittedError, match="call fit"):
        SequenceClassifier().predict([np.ones((2, 1))])
    classifier = SequenceClassifier(**QUICK).fit(*phrases(20))
    with pytest.raises(DataError, match="fitted on texts"):
        classifier.predict([np.ones((2, 1))])
    numeric = SequenceClassifier(**QUICK).fit(*signed_sums(20))
    with pytest.raises(DataError, match="expected 2 channels per step, got 3"):
        numeric.predict([np.ones((2, 3))])
