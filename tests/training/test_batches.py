"""The batch contract: inputs, targets and lengths reach the model as such, trimmed to each batch's longest."""

from __future__ import annotations

import pytest
import torch

from lstmkit import nn as lnn
from lstmkit.errors import DataError
from lstmkit.training import TrainConfig, Trainer
from lstmkit.training.data import Batch, SequenceChunks, as_dataset, batch_indices, fetch


class LastState(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = lnn.LSTM(3, 8, batch_first=True)
        self.head = torch.nn.Linear(8, 2)
        self.seen = []

    def forward(self, x, lengths):
        self.seen.append((x.shape[1], lengths.tolist()))
        _, (h_n, _) = self.lstm(x, lengths=lengths)
        return self.head(h_n[-1])


def padded_data(n=40, T=12, padding=0.0, seed=0):
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(2, T + 1, (n,), generator=generator)
    x = torch.randn(n, T, 3, generator=generator)
    pad = torch.arange(T)[None, :] >= lengths[:, None]
    x[pad] = padding * torch.randn(int(pad.sum()), 3, generator=generator)
    return x, ((x[..., 0] * ~pad).sum(1) > 0).long(), lengths


def test_fetch_trims_each_batch_to_its_longest_sequence():
    x, y, lengths = padded_data()
    per_step = torch.zeros(len(x), x.shape[1])
    dataset, collate = as_dataset((x, per_step, lengths), "train")
    index = torch.tensor([3, 7, 9])
    batch = fetch(dataset, collate, index)
    longest = int(lengths[index].max())
    assert isinstance(batch, Batch) and batch.inputs.shape == (3, longest, 3) and batch.targets.shape == (3, longest)
    torch.testing.assert_close(batch.inputs, x[index, :longest], rtol=0, atol=0)
    assert batch.lengths.tolist() == lengths[index].tolist()


def test_lengths_reach_the_model_and_padding_never_matters():
    """Training on loud padding ends with exactly the weights of training on zero padding: the padded steps
    never reach the outputs, and the model was called with each batch's own lengths."""
    config = TrainConfig(epochs=2, batch_size=8, lr=1e-2, progress=False)
    results = []
    for padding in (0.0, 100.0):
        x, y, lengths = padded_data(padding=padding)
        torch.manual_seed(0)
        model = LastState()
        Trainer(model, torch.nn.CrossEntropyLoss(), config).fit((x, y, lengths))
        results.append(model)
    for a, b in zip(results[0].state_dict().values(), results[1].state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    first_epoch = batch_indices(40, 8, config.seed, 0, True)
    _, _, lengths = padded_data()
    expected = [(int(lengths[i].max()), lengths[i].tolist()) for i in first_epoch]
    assert results[0].seen[1 : 1 + len(first_epoch)] == expected  # seen[0] is the pre-flight batch


def test_bad_lengths_are_refused_before_training():
    x, y, lengths = padded_data()
    trainer = Trainer(LastState(), torch.nn.CrossEntropyLoss(), TrainConfig(progress=False))
    with pytest.raises(DataError, match=r"expected train lengths in \[1, 12\]"):
        trainer.fit((x, y, lengths * 0))
    with pytest.raises(DataError, match="expected train lengths as 40 integers, got torch.float32"):
        trainer.fit((x, y, lengths.float()))
    with pytest.raises(DataError, match="got tuple of 4"):
        trainer.fit((x, y, lengths, lengths))


class Stateful(torch.nn.Module):
    """model(x_chunk, state) -> (output, state); raises on the call numbered ``crash_at`` (training mode)."""

    def __init__(self, crash_at=None):
        super().__init__()
        self.lstm = lnn.LSTM(1, 6)
        self.head = torch.nn.Linear(6, 1)
        self.calls, self.crash_at = 0, crash_at

    def forward(self, x, state=None):
        if self.training:
            self.calls += 1
            if self.calls == self.crash_at:
                raise KeyboardInterrupt("killed mid-epoch")
        out, state = self.lstm(x, state)
        return self.head(out), state


def test_truncated_bptt_resumes_mid_epoch_with_the_carried_state(tmp_path):
    x = torch.sin(torch.arange(200.0) / 5)[:, None, None].repeat(1, 2, 1)  # (T, N=2, 1)
    y = torch.roll(x, -1, dims=0)
    chunks, val = SequenceChunks(x, y, 30), SequenceChunks(x[:60], y[:60], 30)
    assert len(chunks) == 7 and chunks.batch(torch.tensor([6])).inputs.shape == (20, 2, 1)

    def config(folder):
        return TrainConfig(epochs=2, lr=1e-2, progress=False, checkpoint_dir=str(folder), checkpoint_every=1)

    torch.manual_seed(0)
    whole = Stateful()
    start = {k: v.clone() for k, v in whole.state_dict().items()}
    uninterrupted = Trainer(whole, torch.nn.MSELoss(), config(tmp_path / "whole")).fit(chunks, val)
    crashing = Stateful(crash_at=11)  # step 11: chunk 4 of the second epoch, with a state carried into it
    crashing.load_state_dict(start)
    with pytest.raises(KeyboardInterrupt):
        Trainer(crashing, torch.nn.MSELoss(), config(tmp_path / "cut")).fit(chunks, val)
    resumed = Stateful()
    resumed.load_state_dict(start)
    trainer = Trainer(resumed, torch.nn.MSELoss(), config(tmp_path / "cut"))
    trainer.fit(chunks, val, resume_from=tmp_path / "cut" / "last")
    for a, b in zip(whole.state_dict().values(), resumed.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert [row["val_loss"] for row in trainer.history_] == [row["val_loss"] for row in uninterrupted.history_]
