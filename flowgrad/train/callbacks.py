"""Callbacks for ``Model.fit`` / ``Model.train``: progress, logging, early stopping, checkpoints.

A callback overrides any of ``on_train_begin``, ``on_epoch_begin``,
``on_batch_begin``, ``on_batch_end``, ``on_epoch_end``, ``on_train_end``
(Keras's hooks); ``self.model`` is the ``fg.Model`` being trained, and
``model.stop_training = True`` ends training after the current epoch.

>>> from flowgrad.train.callbacks import Callback
>>> class CountBatches(Callback):
...     def on_train_begin(self, logs=None):
...         self.n = 0
...     def on_batch_end(self, batch, logs=None):
...         self.n += 1
"""

from __future__ import annotations

import csv
import io
import math
import os
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from flowgrad.errors import ArgumentError, CheckpointWriteError, check_int


class Callback:
    """Base class: every hook does nothing."""

    model: Any = None

    def set_model(self, model: Any) -> None:
        self.model = model

    def on_train_begin(self, logs: dict | None = None) -> None: ...

    def on_train_end(self, logs: dict | None = None) -> None: ...

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...

    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None: ...

    # A callback that writes checkpoints sets this: its on_epoch_end then runs after every
    # other callback's, so what it saves includes their updates for the epoch (a scheduler's
    # step, EarlyStopping's count).
    writes_checkpoints = False

    def state_dict(self) -> dict:
        """What must be saved for a resumed ``fit`` to continue this callback exactly ({}: nothing)."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict` (called by ``fit(resume_from=...)`` after ``on_train_begin``)."""


class CallbackList(Callback):
    """Calls each hook on every callback, in order."""

    def __init__(self, callbacks: list[Callback]) -> None:
        self.callbacks = list(callbacks)

    def set_model(self, model: Any) -> None:
        for c in self.callbacks:
            c.set_model(model)

    def _call(self, hook: str, *args: Any) -> None:
        for c in self.callbacks:
            getattr(c, hook)(*args)

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._call("on_train_begin", logs)

    def on_train_end(self, logs: dict | None = None) -> None:
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch: int, logs: dict | None = None, checkpoints: bool = True) -> None:
        """``checkpoints=False``: skip the callbacks that write checkpoints (weights not finite)."""
        for c in sorted(self.callbacks, key=lambda c: c.writes_checkpoints):  # stable: checkpoints last
            if checkpoints or not c.writes_checkpoints:
                c.on_epoch_end(epoch, logs)

    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._call("on_batch_begin", batch, logs)

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._call("on_batch_end", batch, logs)


__all__ = [
    "Callback", "CallbackList", "ProgressBar", "LossMonitor", "EarlyStopping", "ModelCheckpoint", "CSVLogger",
    "TerminateOnNaN", "LearningRateScheduler", "ReduceLROnPlateau",
]  # fmt: skip


def format_number(name: str, value: Any) -> str:
    """One format for every logged number: accuracies fixed to four decimals (0.9430, so the
    column does not jitter), everything else four significant digits (0.2329, 1.783, 2.5e-05)."""
    if isinstance(value, (float, np.floating)):
        return f"{value:.4f}" if "acc" in name else f"{value:.4g}"
    return str(value)


def format_logs(logs: dict) -> str:
    """``loss 0.2329 - accuracy 0.9430 - val_loss 0.1778``: every logged number, never cut.

    >>> format_logs({"loss": 0.23291, "accuracy": 0.943, "val_loss": 1.78301})
    'loss 0.2329 - accuracy 0.9430 - val_loss 1.783'
    """
    return " - ".join(f"{k} {format_number(k, v)}" for k, v in logs.items())


class ProgressBar(Callback):
    """A progress bar during each epoch (tqdm, when installed and writing to a terminal), and
    at its end one full line with every logged number, whatever the terminal's width:
    ``epoch 3/20 - 0.03s - loss 0.2329 - accuracy 0.9430 - val_loss 0.1778 - val_accuracy 0.9554``.
    The default callback of ``fit``."""

    def __init__(self, stream: Any = None, use_tqdm: bool | None = None) -> None:
        self.stream = stream
        self.use_tqdm = use_tqdm
        self._bar: Any = None

    def _out(self) -> Any:
        return self.stream or sys.stdout

    def on_train_begin(self, logs: dict | None = None) -> None:
        use = self.use_tqdm
        if use is None:
            use = hasattr(self._out(), "isatty") and self._out().isatty()
        self._tqdm = None
        if use:
            try:
                from tqdm.auto import tqdm

                self._tqdm = tqdm
            except ImportError:
                self._tqdm = None

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()
        self._epoch = epoch
        if self._tqdm is not None:
            total = (self.model.params or {}).get("steps")
            # leave=False: the bar lives during the epoch only; a bar cut to the terminal's width
            # (or to nothing, on one that reports 0 columns) would hide the numbers at its end.
            self._bar = self._tqdm(
                total=total, desc=f"epoch {epoch + 1}/{self.model.params.get('epochs')}", file=self._out(), leave=False
            )

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self._bar is not None:
            self._bar.update(1)
            if logs and "loss" in logs:
                self._bar.set_postfix(loss=format_number("loss", logs["loss"]))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        seconds = time.perf_counter() - self._start
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        total = self.model.params.get("epochs")
        print(f"epoch {epoch + 1}/{total} - {seconds:.2f}s - {format_logs(logs or {})}", file=self._out(), flush=True)


