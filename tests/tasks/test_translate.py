"""Seq2Seq learns a made-up language pair a broken model cannot: reversed word order (attention must align) and
names it has never seen (copied through the attention); beam search, persistence and errors."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit.errors import DataError, NotFittedError, ParameterError
from lstmkit.tasks import Seq2Seq, load

LEXICON = {
    "red": "rouge",
    "cat": "chat",
    "dog": "chien",
    "big": "grand",
    "sees": "voit",
    "eats": "mange",
    "the": "le",
    "small": "petit",
    "house": "maison",
    "runs": "court",
    "green": "vert",
    "bird": "oiseau",
}


def reversed_pairs(n: int, seed: int) -> tuple[list[str], list[str]]:
    """Sources of 3-6 words (half with a made-up capitalized name inside); targets: every word translated, in
    reverse order, the name kept as it is."""
    rng = np.random.default_rng(seed)
    sources, targets = [], []
    for _ in range(n):
        words = list(rng.choice(list(LEXICON), rng.integers(3, 7)))
        translated = [LEXICON[w] for w in words]
        if rng.random() < 0.5:
            at = int(rng.integers(0, len(words) + 1))
            name = "".join(rng.choice(list("bdfgklmnprstvz"), 5)).capitalize()
            words.insert(at, name)
            translated.insert(at, name.lower())
        sources.append(" ".join(words) + ".")
        targets.append(" ".join(reversed(translated)) + ".")
    return sources, targets


def small(**options) -> Seq2Seq:
    settings = dict(hidden_size=64, embedding_dim=32, epochs=12, batch_size=32, lr=5e-3, dropout=0.0, patience=None)
    return Seq2Seq(**{**settings, **options})


@pytest.fixture(scope="module")
def fitted() -> Seq2Seq:
    return small().fit(*reversed_pairs(1500, seed=0))


def test_attention_learns_reversal_and_copies_unseen_names(fitted):
    sources, targets = reversed_pairs(200, seed=1)
    predicted = fitted.predict(sources)
    exact = np.mean([p == t for p, t in zip(predicted, targets, strict=True)])
    assert exact > 0.8, predicted[:5]
    assert fitted.score(sources, targets) > 90
    named = [(s, p) for s, p in zip(sources, predicted, strict=True) if any(w[0].isupper() for w in s.split())]
    names = [next(w for w in s.split() if w[0].isupper()).rstrip(".").lower() for s, _ in named]
    assert len(names) > 50 and not any(name in fitted.target_vocabulary_ for name in names)  # never seen: UNK
    copied = np.mean([name in p.replace(".", " ").split() for name, (_, p) in zip(names, named, strict=True)])
    assert copied > 0.8
    fitted.set_params(unknown="drop")
    try:
        dropped = fitted.predict([s for s, _ in named])
    finally:
        fitted.set_params(unknown="copy")
    assert not any(name in p for name, p in zip(names, dropped, strict=True))


def test_without_attention_the_same_budget_reaches_less(fitted):
    sources, targets = reversed_pairs(200, seed=1)
    plain = small(attention_kind="none").fit(*reversed_pairs(1500, seed=0))
    assert plain.score(sources, targets) < fitted.score(sources, targets) - 10


def test_beam_search_and_the_attention_map(fitted):
    sources, targets = reversed_pairs(100, seed=2)
    greedy = fitted.evaluate(sources, targets, beam_size=1)
    beam = fitted.evaluate(sources, targets, beam_size=4)
    assert beam.bleu > 85 and abs(beam.bleu - greedy.bleu) < 10
    source = "the big dog sees the red bird."
    result = fitted.attention(source, "oiseau rouge le voit chien grand le.")
    assert result.weights.shape == (len(result.target_tokens), len(result.source_tokens)) == (9, 8)
    np.testing.assert_allclose(result.weights.sum(axis=1), 1.0, rtol=1e-5)
    # reversal: target word k (of 7) attends most to source word 6 - k
    assert (result.weights[:7, :7].argmax(axis=1) == np.arange(6, -1, -1)).mean() >= 6 / 7
    own = fitted.attention(source)
    assert own.target_tokens[:-1] == fitted.translate_tokens([source])[0]


def test_save_load_gives_the_same_translations(fitted, tmp_path):
    sources, _ = reversed_pairs(20, seed=3)
    fitted.save(tmp_path / "model")
    again = load(tmp_path / "model")
    assert isinstance(again, Seq2Seq) and again.predict(sources) == fitted.predict(sources)
    assert again.predict(sources, beam_size=3) == fitted.predict(sources, beam_size=3)
    assert again.target_vocabulary_ == fitted.target_vocabulary_


def test_fit_is_seeded_and_holds_out_whole_source_groups():
    sources, targets = reversed_pairs(120, seed=4)
    sources, targets = sources + sources[:30], targets + targets[:30]  # 30 sources with a second translation
    a = small(epochs=1, val_fraction=0.2).fit(sources, targets)
    b = small(epochs=1, val_fraction=0.2).fit(sources, targets)
    assert a.history_[0]["val_loss"] == b.history_[0]["val_loss"] and a.predict(sources[:5]) == b.predict(sources[:5])


def test_bad_inputs_and_parameters_are_refused_clearly(fitted):
    with pytest.raises(DataError, match="got 2 sources but 1 targets"):
        small().fit(["a b", "c d"], ["x"])
    with pytest.raises(DataError, match=r"sources\[1\] is empty"):
        small().fit(["a b", " ... "[:1]], ["x", "y"])
    with pytest.raises(DataError, match="expected sources as a non-empty list of strings"):
        small().fit("a b", "x")
    with pytest.raises(DataError, match=r"targets\[0\] is int"):
        small().fit(["a"], [3])
    with pytest.raises(ParameterError, match="even hidden_size"):
        small(hidden_size=63).fit(["a"], ["b"])
    with pytest.raises(ParameterError, match="attention_kind"):
        small(attention_kind="luong").fit(["a"], ["b"])
    with pytest.raises(ParameterError, match="beam_size"):
        fitted.predict(["the cat."], beam_size=0)
    with pytest.raises(DataError, match="references as 1 strings or lists"):
        fitted.evaluate(["the cat."], ["le chat.", "x"])
    with pytest.raises(NotFittedError):
        small().predict(["the cat."])
    with pytest.raises(ParameterError, match="attention_kind='none'"):
        small(attention_kind="none", epochs=1, val_fraction=0.0).fit(["a b"] * 4, ["c d"] * 4).attention("a b")
