"""Run folders: create one, lock it against a second ``flowgrad train``, never clobber a run.

A run folder is locked by ``<folder>/.lock``, created with ``O_EXCL`` (so exactly one
process can create it) and holding ``pid host``. A lock whose process is gone (a crash, a
SIGKILL) is stale: the next run takes it over. The takeover renames the stale file away
first, which only one process can do, so two processes that find the same stale lock do
not both win.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp()) / "demo"
>>> with RunLock(folder):
...     (folder / ".lock").exists()
True
>>> (folder / ".lock").exists()
False
"""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path
from types import TracebackType

import flowgrad as fg

from . import config as cfg
from .config import ConfigError, located
from .sizes import available_memory, human_bytes, model_bytes

LOCK = ".lock"
# What `flowgrad train` writes in a run folder: an existing one means the folder holds a run.
RUN_FILES = ("config.toml", "checkpoint.safetensors", "metrics.csv", "interrupted.safetensors", "loss.png",
             "confusion.png")  # fmt: skip


def file_error(doing: str, path: Path | str, exc: OSError) -> fg.DataError:
    """A clear error (exit code 3) for a file or folder the system refused."""
    why = exc.strerror or str(exc)
    if isinstance(exc, FileExistsError) or exc.errno == errno.EEXIST:
        why = "a file is in the way (not a folder)"
    elif isinstance(exc, NotADirectoryError) or exc.errno == errno.ENOTDIR:
        why = "a part of the path is a file, not a folder"
    elif isinstance(exc, FileNotFoundError):
        why = "no such folder"
    where = exc.filename if exc.filename is not None else path
    return fg.DataError(f"cannot {doing} {where}: {why}")


