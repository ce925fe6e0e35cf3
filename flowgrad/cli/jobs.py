"""What the ``flowgrad`` subcommands do: build a run from a config, train it, evaluate, predict."""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

import flowgrad as fg
from flowgrad import nn
from flowgrad.io.atomic import atomic_write
from flowgrad.train.model import checked_epoch

from . import config as cfg_lib
from . import ranks, runs, sources

# ``flowgrad train --example NAME``: each tutorial's job, as config overrides.
EXAMPLES: dict[str, dict] = {
    "housing": {  # seed 002: MiniFlow on Boston housing, 13 -> 10 sigmoid -> 1, SGD 1e-2, batch 11
        "run": {"name": "housing"},
        "data": {"source": "housing", "test_split": 0.2},
        "model": {"layers": [10], "activation": "sigmoid"},
        "train": {"epochs": 100, "batch_size": 11, "loss": "mse", "metrics": ["mae", "r2"]},
        "optimizer": {"name": "sgd", "lr": 0.01},
    },
    "linear": {  # seed 003: Dense(1, 1), MSELoss, Momentum(0.005, 0.9), batch 16, 10 epochs
        "run": {"name": "linear"},
        "data": {"source": "linear", "test_split": 0.0, "standardize": False},
        "model": {"layers": []},
        "train": {"epochs": 10, "batch_size": 16, "loss": "mse", "metrics": ["mae"]},
        "optimizer": {"name": "momentum", "lr": 0.005, "momentum": 0.9},
    },
    "gender": {  # seed 004: 2 -> 2 sigmoid -> 1 sigmoid, MSE, SGD 0.1, one sample at a time
        "run": {"name": "gender"},
        "data": {"source": "gender", "test_split": 0.0, "standardize": False},
        "model": {"layers": [2], "activation": "sigmoid", "output_activation": "sigmoid"},
        "train": {"epochs": 1000, "batch_size": 1, "loss": "mse", "metrics": ["accuracy"]},
        "optimizer": {"name": "sgd", "lr": 0.1},
    },
    "and": {  # seed 001: one linear neuron, squared error, SGD 0.01, 20 epochs, one sample at a time
        "run": {"name": "and"},
        "data": {"source": "and", "test_split": 0.0, "standardize": False},
        "model": {"layers": []},
        "train": {"epochs": 20, "batch_size": 1, "loss": "mse", "metrics": ["mse"], "shuffle": False},
        "optimizer": {"name": "sgd", "lr": 0.01},
    },
}


