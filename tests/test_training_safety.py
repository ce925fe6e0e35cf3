"""Resume, divergence and checkpoint loading in the library (``Model.fit``, ``fg.load_checkpoint``).

- ``fit(resume_from=...)`` continues stateful callbacks (EarlyStopping, ReduceLROnPlateau,
  ModelCheckpoint) where they were, and CSVLogger never logs an epoch twice;
- weights holding NaN or inf are never checkpointed, and the last finite checkpoint stays;
- optimizer state that does not fit its parameters, and a checkpoint epoch that is not a
  count, are refused with a CheckpointError naming the first mismatch.

Comparisons are between runs computed in the same process (bit for bit), never against
numbers written down.
"""

import csv
import math

import numpy as np
import pytest

import flowgrad as fg
from flowgrad.cli import main

cb = fg.callbacks


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype(np.float32)
    return x, (x @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.1).astype(np.float32)


def callbacks(folder):
    return [
        cb.EarlyStopping(monitor="loss", patience=3, min_delta=1e9),  # stops after epoch 1 + 4
        cb.ReduceLROnPlateau(monitor="loss", patience=1, factor=0.5, min_delta=1e9),
        cb.ModelCheckpoint(str(folder / "ckpt.safetensors"), monitor="loss", save_best_only=False),
        cb.CSVLogger(str(folder / "log.csv"), append=True),
    ]


def run(folder, epochs, resume_from=None):
    fg.manual_seed(1)
    net = fg.nn.Sequential(fg.nn.Linear(3, 8), fg.nn.Tanh(), fg.nn.Dropout(0.2), fg.nn.Linear(8, 1))
    model = fg.Model(net, "mse", "adam", lr=0.01)
    cbs = callbacks(folder)
    history = model.fit(*data(), batch_size=8, epochs=epochs, callbacks=cbs, verbose=0, resume_from=resume_from)
    return model, cbs, history


