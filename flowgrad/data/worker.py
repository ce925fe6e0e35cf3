"""What runs inside a ``DataLoader`` worker process, and ``get_worker_info()``.

A worker receives ``(epoch, batch number, indices)`` tasks on its own queue, reads and collates
the batch, and sends ``(epoch, batch number, batch)`` back on its own pipe. Tensors travel as
their NumPy arrays (``_pack``) and are wrapped again in the main process (``_unpack``), so no
autograd graph or tensor internals ever cross a process boundary.

>>> import flowgrad as fg
>>> fg.data.get_worker_info() is None   # in the main process
True
"""

from __future__ import annotations

import os
import queue
import random
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

import flowgrad as fg

__all__ = ["WorkerInfo", "WorkerError", "get_worker_info"]

# How often (seconds) an idle worker checks that the main process still exists.
_POLL_S = 0.2


class WorkerError(fg.FlowgradError, RuntimeError):
    """A ``DataLoader`` worker process died, timed out, or raised an error of a type that
    cannot be rebuilt in the main process."""


@dataclass(frozen=True)
class WorkerInfo:
    """About the current ``DataLoader`` worker: ``id`` (0 to ``num_workers - 1``), ``num_workers``,
    ``seed`` (``base_seed + id``, already given to ``random``, NumPy and flowgrad) and ``dataset``
    (this worker's own copy of the data set).

    >>> import flowgrad as fg
    >>> fg.data.WorkerInfo(id=0, num_workers=2, seed=5, dataset=None).num_workers
    2
    """

    id: int
    num_workers: int
    seed: int
    dataset: Any


_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """Inside a ``DataLoader`` worker process, its :class:`WorkerInfo`; ``None`` in the main process.

    An ``IterableDataset`` uses it in ``__iter__`` to read only its share of the stream
    (every worker iterates its own copy of the data set, so without sharding each item
    would come ``num_workers`` times).

    >>> import flowgrad as fg
    >>> print(fg.data.get_worker_info())
    None
    """
    return _info


def seed_worker(base_seed: int, worker_id: int) -> int:
    """Seed Python's ``random``, NumPy's global generator and flowgrad's from ``base_seed + worker_id``."""
    seed = base_seed + worker_id
    random.seed(seed)
    fg.manual_seed(seed)
    # np.random.seed takes at most 32 bits per word: a few words derived from both numbers.
    np.random.seed(np.random.SeedSequence([worker_id, base_seed]).generate_state(4))
    return seed


@dataclass
class _Ended:
    """An iterable data set ran out in this worker: send it no more tasks this epoch."""

    worker_id: int


@dataclass
class _Failure:
    """An exception in a worker, as text: the main process raises it again."""

    worker_id: int
    type_module: str
    type_name: str
    message: str
    trace: str
    where: str

    @classmethod
    def capture(cls, worker_id: int, error: BaseException, where: str) -> _Failure:
        kind = type(error)
        trace = "".join(traceback.format_exception(kind, error, error.__traceback__))
        message = str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)
        return cls(worker_id, kind.__module__, kind.__qualname__, message, trace, where)

    def error(self) -> BaseException:
        """The exception to raise in the main process: the worker's type when it can be found among
        the modules already imported here, else a ``WorkerError``; its message ends with the
        worker's traceback."""
        text = (
            f"{self.type_name} in DataLoader worker {self.worker_id} {self.where}: {self.message}\n\n"
            f"Traceback in the worker process:\n{self.trace.rstrip()}"
        )
        kind: Any = _find_type(self.type_module, self.type_name)
        if kind is not None:
            try:
                return kind(_Text(text) if issubclass(kind, KeyError) else text)
            except Exception:  # noqa: BLE001 - a type that needs other arguments: fall back
                pass
        return WorkerError(text)


class _Text(str):
    """A message that prints as itself, not quoted: ``str(KeyError(m))`` is ``repr(m)``."""

    def __repr__(self) -> str:
        return str(self)


