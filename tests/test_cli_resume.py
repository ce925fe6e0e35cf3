"""``flowgrad train --resume`` continues a run bit for bit, whatever its config holds.

Every stateful part of a run is in its checkpoint (weights, optimizer, LR scheduler, RNG: the
dropout masks and the next epoch's shuffle, the callbacks' states) and the metrics already
written are kept, each epoch once. Each test compares the bits of the weights and of
metrics.csv against an uninterrupted run computed in the same process, so nothing here
depends on the CPU's rounding.
"""

import signal
import threading

import numpy as np
import pytest

import flowgrad as fg
from flowgrad.cli import jobs, main

EPOCHS = 3
SCHEDULES = {
    "step": 'name = "step"\nstep_size = 1\n',
    "exponential": 'name = "exponential"\ngamma = 0.7\n',
    "cosine": 'name = "cosine"\n',
    "onecycle": 'name = "onecycle"\n',
}
pytestmark = pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread() or not hasattr(signal, "raise_signal"),
    reason="Ctrl-C is simulated with a real SIGINT to this process",
)


@pytest.fixture(autouse=True)
def _no_pictures(monkeypatch):
    monkeypatch.setattr(jobs, "_pictures", lambda *a: None)  # matplotlib is slow and not under test


def config(tmp_path, schedule):
    # iris: 120 training rows, 4 batches an epoch; dropout and shuffling use the RNG every step.
    path = tmp_path / f"{schedule}.toml"
    path.write_text(
        f'[run]\nruns_dir = "{tmp_path / "runs"}"\nseed = 5\n[data]\nsource = "iris"\n'
        f"[model]\nlayers = [8]\ndropout = 0.25\n[train]\nepochs = {EPOCHS}\nbatch_size = 32\n"
        f"[schedule]\n{SCHEDULES[schedule]}"
    )
    return str(path)


def state(folder):
    ckpt = fg.load(folder / "checkpoint.safetensors")
    weights = {k: np.asarray(v) for k, v in ckpt["model"].items()}
    return weights, ckpt["optimizer"]["param_groups"][0]["lr"], (folder / "metrics.csv").read_bytes()


def assert_same(a, b):
    assert a[0].keys() == b[0].keys()
    for k in a[0]:
        assert a[0][k].tobytes() == b[0][k].tobytes(), k
    assert a[1] == b[1]  # the learning rate, bit for bit
    assert a[2] == b[2]  # metrics.csv, byte for byte (each epoch once, same numbers)


def interrupt_at_step(monkeypatch, step):
    """Ctrl-C (a real SIGINT) during global training step ``step``, counted from 1."""
    real, calls = fg.Model.train_step, [0]

    def train_step(self, x, y):
        calls[0] += 1
        if calls[0] == step:
            signal.raise_signal(signal.SIGINT)
        return real(self, x, y)

    monkeypatch.setattr(fg.Model, "train_step", train_step)


@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
def test_resume_after_ctrl_c_at_every_epoch_boundary_and_mid_epoch(schedule, tmp_path, monkeypatch):
    cfg = config(tmp_path, schedule)
    assert main(["train", cfg, "--name", "full"]) == 0
    full = state(tmp_path / "runs" / "full")
    steps = 4
    # At the first step of epochs 2 and 3 (the checkpoint is exactly at a boundary), and in
    # the middle of epoch 2 and at the last step of epoch 3 (work after the checkpoint is redone).
    for at in (steps + 1, 2 * steps + 1, steps + 2, 3 * steps):
        name = f"part{at}"
        with monkeypatch.context() as m:
            interrupt_at_step(m, at)
            assert main(["train", cfg, "--name", name]) == 130
        folder = tmp_path / "runs" / name
        assert fg.load(folder / "checkpoint.safetensors")["epoch"] == (at - 1) // steps
        assert main(["train", "--resume", str(folder)]) == 0
        assert_same(state(folder), full)


@pytest.mark.parametrize("schedule", ["step", "exponential"])
def test_resume_with_more_epochs_matches_a_longer_run(schedule, tmp_path):
    # The reproducer: 2 epochs, then --resume --epochs 3, against 3 epochs at once
    # (for schedules that do not depend on the number of epochs).
    cfg = config(tmp_path, schedule)
    assert main(["train", cfg, "--name", "full"]) == 0
    assert main(["train", cfg, "--name", "part", "--epochs", "2"]) == 0
    assert main(["train", "--resume", str(tmp_path / "runs" / "part"), "--epochs", str(EPOCHS)]) == 0
    assert_same(state(tmp_path / "runs" / "part"), state(tmp_path / "runs" / "full"))


def test_a_onecycle_run_cannot_be_resumed_past_its_plan(tmp_path, capsys):
    cfg = config(tmp_path, "onecycle")
    assert main(["train", cfg, "--name", "part", "--epochs", "2"]) == 0
    assert main(["train", "--resume", str(tmp_path / "runs" / "part"), "--epochs", "4"]) == 2
    assert "planned for 2 epochs" in capsys.readouterr().err


def test_a_failed_save_never_logs_an_epoch_twice(tmp_path, monkeypatch, capsys):
    cfg = config(tmp_path, "step")
    assert main(["train", cfg, "--name", "full"]) == 0
    real = jobs.Run.save

    def disk_full_at_epoch_2(self, path, epoch):
        if epoch == 2 and path.name == "checkpoint.safetensors":
            raise OSError(28, "No space left on device")
        real(self, path, epoch)

    with monkeypatch.context() as m:
        m.setattr(jobs.Run, "save", disk_full_at_epoch_2)
        assert main(["train", cfg, "--name", "part"]) == 3  # a file error, not a crash
    assert "No space left on device" in capsys.readouterr().err
    folder = tmp_path / "runs" / "part"
    assert fg.load(folder / "checkpoint.safetensors")["epoch"] == 1  # the previous one, intact
    assert main(["train", "--resume", str(folder)]) == 0
    assert_same(state(folder), state(tmp_path / "runs" / "full"))