class LossMonitor(Callback):
    """MindSpore's LossMonitor: prints ``epoch: E step: S, loss is L`` every ``per_print_times`` steps."""

    def __init__(self, per_print_times: int = 1, stream: Any = None) -> None:
        per_print_times = check_int(per_print_times, "LossMonitor", "per_print_times", minimum=1)
        self.per_print_times = per_print_times
        self.stream = stream

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if (batch + 1) % self.per_print_times == 0 and logs and "loss" in logs:
            print(f"epoch: {self._epoch + 1} step: {batch + 1}, loss is {logs['loss']}", file=self.stream or sys.stdout)


def _warn_missing(callback: Any, monitor: str, logs: dict | None) -> None:
    """Warn once per callback that ``monitor`` is not among the logged numbers (a misspelt name,
    or val_* without validation data), naming those that are, as Keras does."""
    if getattr(callback, "_warned_missing", False):
        return
    callback._warned_missing = True
    keys = ", ".join(sorted(logs or {})) or "none"
    hint = " (val_* numbers need validation data: fit(..., validation_data=...))" if monitor.startswith("val_") else ""
    warnings.warn(
        f"{type(callback).__name__}: {monitor!r} is not among the logged numbers, so it is not watched{hint}; "
        f"logged: {keys}",
        UserWarning,
        stacklevel=3,
    )


class _Monitor(Callback):
    """Shared: which logged number to watch, and whether lower or higher is better."""

    def __init__(self, monitor: str, mode: str, min_delta: float) -> None:
        self.monitor, self.min_delta = monitor, abs(min_delta)
        if mode not in ("auto", "min", "max"):
            raise ArgumentError(f"{type(self).__name__}: mode must be 'auto', 'min' or 'max', got {mode!r}")
        if mode == "auto":
            mode = "max" if any(k in monitor for k in ("acc", "r2", "f1", "precision", "recall")) else "min"
        self.mode = mode

    def _value(self, logs: dict | None) -> float | None:
        if not logs or self.monitor not in logs:
            _warn_missing(self, self.monitor, logs)
            return None
        return float(logs[self.monitor])

    def _say(self, epoch: int, message: str) -> None:
        if getattr(self, "verbose", 0):
            print(f"Epoch {epoch + 1}: {message}")

    def _improved(self, value: float, best: float) -> bool:
        if self.mode == "min":
            return value < best - self.min_delta
        return value > best + self.min_delta


