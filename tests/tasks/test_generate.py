"""TextGenerator: it learns a text whose entropy is known (random words from a small lexicon) down to near that
entropy, which no broken model reaches; its score equals torch.nn.LSTM's on the same weights; sampling is seeded,
streamed with the state carried (equal to re-reading), and top-k / top-p / temperature draw from the right
distribution; what its cells hold equals torch's; the interpretation measures equal scikit-learn's and NumPy's."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from lstmkit.data.text import parallel_streams, split_text, text_features
from lstmkit.errors import DataError, NotFittedError, ParameterError
from lstmkit.tasks import TextGenerator, load
from lstmkit.tasks import generate as generate_module
from lstmkit.tasks.baselines import CharNGram
from lstmkit.tasks.decoding import sample
from lstmkit.tasks.interpret import find_cells, unit_aucs, unit_correlations

WORDS = "thee thou art king lord night sweet love death speak good well fair heart come make tell hand eyes blood"
LEXICON = WORDS.split()


def lexicon_text(words: int, seed: int) -> str:
    """Words drawn uniformly from LEXICON, a space between them and a line break after every eighth."""
    rng = np.random.default_rng(seed)
    drawn = rng.choice(LEXICON, size=words)
    return "".join(w + ("\n" if k % 8 == 7 else " ") for k, w in enumerate(drawn))


def entropy_rate() -> float:
    """Nats per character of ``lexicon_text``: log(20) per word spread over its characters and the separator
    (which separator comes is fixed by the position, so it costs nothing)."""
    return math.log(len(LEXICON)) / (np.mean([len(w) for w in LEXICON]) + 1)


@pytest.fixture(scope="module")
def fitted():
    torch.set_num_threads(1)
    model = TextGenerator(
        hidden_size=64,
        num_layers=1,
        embedding_dim=16,
        dropout=0.0,
        sequence_length=32,
        batch_size=16,
        epochs=6,
        lr=1e-2,
        patience=None,
    )
    return model.fit(lexicon_text(4000, seed=0))


def torch_twin(model: TextGenerator) -> tuple[torch.nn.Embedding, torch.nn.LSTM, torch.nn.Linear]:
    """torch.nn modules holding the fitted weights (lstmkit's names and layout are torch's)."""
    net = model.model_
    embedding = torch.nn.Embedding.from_pretrained(net.embedding.weight.detach().clone())
    lstm = torch.nn.LSTM(model.embedding_dim, model.hidden_size, model.num_layers, batch_first=True)
    lstm.load_state_dict(net.rnn.state_dict())
    output = torch.nn.Linear(model.hidden_size, len(model.vocabulary_))
    output.load_state_dict(net.output.state_dict())
    return embedding, lstm, output


def test_learns_the_text_down_to_near_its_entropy(fitted):
    held_out = lexicon_text(600, seed=1)
    score = fitted.score(held_out)
    unigram = CharNGram(order=1).fit(lexicon_text(4000, seed=0)).nats_per_char(held_out)
    assert score.nats_per_char < 1.25 * entropy_rate()  # 0.57 nats: what knowing the lexicon gives
    assert unigram > 2.5 * entropy_rate()  # what a model that learned no words gets
    assert score.bits_per_char == pytest.approx(score.nats_per_char / math.log(2))
    assert score.tokens == len(held_out) - 1
    history = [row["val_loss"] for row in fitted.history_]
    assert history[-1] < history[0]


def test_score_equals_torch_lstm_on_the_same_weights(fitted, monkeypatch):
    text = lexicon_text(60, seed=2)
    embedding, lstm, output = torch_twin(fitted)
    ids = torch.tensor([fitted.vocabulary_.encode(list(text))])
    with torch.no_grad():
        logits = output(lstm(embedding(ids))[0])[0]  # (T, V)
        expected = torch.nn.functional.cross_entropy(logits[:-1], ids[0, 1:]).item()
    monkeypatch.setattr(generate_module, "SCORE_CHUNK", 7)  # the state carried across many chunk boundaries
    assert fitted.score(text).nats_per_char == pytest.approx(expected, abs=1e-5)


def test_generation_streams_the_state_equal_to_rereading(fitted):
    prime = "sweet love "
    greedy = fitted.generate(prime, 40, top_k=1, seed=0)
    embedding, lstm, output = torch_twin(fitted)
    text = prime
    with torch.no_grad():
        for _ in range(40):  # the guides' loop: re-read everything, take the most likely next character
            ids = torch.tensor([fitted.vocabulary_.encode(list(text))])
            logits = output(lstm(embedding(ids))[0])[0, -1]
            logits[:4] = -math.inf  # special tokens are never generated
            text += fitted.vocabulary_.itos[int(logits.argmax())]
    assert greedy == text[len(prime) :]
    assert set(greedy.split()) <= set(LEXICON)  # every greedy word is a real one


def test_sampling_is_seeded_and_draws_lexicon_words(fitted):
    first, again = fitted.generate("", 300, seed=5), fitted.generate("", 300, seed=5)
    assert first == again and len(first) == 300
    assert fitted.generate("", 300, seed=6) != first
    words = first.split()[:-1]  # the last may be cut off
    assert np.mean([w in LEXICON for w in words]) > 0.9
    cold = fitted.generate("thou ", 200, temperature=0.2, seed=1)
    assert all(w in LEXICON for w in cold.split()[:-1])


def test_stop_string_and_bad_arguments(fitted):
    line = fitted.generate("king ", 500, seed=3, stop="\n")
    assert "\n" not in line and len(line) < 200
    assert fitted.generate("king ", 500, seed=3).startswith(line + "\n")
    with pytest.raises(DataError, match=r"never saw in training: 'QZ'"):
        fitted.generate("Zounds Q", 10)
    assert fitted.generate("king ", 300) != fitted.generate("king ", 300)  # no seed: a fresh draw each time
    for bad in ({"temperature": 0}, {"top_k": 0}, {"top_p": 1.5}, {"length": 0}, {"stop": ""}):
        with pytest.raises(ParameterError):
            fitted.generate("king", **({"length": 5} | bad))
    with pytest.raises(NotFittedError):
        TextGenerator().generate("a")
    with pytest.raises(DataError, match="empty"):
        TextGenerator().fit("   ")
    with pytest.raises(DataError, match="too few for 32 parallel streams"):
        TextGenerator(val_fraction=0.5).fit("abcdefgh" * 5)


def test_sample_draws_from_the_kept_renormalized_distribution():
    logits = torch.tensor([[2.0, 1.0, 0.5, 0.0, -1.0, -math.inf]])
    draws = 40_000

    def frequencies(**options) -> np.ndarray:
        generator = torch.Generator().manual_seed(0)
        drawn = sample(logits.expand(draws, -1), generator=generator, **options)
        return np.bincount(drawn.numpy(), minlength=6) / draws

    def expected(keep, temperature=1.0) -> np.ndarray:
        p = np.exp(logits[0].numpy() / temperature) * keep
        return p / p.sum()

    probabilities = torch.softmax(logits[0], 0).numpy()
    assert frequencies() == pytest.approx(expected(np.ones(6)), abs=0.01)
    assert frequencies(temperature=0.5) == pytest.approx(expected(np.ones(6), 0.5), abs=0.01)
    assert frequencies(top_k=2) == pytest.approx(expected(np.array([1, 1, 0, 0, 0, 0])), abs=0.01)
    # nucleus by brute force: the most likely tokens until their mass reaches p
    for top_p in (0.5, 0.7, 0.9, 0.99):
        keep = np.zeros(6)
        for k in np.argsort(-probabilities):
            keep[k] = 1
            if (probabilities * keep).sum() >= top_p:
                break
        assert frequencies(top_p=top_p) == pytest.approx(expected(keep), abs=0.01)
    assert frequencies(top_p=1e-6).tolist() == [1.0, 0, 0, 0, 0, 0]  # the most likely token always stays


def test_cell_states_equal_torch_lstm_steps(fitted):
    text = "fair night "
    embedding, lstm, _ = torch_twin(fitted)
    ids = torch.tensor([fitted.vocabulary_.encode(list(text))])
    expected, state = [], None
    with torch.no_grad():
        for t in range(ids.shape[1]):
            _, state = lstm(embedding(ids[:, t : t + 1]), state)
            expected.append(state[1][:, 0].numpy())  # (L, H): c after step t
    states = fitted.cell_states(text)
    assert states.shape == (len(text), 1, 64)
    np.testing.assert_allclose(states, np.stack(expected), atol=1e-5)


def test_save_and_load_give_the_same_model(fitted, tmp_path):
    fitted.save(tmp_path / "model")
    again = load(tmp_path / "model")
    assert isinstance(again, TextGenerator) and again.vocabulary_ == fitted.vocabulary_
    text = lexicon_text(50, seed=4)
    assert again.score(text) == fitted.score(text)
    assert again.generate("love ", 60, seed=2) == fitted.generate("love ", 60, seed=2)


def test_interpretable_cells_find_the_units_that_track_words(fitted):
    matches = fitted.interpretable_cells(lexicon_text(300, seed=7), top=2)
    assert {m.feature for m in matches} == {"inside a word", "position in line"}
    assert all(0.5 <= m.value <= 1 for m in matches if m.measure == "AUC")
    word = max(m.value for m in matches if m.feature == "inside a word")
    assert word > 0.8  # spaces reset the units a word builds up: any trained model has such a unit


def test_word_level_generates_known_words():
    text = lexicon_text(3000, seed=0)
    model = TextGenerator(
        level="word",
        hidden_size=32,
        num_layers=1,
        embedding_dim=16,
        dropout=0.0,
        sequence_length=16,
        batch_size=8,
        epochs=2,
        lr=1e-2,
    )
    model.fit(text)
    sample_text = model.generate("sweet", 30, seed=0)
    assert set(sample_text.split()) <= set(LEXICON)
    score = model.score(lexicon_text(200, seed=1))
    assert score.nats_per_token == pytest.approx(math.log(20), abs=0.25)  # uniform words: log 20 per word
    assert score.nats_per_char < score.nats_per_token
    with pytest.raises(ParameterError, match="level='char'"):
        model.interpretable_cells("sweet love")


# ---- the parts ---------------------------------------------------------------------------------


def test_text_features_by_brute_force():
    text = 'He said "go (now)" and\nleft (it "done")\nend'
    features = text_features(text)
    quotes, depth, column = False, 0, 0
    for k, character in enumerate(text):
        was_inside = quotes
        if character == '"':
            quotes = not quotes
        assert features["inside quotes"][k] == float(quotes or was_inside)
        depth += character == "("
        assert features["inside parentheses"][k] == float(depth > 0)
        depth -= character == ")"
        assert features["inside a word"][k] == float(character.isalnum() or character == "'")
        assert features["position in line"][k] == (0 if character == "\n" else column)
        column = 0 if character == "\n" else column + 1
    assert "inside quotes" not in text_features("no quotes here\nat all")


def test_split_and_parallel_streams():
    assert split_text("abcdefghij", 0.1) == ("abcdefghi", "j")
    streams = parallel_streams(np.arange(23), 4)  # 5 per stream, the last 3 dropped
    assert streams.shape == (5, 4)
    assert streams[:, 2].tolist() == [10, 11, 12, 13, 14]
    with pytest.raises(DataError, match="too short"):
        parallel_streams(np.arange(7), 4)


def test_unit_measures_equal_sklearn_and_numpy():
    rng = np.random.default_rng(0)
    activations = rng.normal(size=(300, 7))
    activations[:, 3] = np.round(activations[:, 3], 1)  # ties
    labels = (rng.random(300) < 0.3).astype(float)
    expected = [roc_auc_score(labels, activations[:, u]) for u in range(7)]
    np.testing.assert_allclose(unit_aucs(activations, labels), expected, atol=1e-12)
    values = rng.normal(size=300)
    expected = [np.corrcoef(activations[:, u], values)[0, 1] for u in range(7)]
    np.testing.assert_allclose(unit_correlations(activations, values), expected, atol=1e-12)


def test_find_cells_finds_planted_units():
    rng = np.random.default_rng(1)
    states = rng.normal(size=(500, 2, 10))
    inside = (rng.random(500) < 0.4).astype(float)
    position = rng.integers(0, 40, size=500).astype(float)
    states[:, 1, 7] = -inside + 0.3 * rng.normal(size=500)  # goes down inside
    states[:, 0, 2] = position / 40 + 0.1 * rng.normal(size=500)
    best = {m.feature: m for m in reversed(find_cells(states, {"inside": inside, "position": position}, top=2))}
    assert (best["inside"].layer, best["inside"].unit, best["inside"].sign) == (1, 7, -1)
    assert best["inside"].value > 0.9
    assert (best["position"].layer, best["position"].unit, best["position"].sign) == (0, 2, 1)


def test_char_ngram_is_a_distribution_and_discounts_as_written():
    text = "abracadabra" * 3
    model = CharNGram(order=3).fit(text)
    for context in ("", "a", "ab", "zz", "br", "ra"):
        assert sum(model.probability(context, c) for c in model.alphabet_) == pytest.approx(1.0)
    order1 = CharNGram(order=1, discount=0.5).fit(text)
    counts = {c: text.count(c) for c in set(text)}
    for c, n in counts.items():  # (count - d) / N + d * distinct / N * uniform
        expected = (n - 0.5) / len(text) + 0.5 * len(counts) / len(text) / len(counts)
        assert order1.probability("", c) == pytest.approx(expected)