def _find_type(module: str, qualname: str) -> type[BaseException] | None:
    # Only modules the main process has imported already: nothing is imported because a worker said so.
    import sys

    obj: Any = sys.modules.get(module)
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    if isinstance(obj, type) and issubclass(obj, Exception):
        return obj
    return None


@dataclass
class _Array:
    """A tensor on its way between processes: its array only."""

    array: np.ndarray


def _pack(value: Any) -> Any:
    """Tensors replaced by their arrays, inside lists, tuples (named too) and dicts."""
    if isinstance(value, fg.Tensor):
        return _Array(np.asarray(value.detach()))
    if isinstance(value, Mapping):
        return type(value)({k: _pack(v) for k, v in value.items()}) if type(value) is dict else value
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(_pack(v) for v in value))
    if type(value) in (list, tuple):
        return type(value)(_pack(v) for v in value)
    return value


def _unpack(value: Any) -> Any:
    """The inverse of :func:`_pack`, in the main process."""
    if isinstance(value, _Array):
        return fg.from_numpy(value.array)
    if type(value) is dict:
        return {k: _unpack(v) for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(_unpack(v) for v in value))
    if type(value) in (list, tuple):
        return type(value)(_unpack(v) for v in value)
    return value


@dataclass
class WorkerSpec:
    """Everything a worker needs, made once per pool (sent to a spawned worker when it starts)."""

    dataset: Any
    fetcher: Any  # a fetch.Fetcher: .start() gives a fresh one for each epoch
    num_workers: int
    base_seed: int
    worker_init_fn: Callable[[int], Any] | None


def worker_main(spec: WorkerSpec, worker_id: int, tasks: Any, results: Any, done: Any, parent_pid: int) -> None:
    """The body of a worker process (the ``target`` of its ``Process``)."""
    global _info
    try:
        _loop(spec, worker_id, tasks, results, done, parent_pid)
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: the main process reports it
        pass
    finally:
        _info = None
        tasks.cancel_join_thread()  # nothing this worker wrote to it is waiting to be read


def _loop(spec: WorkerSpec, worker_id: int, tasks: Any, results: Any, done: Any, parent_pid: int) -> None:
    global _info
    seed = seed_worker(spec.base_seed, worker_id)
    _info = WorkerInfo(id=worker_id, num_workers=spec.num_workers, seed=seed, dataset=spec.dataset)
    init_failure = None
    if spec.worker_init_fn is not None:
        try:
            spec.worker_init_fn(worker_id)
        except Exception as e:  # noqa: BLE001 - every task then answers with this failure
            init_failure = _Failure.capture(worker_id, e, "in worker_init_fn")
    fetch: Callable[[Any], Any] | None = None
    epoch, ended = None, False
    while True:
        try:
            task = tasks.get(timeout=_POLL_S)
        except queue.Empty:
            if os.getppid() != parent_pid:  # the main process is gone (killed): do not linger
                return
            continue
        if task is None or done.is_set():
            return
        task_epoch, number, payload = task
        if task_epoch != epoch:  # a new epoch (persistent workers): a fresh pass over the data
            epoch, ended, fetch = task_epoch, False, None
        if ended:
            continue
        if init_failure is not None:
            out: Any = init_failure
        else:
            try:
                if fetch is None:
                    fetch = spec.fetcher.start()
                out = _pack(fetch(payload))
            except StopIteration:
                out, ended = _Ended(worker_id), True
            except Exception as e:  # noqa: BLE001 - reported to the main process, which raises it
                out = _Failure.capture(worker_id, e, f"while reading batch {number}")
        try:
            results.send((task_epoch, number, out))
        except (BrokenPipeError, OSError):  # the main process closed its end: shutting down
            return
        except Exception as e:  # noqa: BLE001 - the batch cannot be sent (an object of a local class, ...)
            failure = _Failure.capture(worker_id, e, f"while sending batch {number} to the main process")
            results.send((task_epoch, number, failure))