class EarlyStopping(_Monitor):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs;
    optionally put back the best weights seen."""

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 0,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best_weights: bool = False,
        verbose: int = 0,
    ) -> None:
        super().__init__(monitor, mode, min_delta)
        self.patience, self.restore_best_weights, self.verbose = patience, restore_best_weights, verbose

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.wait = 0
        self.stopped_epoch: int | None = None
        self.best_epoch: int | None = None
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_weights: dict | None = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        value = self._value(logs)
        if value is None:
            return
        if self._improved(value, self.best):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = {k: v.numpy().copy() for k, v in self.model.network.state_dict().items()}
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            best_at = "" if self.best_epoch is None else f"; best {self.best:.6g} at epoch {self.best_epoch + 1}"
            self._say(
                epoch,
                f"early stopping: {self.monitor} has not improved by more than {self.min_delta:g} "
                f"for {self.wait} epochs{best_at}",
            )

    def state_dict(self) -> dict:
        return {
            "wait": self.wait, "best": self.best, "best_epoch": self.best_epoch,
            "stopped_epoch": self.stopped_epoch, "best_weights": self.best_weights,
        }  # fmt: skip

    def load_state_dict(self, state: dict) -> None:
        self.wait, self.best, self.best_epoch = int(state["wait"]), float(state["best"]), state["best_epoch"]
        self.stopped_epoch = state["stopped_epoch"]
        weights = state["best_weights"]
        self.best_weights = None if weights is None else {k: np.asarray(v) for k, v in weights.items()}

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            self.model.network.load_state_dict(self.best_weights)
            self._say(self.best_epoch or 0, "restored the weights of this epoch, the best")


class ModelCheckpoint(_Monitor):
    """Save a checkpoint (model, optimizer, epoch, RNG) after each epoch, or only when ``monitor``
    improves. ``path`` may hold ``{epoch}`` and metric names, e.g. ``'ckpt-{epoch:02d}.safetensors'``."""

    def __init__(
        self, path: str, monitor: str = "val_loss", save_best_only: bool = False, mode: str = "auto", verbose: int = 0
    ) -> None:
        super().__init__(monitor, mode, 0.0)
        self.path, self.save_best_only, self.verbose = str(path), save_best_only, verbose

    writes_checkpoints = True

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf

    def state_dict(self) -> dict:
        return {"best": self.best}

    def load_state_dict(self, state: dict) -> None:
        self.best = float(state["best"])

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        if self.save_best_only:
            value = self._value(logs)
            if value is None:
                return
            if not self._improved(value, self.best):
                self._say(epoch, f"{self.monitor} did not improve from {self.best:.6g}")
                return
            path = self.path.format(epoch=epoch + 1, **logs)
            self._say(epoch, f"{self.monitor} improved from {self.best:.6g} to {value:.6g}, saving the model to {path}")
            self.best = value
        else:
            path = self.path.format(epoch=epoch + 1, **logs)
            self._say(epoch, f"saving the model to {path}")
        folder = os.path.dirname(path)
        if folder:
            try:
                os.makedirs(folder, exist_ok=True)
            except OSError as e:  # a file where the folder should be, no permission
                raise CheckpointWriteError(
                    f"{path}: cannot save: cannot make the folder {folder}: {e.strerror or e}"
                ) from e
        self.model.save_checkpoint(path, epoch=epoch + 1, logs=dict(logs))


class CSVLogger(Callback):
    """Append one row per epoch (epoch and every logged number) to a CSV file."""

    def __init__(self, filename: str, separator: str = ",", append: bool = False) -> None:
        self.filename, self.separator, self.append = str(filename), separator, append

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._keys: list[str] | None = None
        exists = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        if exists:
            self._drop_rows_from((getattr(self.model, "params", None) or {}).get("initial_epoch", 0))
        self._file = open(self.filename, "a" if self.append else "w", newline="", encoding="utf-8")  # noqa: SIM115
        self._header_written = exists

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        if self._keys is None:
            self._keys = list(logs)
        writer = csv.writer(self._file, delimiter=self.separator)
        if not self._header_written:
            writer.writerow(["epoch", *self._keys])
            self._header_written = True
        writer.writerow([epoch, *(logs.get(k, "") for k in self._keys)])
        self._file.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        self._file.close()

    def _drop_rows_from(self, first: int) -> None:
        """Remove the rows of epochs >= ``first`` (atomically): a resumed run trains them again,
        and a row logged before its checkpoint failed to save must not appear twice."""
        from flowgrad.io.atomic import atomic_write

        with open(self.filename, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f, delimiter=self.separator))
        kept = rows[:1] + [r for r in rows[1:] if not (r and r[0].lstrip("-").isdigit() and int(r[0]) >= first)]
        if len(kept) == len(rows):
            return

        def write(f: Any, temp: str) -> None:
            text = io.StringIO(newline="")
            csv.writer(text, delimiter=self.separator).writerows(kept)
            f.write(text.getvalue().encode("utf-8"))

        atomic_write(self.filename, write)


class TerminateOnNaN(Callback):
    """Stop training at the first batch whose loss is NaN or infinite."""

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            print(f"batch {batch}: invalid loss {loss}, terminating training", file=sys.stderr)
            self.model.stop_training = True
            self.model.diverged = True


class LearningRateScheduler(Callback):
    """Set the learning rate at each epoch's start to ``schedule(epoch, lr)``."""

    def __init__(self, schedule: Callable[[int, float], float], verbose: int = 0) -> None:
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        groups = self.model.optimizer.param_groups
        lr = float(self.schedule(epoch, groups[0]["lr"]))
        for g in groups:
            g["lr"] = lr
        if self.verbose:
            print(f"epoch {epoch + 1}: learning rate {lr:.6g}")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["lr"] = float(self.model.optimizer.param_groups[0]["lr"])


class ReduceLROnPlateau(Callback):
    """Keras's callback over ``fg.optim.lr_scheduler.ReduceLROnPlateau``: multiply the learning
    rate by ``factor`` when ``monitor`` stops improving for ``patience`` epochs."""

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
        verbose: int = 0,
    ) -> None:
        self.monitor, self.verbose = monitor, verbose
        self.kwargs: dict[str, Any] = dict(
            factor=factor,
            patience=patience,
            threshold=min_delta,
            threshold_mode="abs",
            cooldown=cooldown,
            min_lr=min_lr,
        )
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self.kwargs["mode"] = mode

    def on_train_begin(self, logs: dict | None = None) -> None:
        from flowgrad.optim.lr_scheduler import ReduceLROnPlateau as Plateau

        self.scheduler = Plateau(self.model.optimizer, **self.kwargs)

    def state_dict(self) -> dict:
        return self.scheduler.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.scheduler.load_state_dict(state)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if not logs or self.monitor not in logs:
            _warn_missing(self, self.monitor, logs)
            return
        before = float(self.model.optimizer.param_groups[0]["lr"])
        self.scheduler.step(float(logs[self.monitor]))
        logs["lr"] = float(self.model.optimizer.param_groups[0]["lr"])
        if self.verbose and logs["lr"] < before:
            print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing the learning rate to {logs['lr']:.6g}")