class Run:
    """Everything one run needs, rebuilt the same way from its config (for resume, evaluate, predict)."""

    def __init__(self, config: dict, folder: Path) -> None:
        self.config, self.folder = config, folder
        seed = config["run"]["seed"]
        data = sources.load(config["data"], seed)
        self.task, self.n_classes = data.task, data.n_classes
        self.feature_names, self.label_names = data.feature_names, data.label_names
        train_idx, test_idx = sources.split(len(data.X), config["data"]["test_split"], seed)
        self.X_train, self.y_train = data.X[train_idx], data.y[train_idx]
        self.X_test, self.y_test = data.X[test_idx], data.y[test_idx]
        n_out = data.n_classes or data.y.reshape(len(data.y), -1).shape[1]
        self.dtype = np.dtype(config["model"]["dtype"])  # the weights' and the scaled inputs' dtype
        itemsize = self.dtype.itemsize
        runs.check_data(  # before allocating anything
            config, len(data.X), len(test_idx), data.X.shape[1], n_out, data.task, data.n_classes, itemsize
        )
        if config["data"]["standardize"]:
            self.mean = self.X_train.mean(0)
            self.std = np.where(self.X_train.std(0) > 0, self.X_train.std(0), 1.0).astype(np.float32)
        else:
            self.mean = np.zeros(data.X.shape[1], np.float32)
            self.std = np.ones(data.X.shape[1], np.float32)
        fg.manual_seed(seed)
        self.network = self._network(data.X.shape[1], data.y).to(self.dtype)
        loss, metrics = self._loss_and_metrics()
        self.model = fg.Model(self.network, loss, self._optimizer(), metrics=metrics)
        # Built fresh as the run first built it, then (on resume) overwritten by restore():
        # constructing a scheduler already steps it and changes the optimizer's lr.
        self.steps_per_epoch = -(-len(self.X_train) // config["train"]["batch_size"])
        self.scheduler = _scheduler(config, self.model.optimizer, self.steps_per_epoch)

    def scale(self, X: np.ndarray) -> np.ndarray:  # noqa: N803
        return ((X - self.mean) / self.std).astype(self.dtype)

    def _binary_sigmoid(self) -> bool:
        return self.task == "classification" and self.config["model"]["output_activation"] == "sigmoid"

    def _network(self, n_in: int, y: np.ndarray) -> nn.Module:
        m = self.config["model"]
        act = {
            "relu": nn.ReLU,
            "sigmoid": nn.Sigmoid,
            "tanh": nn.Tanh,
            "gelu": nn.GELU,
            "silu": nn.SiLU,
            "leaky_relu": nn.LeakyReLU,
        }[m["activation"]]
        layers: list[nn.Module] = []
        width = n_in
        for hidden in m["layers"]:
            layers += [nn.Linear(width, hidden), act()]
            if m["dropout"]:
                layers.append(nn.Dropout(m["dropout"]))
            width = hidden
        if self.task == "classification":
            n_out = 1 if self._binary_sigmoid() else self.n_classes
        else:
            n_out = y.shape[1]
        layers.append(nn.Linear(width, n_out))
        if m["output_activation"] == "sigmoid":
            layers.append(nn.Sigmoid())
        elif m["output_activation"] == "softmax":
            layers.append(nn.Softmax(dim=-1))
        return nn.Sequential(*layers)

    def targets(self, y: np.ndarray) -> np.ndarray:
        if self._binary_sigmoid():
            return y.astype(self.dtype).reshape(-1, 1)  # probabilities against 0/1 labels
        return y.astype(self.dtype) if self.task == "regression" else y

    def _loss_and_metrics(self) -> tuple[str, list]:
        t = self.config["train"]
        loss = t["loss"]
        if loss == "auto":
            loss = ("bce" if self._binary_sigmoid() else "cross_entropy") if self.task == "classification" else "mse"
        metrics = t["metrics"]
        if metrics == ["auto"]:
            metrics = ["accuracy"] if self.task == "classification" else ["mae", "r2"]
        return loss, metrics

    def _optimizer(self) -> Any:
        o = self.config["optimizer"]
        params = self.network.parameters()
        if o["name"] == "sgd":
            return fg.optim.SGD(params, lr=o["lr"], weight_decay=o["weight_decay"])
        if o["name"] == "momentum":
            return fg.optim.Momentum(
                params, learning_rate=o["lr"], momentum=o["momentum"], weight_decay=o["weight_decay"]
            )
        cls = {
            "adam": fg.optim.Adam,
            "adamw": fg.optim.AdamW,
            "rmsprop": fg.optim.RMSprop,
            "adagrad": fg.optim.Adagrad,
        }[o["name"]]
        return cls(params, lr=o["lr"], weight_decay=o["weight_decay"])

    def extras(self) -> dict:
        return {"mean": self.mean, "std": self.std, "task": self.task, "label_names": self.label_names}

    def save(self, path: Path, epoch: int) -> None:
        # Everything a resumed run needs to continue bit for bit: weights, optimizer, the
        # scheduler, the RNG (dropout, and the next epoch's shuffle), the callbacks' states.
        stateful = {"schedule": self.scheduler} if self.scheduler is not None else {}
        fg.save_checkpoint(
            str(path), model=self.network, optimizer=self.model.optimizer, epoch=epoch,
            callbacks=self.model.callback_states(), **stateful, **self.extras(),
        )  # fmt: skip

    def restore(self, path: Path) -> int:
        """Load the checkpoint into the run (all or nothing); returns the epochs it holds."""
        if not path.exists():
            raise fg.CheckpointError(f"{path}: no checkpoint in this run folder")
        stateful = {"schedule": self.scheduler} if self.scheduler is not None else {}
        info = fg.load_checkpoint(str(path), model=self.network, optimizer=self.model.optimizer, **stateful)
        epoch = checked_epoch(info["epoch"], str(path))
        callbacks = info.get("callbacks", {})
        if not isinstance(callbacks, dict):
            raise fg.CheckpointError(f"{path}: 'callbacks' must map names to states")
        self.model._resume_callbacks = callbacks  # restored by fit, after on_train_begin
        return epoch


class _EpochCheckpoint(fg.callbacks.Callback):
    """Saves the run's checkpoint after every epoch (and before the first), atomically."""

    writes_checkpoints = True  # after the scheduler's step and the other callbacks' updates
    rank_zero_only = True  # on several processes, rank 0 writes the run's files

    def __init__(self, run: Run) -> None:
        self.run = run
        self.epochs_done = 0

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epochs_done = epoch + 1
        self.run.save(self.run.folder / "checkpoint.safetensors", epoch + 1)


class _StopOnCtrlC(fg.callbacks.Callback):
    """Turns Ctrl-C into a KeyboardInterrupt at the next batch boundary.

    Python raises KeyboardInterrupt wherever the signal lands, which can be inside a
    checkpoint write or even a place where it is swallowed; stopping between batches is
    always clean. A second Ctrl-C interrupts at once.
    """

    def __init__(self) -> None:
        self.requested = False

    def handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.requested:
            raise KeyboardInterrupt


def _scheduler(config: dict, opt: Any, steps_per_epoch: int) -> Any:
    """The LR scheduler of ``[schedule]``, or None."""
    s, o = config["schedule"], config["optimizer"]
    epochs = config["train"]["epochs"]
    sched = fg.optim.lr_scheduler
    if s["name"] == "none":
        return None
    if s["name"] == "step":
        return sched.StepLR(opt, step_size=s["step_size"], gamma=s["gamma"])
    if s["name"] == "exponential":
        return sched.ExponentialLR(opt, gamma=s["gamma"])
    if s["name"] == "cosine":
        return sched.CosineAnnealingLR(opt, T_max=s["t_max"] or epochs)
    return sched.OneCycleLR(opt, max_lr=s["max_lr"] or 10 * o["lr"], total_steps=epochs * steps_per_epoch)


class _Schedule(fg.callbacks.Callback):
    """Steps the run's scheduler (its state is saved with the run's checkpoint)."""

    def __init__(self, run: Run) -> None:
        self.scheduler = run.scheduler
        self.per_batch = isinstance(self.scheduler, fg.optim.lr_scheduler.OneCycleLR)

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.per_batch:
            self.scheduler.step()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if not self.per_batch:
            self.scheduler.step()
        if logs is not None:
            logs["lr"] = float(self.scheduler.get_last_lr()[0])


def _check_resumable(run: Run) -> None:
    """A one-cycle schedule is planned for the run's first epoch count; it cannot go further."""
    scheduler, epochs = run.scheduler, run.config["train"]["epochs"]
    if isinstance(scheduler, fg.optim.lr_scheduler.OneCycleLR) and epochs * run.steps_per_epoch > scheduler.total_steps:
        planned = scheduler.total_steps // run.steps_per_epoch
        raise cfg_lib.ConfigError(
            f"train: the onecycle schedule of {run.folder} was planned for {planned} epochs; it cannot be resumed "
            f"to {epochs} (resume with --epochs {planned} at most, or start a new run)"
        )


def train(config: dict, resume: Path | None = None, overwrite: bool = False) -> int:
    """Train a run to completion; write its folder; print a summary. Returns the exit code.

    Everything that can be checked is checked before the folder is touched; the folder is
    then locked (a second ``flowgrad train`` on it is refused) and an existing run in it is
    replaced only with ``overwrite``.
    """
    folder = resume if resume is not None else Path(config["run"]["runs_dir"]) / config["run"]["name"]
    run = Run(config, folder)  # reads the data and checks sizes: nothing is written yet
    ranks_group = ranks.group()  # started by mpiexec on several processes
    if ranks_group is not None and ranks_group[0] != 0:
        status = ranks.tell_followers(0)  # waits for rank 0's word: go on, or its exit code
        return status if status else _follow(run, config, folder, resume)
    try:
        with runs.RunLock(folder):
            if resume is None:
                runs.claim(folder, overwrite)
            if ranks_group is not None:
                ranks.tell_followers(0)
                ranks.training_together()
                ranks_group = None  # told: a failure from here on ends every rank (cli's main)
            return _train(run, config, folder, resume)
    finally:
        if ranks_group is not None:  # refused before training: the other ranks end with us
            ranks.tell_followers(2)


def _follow(run: Run, config: dict, folder: Path, resume: Path | None) -> int:
    """A rank other than 0: the same training, its part of every batch, nothing written."""
    ranks.training_together()
    start_epoch = run.restore(folder / "checkpoint.safetensors") if resume is not None else 0
    t = config["train"]
    x_train, y_train = run.scale(run.X_train), run.targets(run.y_train)
    validation = (run.scale(run.X_test), run.targets(run.y_test)) if len(run.X_test) else None
    callbacks: list = [_Schedule(run)] if run.scheduler is not None else []
    run.model.fit(
        x_train, y_train, batch_size=t["batch_size"], epochs=t["epochs"], validation_data=validation,
        shuffle=t["shuffle"], callbacks=callbacks, initial_epoch=start_epoch, verbose=0,
    )  # fmt: skip
    return 0


def _train(run: Run, config: dict, folder: Path, resume: Path | None) -> int:
    start_epoch = run.restore(folder / "checkpoint.safetensors") if resume is not None else 0
    _check_resumable(run)
    folder.mkdir(parents=True, exist_ok=True)
    text = cfg_lib.dumps(config).encode("utf-8")
    atomic_write(
        folder / "config.toml", lambda f, temp: None if f.write(text) else None
    )  # a full disk: the old one stays
    if resume is None:
        run.save(folder / "checkpoint.safetensors", 0)
    t = config["train"]
    x_train, y_train = run.scale(run.X_train), run.targets(run.y_train)
    validation = (run.scale(run.X_test), run.targets(run.y_test)) if len(run.X_test) else None
    checkpoint = _EpochCheckpoint(run)
    # The schedule first, so that the lr it sets is logged; the checkpoint runs last of all.
    callbacks: list = [_Schedule(run)] if run.scheduler is not None else []
    # On resume, CSVLogger first drops rows of epochs the checkpoint does not hold (a row
    # logged before its checkpoint failed to save), so no epoch is ever logged twice.
    callbacks += [fg.callbacks.CSVLogger(str(folder / "metrics.csv"), append=resume is not None), checkpoint]
    print(f"flowgrad train: {config['run']['name']} - {len(x_train)} training and {len(run.X_test)} test samples, "
          f"{run.task}, writing {folder}/", flush=True)  # fmt: skip
    stopper = _StopOnCtrlC()
    callbacks.append(stopper)
    previous = (
        signal.signal(signal.SIGINT, stopper.handle) if threading.current_thread() is threading.main_thread() else None
    )
    began = time.perf_counter()
    try:
        history = run.model.fit(
            x_train, y_train, batch_size=t["batch_size"], epochs=t["epochs"], validation_data=validation,
            shuffle=t["shuffle"], callbacks=callbacks, initial_epoch=start_epoch, verbose=1,
        )  # fmt: skip
    except KeyboardInterrupt:
        done = max(checkpoint.epochs_done, start_epoch)
        so_far = f" and the weights so far in {folder}/interrupted.safetensors"
        if run.model._non_finite_parameter() is None:  # never save weights that hold NaN or inf
            run.save(folder / "interrupted.safetensors", done)
        else:
            so_far = " (the weights so far are not finite and were not saved)"
        print(
            f"\ninterrupted during epoch {done + 1}: the last complete epoch ({done}) is in "
            f"{folder}/checkpoint.safetensors{so_far}.\n"
            f"resume with: flowgrad train --resume {folder}",
            file=sys.stderr,
        )
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    seconds = time.perf_counter() - began
    result = run.model.evaluate(*validation) if validation else run.model.evaluate(x_train, y_train)
    which = "test" if validation else "training"
    headline = "accuracy" if "accuracy" in result else "loss"
    _pictures(run, history, folder, f"{which} {headline} {result[headline]:.4f}")
    print(f"done in {seconds:.1f} s; {which} " + ", ".join(f"{k} {v:.4f}" for k, v in result.items()))
    print(f"run folder: {folder}/ (config.toml, metrics.csv, checkpoint.safetensors" +
          (", loss.png" if (folder / "loss.png").exists() else "") +
          (", confusion.png" if (folder / "confusion.png").exists() else "") + ")")  # fmt: skip
    return 0


def _pictures(run: Run, history: Any, folder: Path, summary: str = "") -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print('(no loss.png / confusion.png: install matplotlib, pip install "flowgrad[plot]")')
        return
    title = f"{folder.name}: {summary}" if summary else folder.name
    if history.history:
        fg.plot.loss_curve(history, folder / "loss.png", title=title)
    if run.task == "classification" and len(run.X_test):
        pred = run.model.predict(run.scale(run.X_test))
        fg.plot.confusion_matrix(
            run.targets(run.y_test),
            pred,
            folder / "confusion.png",
            labels=[str(v) for v in run.label_names],
            title=f"Confusion matrix, {title}",
        )


def load_run(folder: Path) -> Run:
    if not (folder / "config.toml").exists():
        raise cfg_lib.ConfigError(f"{folder}: not a run folder (no config.toml)")
    run = Run(cfg_lib.load(folder / "config.toml"), folder)
    run.restore(folder / "checkpoint.safetensors")
    return run


def evaluate(folder: Path, data: str | None) -> int:
    run = load_run(folder)
    if data is None:
        X, y = run.X_test if len(run.X_test) else run.X_train, run.y_test if len(run.X_test) else run.y_train  # noqa: N806
    else:
        X, y, _ = sources.read_csv(data, run.config["data"]["label_columns"] or None)  # noqa: N806
        if y is None:
            raise fg.DataError(f"{data}: no label columns to evaluate against")
        if X.shape[1] != len(run.mean):
            raise fg.DataError(f"{data}: rows have {X.shape[1]} feature columns but the model takes {len(run.mean)}")
        if run.task == "classification":
            y = _class_indices(run, y, data)
    result = run.model.evaluate(run.scale(X.astype(np.float32)), run.targets(y))
    print(", ".join(f"{k} {v:.4f}" for k, v in result.items()))
    return 0


def _class_indices(run: Run, y: np.ndarray, data: str) -> np.ndarray:
    """Labels as the model's class indices; a label it never saw names its line and the known classes."""
    index = {float(v): k for k, v in enumerate(run.label_names)}
    flat = y.reshape(-1)
    unknown = [i for i, v in enumerate(flat) if float(v) not in index]
    if unknown:
        line = sources.line_of(data, run.config["data"]["label_columns"] or None, unknown[0])
        more = f" ({len(unknown)} rows have labels it never saw)" if len(unknown) > 1 else ""
        raise fg.DataError(
            f"{data}:{line}: label {_num(flat[unknown[0]])} is not a class the model was trained on{more}; "
            f"its classes are {', '.join(_num(v) for v in run.label_names)}"
        )
    return np.array([index[float(v)] for v in flat])


def predict(folder: Path, input_csv: str, output: str | None, has_header: bool = True) -> int:
    if output and not Path(output).parent.is_dir():
        raise fg.DataError(f"cannot write {output}: the folder {Path(output).parent} does not exist")
    run = load_run(folder)
    X, _, _ = sources.read_csv(input_csv, None, header=has_header)  # noqa: N806
    if X.shape[1] != len(run.mean):
        raise fg.DataError(f"{input_csv}: rows have {X.shape[1]} columns but the model takes {len(run.mean)} features")
    out = run.model.predict(run.scale(X))
    if run.task == "classification":
        probs = out if out.shape[1] > 1 else np.c_[1 - out, out]
        if out.shape[1] > 1:
            probs = np.exp(out - out.max(1, keepdims=True))
            probs /= probs.sum(1, keepdims=True)
        labels = np.asarray(run.label_names)[probs.argmax(1)]
        header = ["prediction"] + [f"p_{v}" for v in run.label_names]
        rows = [[_num(lab)] + [f"{p:.6g}" for p in row] for lab, row in zip(labels, probs)]
    else:
        header = ["prediction"] if out.shape[1] == 1 else [f"prediction_{k}" for k in range(out.shape[1])]
        rows = [[f"{v:.6g}" for v in row] for row in out]
    text = "\n".join(",".join(r) for r in [header, *rows]) + "\n"
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise runs.file_error("write", output, exc) from None
        print(f"wrote {len(rows)} predictions to {output}")
    else:
        sys.stdout.write(text)
    return 0


def _num(v: Any) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)