def make_folder(folder: Path) -> None:
    """Create ``folder`` (and its parents) or raise a clear DataError."""
    if folder.exists() and not folder.is_dir():
        raise fg.DataError(f"cannot use {folder} as the run folder: it is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise file_error("create the run folder", folder, exc) from None


def _alive(pid: int, host: str) -> bool:
    """Whether the process that wrote a lock may still run (unknown counts as yes)."""
    if host != socket.gethostname() or os.name != "posix":
        return True  # another machine's process, or no cheap check: never take over a live run
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    except OSError:
        return True
    return True


def _read(path: Path) -> tuple[int, str] | None:
    """The ``(pid, host)`` in a lock file; None if it is gone or not (yet) a lock."""
    try:
        parts = path.read_text(encoding="utf-8").split()
        return int(parts[0]), parts[1] if len(parts) > 1 else ""
    except (OSError, ValueError, IndexError):
        return None


class RunLock:
    """Holds ``folder/.lock`` while a run writes the folder (creating the folder if needed)."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.path = folder, folder / LOCK
        self.held = False

    def __enter__(self) -> RunLock:
        make_folder(self.folder)
        me = f"{os.getpid()} {socket.gethostname()}\n"
        for _ in range(20):  # each pass either takes the lock, refuses, or removes a stale one
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if self._take_over_stale():
                    continue
                owner = _read(self.path)
                if owner is None:  # just created, pid not written yet: a live process
                    owner = (0, "")
                raise ConfigError(
                    f"{self.folder}: another flowgrad train is using this run folder (process "
                    f"{owner[0] or '?'}{' on ' + owner[1] if owner[1] else ''}, lock file {self.path}); wait for "
                    f"it to finish or choose another --name. If no such process runs, delete {self.path}"
                ) from None
            except OSError as exc:
                raise file_error("lock the run folder", self.path, exc) from None
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(me)
            self.held = True
            return self
        raise ConfigError(f"{self.folder}: could not take the lock {self.path}: other processes keep changing it")

    def _take_over_stale(self) -> bool:
        """Remove the lock if its process is dead; True when the caller should try again."""
        owner = _read(self.path)
        if owner is None:
            return not self.path.exists()  # gone meanwhile: try again; else being written: live
        if _alive(*owner):
            return False
        aside = self.path.with_name(f"{LOCK}.stale.{os.getpid()}")
        try:
            os.replace(self.path, aside)  # only one process moves this file
        except FileNotFoundError:
            return True  # another process took it over first
        if _read(aside) == owner:
            aside.unlink(missing_ok=True)
            return True
        # We moved a fresh lock that a faster process had put in its place: give it back.
        try:
            os.link(aside, self.path)
        except OSError:
            pass
        aside.unlink(missing_ok=True)
        return False

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.held and _read(self.path) == (os.getpid(), socket.gethostname()):
            self.path.unlink(missing_ok=True)
        self.held = False


def claim(folder: Path, overwrite: bool) -> None:
    """Refuse to start a new run over an existing one, or (with --overwrite) clear it."""
    found = [name for name in RUN_FILES if (folder / name).exists()]
    if not found:
        return
    if not overwrite:
        raise ConfigError(
            f"{folder} already holds a run ({', '.join(found)}); give --overwrite to replace it, "
            f"continue it with: flowgrad train --resume {folder}, or choose another --name"
        )
    for name in found:
        try:
            (folder / name).unlink()
        except OSError as exc:
            raise file_error("remove the old run's", folder / name, exc) from None


def check_data(
    config: dict, n_samples: int, n_test: int, n_in: int, n_out: int, task: str, n_classes: int, itemsize: int = 4
) -> None:
    """The checks that need the data: both splits non-empty, a loss and metrics that fit the task,
    and a model within memory. Raises one ConfigError listing every problem."""
    errors = []
    d, m, t = config["data"], config["model"], config["train"]
    n_train = n_samples - n_test
    if n_train < 1 or (d["test_split"] > 0 and n_test < 1):
        errors.append(located(
            config, "data", "test_split",
            f"{d['test_split']} of {n_samples} samples leaves {n_train} for training and {n_test} for testing; "
            "each split used needs at least one sample",
        ))  # fmt: skip
    errors += _fit(config, task, n_classes, n_out)
    need = model_bytes(m["layers"], n_in, n_out, min(t["batch_size"], max(n_train, 1)), itemsize)
    have = available_memory()
    if have is not None and need > have:
        errors.append(located(
            config, "model", "layers",
            f"{m['layers']} on {n_in} features needs about {human_bytes(need)} (weights, gradients, optimizer "
            f"state and a batch of {min(t['batch_size'], n_train)}), more than the {human_bytes(have)} available",
        ))  # fmt: skip
    if errors:
        raise ConfigError("\n".join(errors))


def _fit(config: dict, task: str, n_classes: int, n_out: int) -> list[str]:
    """Whether the loss, the metrics and the output activation fit what the model predicts.

    Each mismatch used to be a ShapeError in the first step, or worse, a run that trained on
    nonsense without a word (labels 0, 1, 2 read as probabilities by bce).
    """
    out, loss, metrics = config["model"]["output_activation"], config["train"]["loss"], config["train"]["metrics"]
    errors = []
    losses: tuple[str, ...]
    names: tuple[str, ...]
    if task == "classification" and out == "sigmoid":
        what = "classification with a sigmoid output (the probability of the second class)"
        losses, names = cfg.PROBABILITY_LOSSES + cfg.REGRESSION_LOSSES, cfg.METRICS
        if n_classes != 2:
            errors.append(located(config, "model", "output_activation",
                                  f'"sigmoid" gives one probability, for two classes; the data has {n_classes} '
                                  '(use "none": one score per class)'))  # fmt: skip
    elif task == "classification":
        what = f"classification into {n_classes} classes (one score per class)"
        losses, names = cfg.CLASS_LOSSES, cfg.CLASS_METRICS
        if out == "softmax":
            errors.append(located(config, "model", "output_activation",
                                  '"softmax" before cross_entropy applies softmax twice (the loss takes raw '
                                  'scores; predict gives probabilities): use "none"'))  # fmt: skip
    else:
        what = f"regression ({n_out} output{'s' if n_out > 1 else ''})"
        losses, names = cfg.REGRESSION_LOSSES, cfg.REGRESSION_METRICS
        if out == "softmax" and n_out == 1:
            errors.append(located(config, "model", "output_activation",
                                  '"softmax" over one output is always 1: use "none" or "sigmoid"'))  # fmt: skip
    if loss != "auto" and loss not in losses:
        errors.append(located(config, "train", "loss", f'"{loss}" does not fit {what}; use one of {", ".join(losses)}'))
    if metrics != ["auto"]:
        for name in metrics:
            if name not in names:
                errors.append(located(config, "train", "metrics",
                                      f'"{name}" does not fit {what}; use names from {", ".join(names)}'))  # fmt: skip
            elif name == "top_k_accuracy" and n_classes <= 5:
                errors.append(located(config, "train", "metrics",
                                      f"top_k_accuracy counts the top 5 of {n_classes} classes: always 1"))  # fmt: skip
    return errors
