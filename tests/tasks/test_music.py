"""MusicGenerator: its NLL is Bai et al. 2018's (each chorale scored alone with their trace formula, summed over
chorales, divided by the predicted steps), a short fit on JSB Chorales beats the key-frequency baseline on the test
split (no broken model does), sampling is seeded, and the MIDI files hold exactly the roll's notes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstmkit.data.datasets import load_jsb_chorales
from lstmkit.data.midi import midi_bytes, note_events, read_midi_roll, write_midi
from lstmkit.errors import DataError, ParameterError
from lstmkit.nn.losses import MaskedBernoulliNLL
from lstmkit.tasks import MusicGenerator, load
from lstmkit.tasks.baselines import key_frequency_nll


@pytest.fixture(scope="module")
def chorales():
    return load_jsb_chorales()


@pytest.fixture(scope="module")
def fitted(chorales):
    torch.set_num_threads(1)
    model = MusicGenerator(hidden_size=48, epochs=8, batch_size=8, lr=1e-2, dropout=0.0, patience=None)
    return model.fit(chorales.train, chorales.valid)


def test_the_embedded_split_is_the_standard_one(chorales):
    assert [len(chorales.train), len(chorales.valid), len(chorales.test)] == [229, 76, 77]
    assert [sum(len(r) for r in split) for split in (chorales.train, chorales.valid, chorales.test)] == [
        13807,
        4602,
        4725,
    ]
    assert all(r.shape[1] == 88 and set(np.unique(r)) <= {0, 1} for r in chorales.test)


def test_nll_is_bai_et_al_s_trace_formula(fitted, chorales):
    rolls = chorales.test[:9]
    total, steps = 0.0, 0
    with torch.no_grad():
        for roll in rolls:  # TCN's poly_music evaluate(): one chorale at a time, no padding
            x = torch.tensor(roll[:-1], dtype=torch.float32)[None]
            y = torch.tensor(roll[1:], dtype=torch.float64)
            output = torch.sigmoid(fitted.model_.step(x)[0][0]).double()
            total += -torch.trace(y @ torch.log(output).T + (1 - y) @ torch.log(1 - output).T).item()
            steps += len(y)
    assert fitted.nll(rolls) == pytest.approx(total / steps, rel=1e-5)
    assert fitted.score(rolls) == -fitted.nll(rolls)


def test_a_short_fit_beats_the_key_frequencies(fitted, chorales):
    baseline = key_frequency_nll(chorales.train, chorales.test)
    assert 10.5 < baseline < 12.5
    assert fitted.nll(chorales.test) < baseline - 1.0  # a model that learned nothing sits at the baseline


def test_key_frequency_baseline_by_brute_force(chorales):
    train, test = chorales.train[:5], chorales.test[:3]
    frames = np.concatenate([r[1:] for r in train])
    total, steps = 0.0, 0
    for roll in test:
        for frame in roll[1:]:
            for key in range(88):
                p = min(max(frames[:, key].mean(), 1e-4), 1 - 1e-4)
                total -= np.log(p) if frame[key] else np.log(1 - p)
            steps += 1
    assert key_frequency_nll(train, test) == pytest.approx(total / steps)


def test_loss_skips_padding():
    rng = np.random.default_rng(0)
    logits = torch.tensor(rng.normal(size=(2, 4, 88)), dtype=torch.float32)
    targets = torch.tensor(rng.integers(0, 2, size=(2, 4, 88)), dtype=torch.float32)
    targets[1, 2:] = -1  # the second roll has 2 valid steps
    p = torch.sigmoid(logits)
    per_step = -(targets * torch.log(p) + (1 - targets) * torch.log(1 - p)).sum(-1)  # (2, 4)
    expected = (per_step[0].sum() + per_step[1, :2].sum()) / 6
    assert MaskedBernoulliNLL()(logits, targets).item() == pytest.approx(expected.item(), rel=1e-5)


def test_generation_is_seeded_and_starts_from_the_prime(fitted, chorales):
    sample = fitted.generate(40, seed=3)
    assert sample.shape == (40, 88) and sample.dtype == np.uint8 and set(np.unique(sample)) <= {0, 1}
    assert tuple(np.flatnonzero(sample[0])) in fitted.openings_
    assert np.array_equal(sample, fitted.generate(40, seed=3))
    assert not np.array_equal(sample, fitted.generate(40, seed=4))
    prime = chorales.test[0][:10]
    continued = fitted.generate(30, prime=prime, seed=0)
    assert np.array_equal(continued[:10], prime)
    assert 2.0 < continued[10:].sum(axis=1).mean() < 6.0  # chorales sound about four notes a step
    with pytest.raises(DataError, match=r"expected \(T >= 1, 88\)"):
        fitted.generate(10, prime=np.zeros((3, 12)))
    with pytest.raises(ParameterError):
        fitted.generate(10, temperature=0)


def test_streamed_sampling_draws_what_rereading_the_whole_roll_gives(fitted, chorales):
    """generate() carries the state in a Stream; the same draws from logits of the whole roll read at once."""
    prime = chorales.test[1][:6]
    sample = fitted.generate(36, prime=prime, temperature=0.8, seed=5)
    generator = torch.Generator().manual_seed(int(np.random.default_rng(5).integers(2**62)))
    fitted.model_.eval()
    with torch.no_grad():
        logits, _ = fitted.model_.step(torch.from_numpy(sample[None, :-1].astype(np.float32)))  # (1, 35, 88)
    for t in range(len(prime) - 1, len(sample) - 1):
        draw = torch.bernoulli(torch.sigmoid(logits[:, t] / 0.8), generator=generator)
        assert np.array_equal(draw[0].numpy(), sample[t + 1]), t


def test_save_load_and_bad_rolls(fitted, chorales, tmp_path):
    fitted.save(tmp_path / "model")
    again = load(tmp_path / "model")
    assert isinstance(again, MusicGenerator)
    assert again.nll(chorales.test[:5]) == fitted.nll(chorales.test[:5])
    assert np.array_equal(again.generate(20, seed=1), fitted.generate(20, seed=1))
    with pytest.raises(DataError, match="values other than 0 and 1"):
        fitted.nll([np.full((5, 88), 2)])
    with pytest.raises(DataError, match=r"has shape \(5, 12\)"):
        MusicGenerator().fit([np.zeros((5, 12))])


def test_midi_holds_the_notes_of_the_roll(tmp_path):
    mido = pytest.importorskip("mido")
    roll = np.zeros((6, 88), dtype=np.uint8)
    roll[0:3, 39] = 1  # middle C held three beats
    roll[1, 43] = roll[2, 43] = roll[4, 43] = 1  # E: two beats, a rest, one beat
    assert note_events(roll) == [(0, 3, 60), (1, 3, 64), (4, 5, 64)]
    write_midi(roll, tmp_path / "a.mid")
    messages = [m for m in mido.MidiFile(tmp_path / "a.mid").tracks[0] if m.type in ("note_on", "note_off")]
    assert [(m.type, m.note) for m in messages] == [
        ("note_on", 60),
        ("note_on", 64),
        ("note_off", 60),
        ("note_off", 64),
        ("note_on", 64),
        ("note_off", 64),
    ]
    assert np.array_equal(read_midi_roll(tmp_path / "a.mid"), roll[:5])  # the trailing silence has no event
    chorale = load_jsb_chorales().test[3]
    write_midi(chorale, tmp_path / "b.mid")
    back = read_midi_roll(tmp_path / "b.mid")
    assert np.array_equal(back, chorale[: len(back)]) and not chorale[len(back) :].any()
    assert midi_bytes(roll)[:4] == b"MThd"