def test_fit_resume_continues_early_stopping_and_reduce_lr_on_plateau(tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    full, full_cbs, full_history = run(tmp_path / "a", 10)
    assert len(full_history.epoch) == 5  # EarlyStopping ended it: the test depends on its count
    run(tmp_path / "b", 3)
    resumed, cbs, history = run(tmp_path / "b", 10, resume_from=str(tmp_path / "b" / "ckpt.safetensors"))
    assert history.epoch == [3, 4]  # stopped where the uninterrupted run stopped
    for a, b in zip(full.network.parameters(), resumed.network.parameters()):
        assert np.asarray(a.detach()).tobytes() == np.asarray(b.detach()).tobytes()
    assert full.optimizer.param_groups[0]["lr"] == resumed.optimizer.param_groups[0]["lr"] < 0.01
    assert (full_cbs[0].wait, full_cbs[0].best) == (cbs[0].wait, cbs[0].best)
    logged = [r["epoch"] for r in csv.DictReader(open(tmp_path / "b" / "log.csv"))]
    assert logged == ["0", "1", "2", "3", "4"]
    assert (tmp_path / "a" / "log.csv").read_bytes() == (tmp_path / "b" / "log.csv").read_bytes()


def test_csv_logger_drops_epochs_that_are_trained_again(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch,loss\n0,1.0\n1,0.5\n2,0.25\n")  # epoch 2 logged, its checkpoint lost
    model = fg.Model(fg.nn.Linear(3, 1), "mse", "sgd", lr=0.01)
    model.fit(*data(), epochs=3, initial_epoch=2, callbacks=[cb.CSVLogger(str(path), append=True)], verbose=0)
    assert [r["epoch"] for r in csv.DictReader(open(path))] == ["0", "1", "2"]


def overflowing_model():
    # One step an epoch; the learning rate of epoch 2 makes that step overflow float32. The loss
    # is computed before the step, so it is finite: only the parameters show the divergence.
    net = fg.nn.Linear(1, 1)
    schedule = cb.LearningRateScheduler(lambda epoch, lr: 1e-3 if epoch == 0 else 1e39)
    return fg.Model(net, "mse", "sgd", lr=1e-3), schedule


def test_a_diverged_epoch_never_overwrites_the_last_finite_checkpoint(tmp_path):
    model, schedule = overflowing_model()
    x = np.ones((4, 1), np.float32)
    path = tmp_path / "ckpt.safetensors"
    save = cb.ModelCheckpoint(str(path), monitor="loss")
    with np.errstate(all="ignore"), pytest.raises(fg.DivergedError, match=r"epoch 2: .*parameter 'weight'"):
        model.fit(x, 3 * x, batch_size=4, epochs=3, callbacks=[schedule, save], verbose=0)
    state = fg.load(path)
    assert state["epoch"] == 1 and all(np.isfinite(np.asarray(v)).all() for v in state["model"].values())


def test_terminate_on_nan_ends_quietly_without_a_checkpoint_of_bad_weights(tmp_path):
    model, schedule = overflowing_model()
    x = np.ones((4, 1), np.float32)
    model.stop_training = False
    path = tmp_path / "ckpt.safetensors"
    save = cb.ModelCheckpoint(str(path), monitor="loss")

    class StopOnBadWeights(cb.Callback):  # what TerminateOnNaN does one step later
        def on_batch_end(self, batch, logs=None):
            if not all(np.isfinite(np.asarray(p.detach())).all() for p in self.model.network.parameters()):
                self.model.stop_training = True

    with np.errstate(all="ignore"):
        history = model.fit(x, 3 * x, batch_size=4, epochs=3, callbacks=[schedule, save, StopOnBadWeights()], verbose=0)
    assert model.diverged and history.epoch == [0, 1] and fg.load(path)["epoch"] == 1


def test_optimizer_state_of_another_model_is_refused_naming_the_mismatch(tmp_path):
    small = fg.nn.Linear(2, 1)
    opt = fg.optim.Adam(small.parameters())
    small(fg.ones(3, 2)).sum().backward()
    opt.step()
    fg.save_checkpoint(tmp_path / "c.safetensors", optimizer=opt, epoch=1)
    big = fg.nn.Linear(3, 4)
    big_opt = fg.optim.Adam(big.parameters())
    with pytest.raises(
        fg.CheckpointError, match=r"state\[0\]\['exp_avg'\] has shape \(1, 2\) but the parameter has shape \(4, 3\)"
    ):
        fg.load_checkpoint(tmp_path / "c.safetensors", optimizer=big_opt)
    assert not big_opt.state  # nothing half-restored
    bad = fg.load(tmp_path / "c.safetensors")
    for change, message in (
        (lambda s: s["optimizer"]["state"].__setitem__(7, s["optimizer"]["state"].pop(0)), "state for parameter 7"),
        (lambda s: s["optimizer"]["state"][0].__setitem__("exp_avg", np.zeros((1, 2), np.int64)), "dtype int64"),
        (lambda s: s["optimizer"]["param_groups"][0].__setitem__("params", [0]), "1 parameters saved and 2 here"),
    ):
        state = fg.load(tmp_path / "c.safetensors")
        change(state)
        fg.save(state, tmp_path / "bad.safetensors")
        with pytest.raises(fg.CheckpointError, match=message):
            fg.load_checkpoint(tmp_path / "bad.safetensors", optimizer=fg.optim.Adam(small.parameters()))
    assert bad["epoch"] == 1


@pytest.mark.parametrize("epoch", ["three", None, math.inf, -1, True, 2.0])
def test_a_crafted_epoch_is_a_checkpoint_error(epoch, tmp_path, capsys):
    assert main(["train", "--example", "and", "--epochs", "1", "--runs-dir", str(tmp_path)]) == 0
    path = tmp_path / "and" / "checkpoint.safetensors"
    state = fg.load(path)
    state["epoch"] = epoch
    fg.save(state, path)
    assert main(["train", "--resume", str(tmp_path / "and"), "--epochs", "2"]) == 3
    assert "checkpoint's epoch must be a count of epochs" in capsys.readouterr().err
    model = fg.Model(fg.nn.Linear(2, 1), "mse", "sgd", lr=0.1)
    fg.save_checkpoint(tmp_path / "lib.safetensors", model.network, model.optimizer, epoch=epoch)
    with pytest.raises(fg.CheckpointError, match="epoch must be a count"):
        model.fit(np.ones((2, 2)), np.ones((2, 1)), epochs=3, verbose=0, resume_from=str(tmp_path / "lib.safetensors"))


def test_non_finite_input_data_is_a_data_error_before_training(tmp_path, capsys):
    (tmp_path / "d.csv").write_text("a,b,label\n1,2,0\n3,nan,1\n4,5,0\n6,7,1\n")
    config = tmp_path / "c.toml"
    config.write_text(
        f'[run]\nruns_dir = "{tmp_path}"\n[data]\nsource = "{tmp_path / "d.csv"}"\nlabel_columns = ["label"]\n'
    )
    assert main(["train", str(config)]) == 3
    err = capsys.readouterr().err
    assert "d.csv:3: column 'b': 'nan' is not a finite number" in err and "learning rate" not in err
