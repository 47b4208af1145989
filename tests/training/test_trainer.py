"""The Trainer against hand-written loops, its policies, checkpoints, resume after SIGKILL, torchrun."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from lstmkit.errors import CheckpointError, DataError, ParameterError, TrainingError
from lstmkit.training import CSVLogger, TrainConfig, Trainer, load_checkpoint, save_checkpoint
from lstmkit.training.data import SequenceChunks, batch_indices

SCRIPT = Path(__file__).parent / "train_script.py"
ROOT = Path(__file__).resolve().parents[2]


def regression_data(n=120, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=generator)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [0.0]]) + 0.3
    return x, y


def test_matches_a_hand_written_loop_exactly():
    """Same batches, Adam with L2, clipping, cosine schedule: the weights agree bit for bit."""
    x, y = regression_data()
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    twin = torch.nn.Linear(4, 1)
    twin.load_state_dict(model.state_dict())
    config = TrainConfig(
        epochs=3,
        batch_size=32,
        lr=0.05,
        weight_decay=0.01,
        clip_grad_norm=0.5,
        lr_schedule="cosine",
        progress=False,
        seed=7,
    )
    Trainer(model, torch.nn.MSELoss(), config).fit((x, y))

    optimizer = torch.optim.Adam(twin.parameters(), lr=0.05, weight_decay=0.01)
    steps = math.ceil(len(x) / 32)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=3 * steps)
    for epoch in range(3):
        generator = torch.Generator().manual_seed(7 * 1_000_003 + epoch)
        for index in torch.randperm(len(x), generator=generator).split(32):
            loss = torch.nn.functional.mse_loss(twin(x[index]), y[index])
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(twin.parameters(), 0.5)
            optimizer.step()
            schedule.step()
    for a, b in zip(model.parameters(), twin.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_history_validation_metrics_csv_and_reproducibility(tmp_path):
    x, y = regression_data()
    results = []
    for _ in range(2):
        torch.manual_seed(0)
        model = torch.nn.Linear(4, 1)
        trainer = Trainer(
            model,
            torch.nn.MSELoss(),
            TrainConfig(epochs=5, lr=0.05, progress=False),
            callbacks=[CSVLogger(tmp_path / "history.csv")],
            metrics={"mae": lambda out, target: (out - target).abs().mean()},
        )
        trainer.fit((x[:96], y[:96]), (x[96:], y[96:]))
        results.append(trainer.history_)
    assert [r["train_loss"] for r in results[0]] == [r["train_loss"] for r in results[1]]
    history = results[0]
    assert [row["epoch"] for row in history] == [1, 2, 3, 4, 5]
    assert history[-1]["val_loss"] < history[0]["val_loss"] / 2
    with torch.no_grad():
        expected = torch.nn.functional.mse_loss(model(x[96:]), y[96:]).item()
        expected_mae = (model(x[96:]) - y[96:]).abs().mean().item()
    assert history[-1]["val_loss"] == pytest.approx(expected, rel=1e-6)
    assert history[-1]["val_mae"] == pytest.approx(expected_mae, rel=1e-6)
    rows = (tmp_path / "history.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,train_loss,val_loss,val_mae,lr") and len(rows) == 6
    assert [p.name for p in tmp_path.iterdir()] == ["history.csv"]


def test_a_score_logged_at_validation_is_monitored_for_its_maximum():
    from lstmkit.training.callbacks import Callback

    x, y = regression_data()
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    seen = []

    class Score(Callback):
        def on_validation(self, trainer, logs):
            logs["val_score"] = -logs["val_loss"]  # better when higher

        def on_epoch_end(self, trainer, logs):
            seen.append((logs["val_score"], {k: v.clone() for k, v in trainer.model.state_dict().items()}))

    settings = {"lr": 0.5, "optimizer": "sgd", "momentum": 0.0, "clip_grad_norm": None, "progress": False}
    config = TrainConfig(epochs=50, early_stopping_patience=2, monitor="val_score", monitor_mode="max", **settings)
    trainer = Trainer(model, torch.nn.MSELoss(), config, callbacks=[Score()]).fit((x[:96], y[:96]), (x[96:], y[96:]))
    assert len(trainer.history_) < 50 and all("val_score" in row for row in trainer.history_)
    best_score, best_weights = max(seen, key=lambda item: item[0])
    assert trainer.best_ == best_score
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, best_weights[key], rtol=0, atol=0)
    without_val = Trainer(torch.nn.Linear(4, 1), torch.nn.MSELoss(), config).fit((x, y))  # falls back to train_loss
    assert without_val.best_ == min(row["train_loss"] for row in without_val.history_)
    with pytest.raises(ParameterError, match="monitor_mode"):
        TrainConfig(monitor_mode="up")


def test_early_stopping_restores_the_best_weights():
    x, y = regression_data()
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    seen = []

    class Spy(CSVLogger):
        def __init__(self):
            pass

        def on_epoch_end(self, trainer, logs):
            seen.append((logs["val_loss"], {k: v.clone() for k, v in trainer.model.state_dict().items()}))

    config = TrainConfig(
        epochs=50, lr=0.5, optimizer="sgd", momentum=0.0, early_stopping_patience=2, clip_grad_norm=None, progress=False
    )
    trainer = Trainer(model, torch.nn.MSELoss(), config, callbacks=[Spy()]).fit((x[:96], y[:96]), (x[96:], y[96:]))
    assert len(trainer.history_) < 50  # stopped early: lr 0.5 oscillates
    best_loss, best_weights = min(seen, key=lambda item: item[0])
    assert trainer.best_ == best_loss
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, best_weights[key], rtol=0, atol=0)


def test_parameter_groups_get_their_own_learning_rates():
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 1))
    trainer = Trainer(model, torch.nn.MSELoss(), TrainConfig(lr=1e-3, param_group_lrs={"1.": 1e-2}))
    optimizer = trainer._optimizer(model)
    assert [g["lr"] for g in optimizer.param_groups] == [1e-3, 1e-2]
    assert optimizer.param_groups[1]["params"][0] is model[1].weight
    with pytest.raises(ParameterError, match=r"param_group_lrs prefixes \['head.'\] match no parameter"):
        Trainer(model, torch.nn.MSELoss(), TrainConfig(param_group_lrs={"head.": 1e-2}))._optimizer(model)


def test_nonfinite_loss_stops_with_step_and_batch_or_is_skipped(tmp_path):
    x, y = regression_data(64)
    y[40] = float("nan")
    config = TrainConfig(
        epochs=2, batch_size=16, shuffle=False, progress=False, checkpoint_dir=str(tmp_path), checkpoint_every=1
    )
    torch.manual_seed(0)
    with pytest.raises(TrainingError, match=r"non-finite loss nan at step 3 \(epoch 1, batch 3\); the last good"):
        Trainer(torch.nn.Linear(4, 1), torch.nn.MSELoss(), config).fit((x, y))
    _, state = load_checkpoint(tmp_path / "last")
    assert state["step"] == 2  # the last good step's checkpoint is intact
    config.nonfinite = "skip"
    trainer = Trainer(torch.nn.Linear(4, 1), torch.nn.MSELoss(), config).fit((x, y))
    assert trainer.step_ == 6 and trainer.history_[-1]["skipped_batches"] == 2


def test_bad_data_fails_before_the_first_step():
    x, y = regression_data(10)
    model = torch.nn.Linear(4, 1)
    trainer = Trainer(model, torch.nn.MSELoss(), TrainConfig(progress=False))
    with pytest.raises(DataError, match="train has 10 inputs but 9 targets"):
        trainer.fit((x, y[:9]))
    with pytest.raises(DataError, match="train is empty"):
        trainer.fit((x[:0], y[:0]))
    with pytest.raises(DataError, match="the model cannot run on the first train batch: .*Long"):
        trainer.fit((x.long(), y))  # integer inputs are token ids; a model that cannot take them fails first
    with pytest.raises(DataError, match="expected floating-point .* train inputs, got torch.bool"):
        trainer.fit((x > 0, y))
    classifier = Trainer(torch.nn.Linear(4, 3), torch.nn.CrossEntropyLoss(), TrainConfig(progress=False))
    with pytest.raises(DataError, match="the loss cannot be computed on the first train batch: .*out of bounds"):
        classifier.fit((x, torch.tensor([0, 1, 2, 5, 0, 1, 2, 0, 1, 2])))
    with pytest.raises(DataError, match="the loss cannot be computed on the first train batch"):
        classifier.fit((x, torch.zeros(10)))
    with pytest.raises(ParameterError, match="unknown optimizer 'lbfgs'"):
        TrainConfig(optimizer="lbfgs")


def test_checkpoints_are_atomic_and_verified(tmp_path, monkeypatch):
    path = tmp_path / "ckpt"
    save_checkpoint(path, {"w": torch.arange(4.0)}, {"step": 1})
    real_replace = os.replace

    def crash(src, dst):
        if Path(dst) == path:
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {"w": torch.zeros(4)}, {"step": 2})
    monkeypatch.setattr(os, "replace", real_replace)
    tensors, state = load_checkpoint(path)  # the previous checkpoint is back, whole
    assert state == {"step": 1} and tensors["w"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]

    blob = (path / "tensors.safetensors").read_bytes()
    (path / "tensors.safetensors").write_bytes(blob[:-3])
    with pytest.raises(CheckpointError, match=r"tensors.safetensors: contents do not match the checksum"):
        load_checkpoint(path)
    (path / "tensors.safetensors").write_bytes(blob)
    header = json.loads((path / "state.json").read_text())
    (path / "state.json").write_text(json.dumps(header | {"format": "other"}))
    with pytest.raises(CheckpointError, match=r"state.json: not an lstmkit checkpoint \(format 'other'"):
        load_checkpoint(path)
    (path / "state.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="missing"):
        load_checkpoint(tmp_path / "nowhere")


def _run(out: Path, *args: str, slow: float = 0.0) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), str(out), "--slow", str(slow), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_run_killed_mid_epoch_resumes_to_the_same_weights(tmp_path):
    reference = _run(tmp_path / "whole")
    killed = _run(tmp_path / "killed", slow=0.05)
    state_file = tmp_path / "killed" / "ckpt" / "last" / "state.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait for a checkpoint in the middle of the second epoch
        if state_file.exists():
            state = json.loads(state_file.read_text())["state"]
            if state["epoch"] == 1 and state["batches_done"] >= 2:
                break
        time.sleep(0.02)
    else:
        pytest.fail("no mid-epoch checkpoint appeared")
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert killed.returncode == -signal.SIGKILL
    assert not (tmp_path / "killed" / "final.safetensors").exists()
    resumed = _run(tmp_path / "killed", "--resume")
    assert resumed.wait() == 0, resumed.stderr.read()
    assert reference.wait() == 0, reference.stderr.read()
    whole = load_file(str(tmp_path / "whole" / "final.safetensors"))
    again = load_file(str(tmp_path / "killed" / "final.safetensors"))
    for key in whole:
        assert torch.equal(whole[key], again[key]), key


def test_two_processes_under_torchrun_match_one_process(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    single = _run(tmp_path / "one", "--recurrent-dropout", "0")
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        str(SCRIPT),
        str(tmp_path / "two"),
        "--recurrent-dropout",
        "0",
    ]
    double = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert double.returncode == 0, double.stderr[-3000:]
    assert single.wait() == 0
    one = load_file(str(tmp_path / "one" / "final.safetensors"))
    two = load_file(str(tmp_path / "two" / "final.safetensors"))
    for key in one:
        torch.testing.assert_close(two[key], one[key], rtol=1e-4, atol=1e-5, msg=key)
    assert list((tmp_path / "two" / "ckpt").iterdir()) == [tmp_path / "two" / "ckpt" / "last"]


def test_batches_depend_only_on_seed_and_epoch():
    a = batch_indices(10, 4, seed=1, epoch=2, shuffle=True)
    assert [len(b) for b in a] == [4, 4, 2]
    assert torch.equal(torch.cat(a).sort().values, torch.arange(10))
    assert all(torch.equal(p, q) for p, q in zip(a, batch_indices(10, 4, 1, 2, True), strict=True))
    assert not torch.equal(torch.cat(a), torch.cat(batch_indices(10, 4, 1, 3, True)))
    assert len(batch_indices(10, 4, seed=2**63 - 1, epoch=5, shuffle=True)) == 3  # the largest seed works


class StatefulLSTM(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(1, 6)
        self.head = torch.nn.Linear(6, 1)

    def forward(self, x, state=None):
        out, state = self.lstm(x, state)
        return self.head(out), state


def test_truncated_bptt_matches_a_hand_written_detached_loop():
    """The state crosses chunk boundaries (the chunks see the carried state), the gradient does not."""
    t = torch.arange(300, dtype=torch.float32)
    x = torch.sin(t / 7)[:, None, None].repeat(1, 2, 1)  # (T, N=2, 1)
    y = torch.roll(x, -1, dims=0)
    torch.manual_seed(0)
    model, twin = StatefulLSTM(), StatefulLSTM()
    twin.load_state_dict(model.state_dict())
    config = TrainConfig(epochs=2, lr=1e-2, clip_grad_norm=1.0, progress=False, restore_best=False)
    trainer = Trainer(model, torch.nn.MSELoss(), config).fit_sequence(x, y, chunk_size=40)

    optimizer = torch.optim.Adam(twin.parameters(), lr=1e-2)
    for _ in range(2):
        state = None
        for start in range(0, 300, 40):
            out, state = twin(x[start : start + 40], state)
            loss = torch.nn.functional.mse_loss(out, y[start : start + 40])
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(twin.parameters(), 1.0)
            optimizer.step()
            state = tuple(s.detach() for s in state)
    for a, b in zip(model.parameters(), twin.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert trainer.step_ == 16 and len(trainer.history_) == 2
    assert trainer.history_[1]["train_loss"] < trainer.history_[0]["train_loss"]
    with pytest.raises(DataError, match=r"expected inputs \(T, N, H_in\) floating-point or \(T, N\) integer"):
        trainer.fit_sequence(x[:, 0], y, chunk_size=10)
    ids = torch.randint(0, 5, (50, 3))  # token ids of 3 streams: a language model's chunks
    chunk = SequenceChunks(ids, ids, 20).batch(torch.tensor([2]))
    assert torch.equal(chunk.inputs, ids[40:]) and len(SequenceChunks(ids, ids, 20)) == 3


def test_max_steps_ends_training_mid_epoch():
    x, y = regression_data(100)
    trainer = Trainer(
        torch.nn.Linear(4, 1), torch.nn.MSELoss(), TrainConfig(epochs=10, batch_size=10, max_steps=15, progress=False)
    )
    trainer.fit((x, y))
    assert trainer.step_ == 15 and len(trainer.history_) == 2


def test_tensorboard_logger_writes_events_or_says_how_to_install(tmp_path):
    from lstmkit.training import TensorBoardLogger

    try:
        import tensorboard  # noqa: F401
    except ImportError:
        with pytest.raises(ParameterError, match=r"pip install 'lstmkit\[tensorboard\]'"):
            TensorBoardLogger(tmp_path)
        return
    x, y = regression_data(40)
    Trainer(
        torch.nn.Linear(4, 1),
        torch.nn.MSELoss(),
        TrainConfig(epochs=2, progress=False),
        callbacks=[TensorBoardLogger(tmp_path)],
    ).fit((x, y))
    assert any(p.name.startswith("events.out.tfevents") for p in tmp_path.iterdir())
