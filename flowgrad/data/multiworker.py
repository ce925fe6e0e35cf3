"""The main process's side of ``DataLoader(num_workers=N)``: the worker pool and the epoch iterator.

Each worker has a task queue (``multiprocessing.Queue``: the main process never blocks on a
put) and a result pipe of its own (a worker's send fails in the worker, where it can be
reported, if a batch cannot be sent). The main process waits on the result pipes and the
workers' process sentinels together, so a worker that dies is noticed at once, and puts the
batches back in the order they were asked for. Nothing goes through a file.

>>> import numpy as np, flowgrad as fg
>>> loader = fg.data.DataLoader(fg.data.ArrayDataset(np.arange(6)), batch_size=4, num_workers=1)
>>> [b.tolist() for (b,) in loader]
[[0, 1, 2, 3], [4, 5]]
"""

from __future__ import annotations

import atexit
import itertools
import os
import signal
import time
import weakref
from collections.abc import Iterator
from multiprocessing.connection import wait
from typing import Any

from .worker import WorkerError, WorkerSpec, _Ended, _Failure, _unpack, worker_main

__all__ = ["WorkerPool", "WorkerIterator"]

# Seconds a worker gets to finish its batch and exit when asked, before it is terminated.
_GRACE_S = 1.0

_live: weakref.WeakSet[WorkerPool] = weakref.WeakSet()


@atexit.register
def _shutdown_all() -> None:
    # Runs before multiprocessing's own exit handler (registered earlier, so run later): workers
    # are asked to stop and joined rather than left to be terminated mid-batch.
    for pool in list(_live):
        pool.shutdown()


class WorkerPool:
    """``num_workers`` started worker processes; ``shutdown()`` stops and joins them (also on GC and at exit)."""

    def __init__(self, spec: WorkerSpec, context: Any) -> None:
        self.pid = os.getpid()
        self.closed = False
        self.epoch = 0  # the epoch the workers serve now; an older iterator over them is stale
        self.done = context.Event()
        self.tasks: list[Any] = []
        self.readers: list[Any] = []
        self.procs: list[Any] = []
        _live.add(self)
        try:
            for i in range(spec.num_workers):
                tasks = context.Queue()
                reader, writer = context.Pipe(duplex=False)
                proc = context.Process(
                    target=worker_main,
                    args=(spec, i, tasks, writer, self.done, self.pid),
                    name=f"flowgrad-DataLoader-worker-{i}",
                    daemon=True,  # never outlives the main process, even if shutdown() is skipped
                )
                self.tasks.append(tasks)
                self.readers.append(reader)
                self.procs.append(proc)
                proc.start()
                # Only the worker writes to its pipe; closing our copy here also keeps it out of
                # the workers forked after this one.
                writer.close()
        except BaseException:
            self.shutdown()
            raise

    def shutdown(self) -> None:
        """Stop the workers (asked first, then terminated after a grace period) and reap them."""
        if self.closed or os.getpid() != self.pid:  # a forked child's inherited copy is not its to stop
            return
        self.closed = True
        self.done.set()
        for tasks in self.tasks:
            try:
                tasks.put(None)
            except (OSError, ValueError):
                pass
        deadline = time.monotonic() + _GRACE_S
        readers: set[Any] = set(self.readers)
        while any(p.is_alive() for p in self.procs if p.pid is not None):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            # Read and drop whatever workers are still sending, so none stays blocked in a send.
            ready: Any
            for ready in wait([*readers, *(p.sentinel for p in self.procs if p.pid is not None)], timeout=left):
                if ready in readers:
                    try:
                        ready.recv()
                    except (EOFError, OSError):
                        readers.discard(ready)
                    except Exception:  # noqa: BLE001 - a batch that cannot be rebuilt here: dropped anyway
                        pass
        for proc in self.procs:
            if proc.pid is None:
                continue
            if proc.is_alive():
                proc.terminate()
            proc.join(_GRACE_S)
            if proc.is_alive():
                proc.kill()
                proc.join()
        for tasks in self.tasks:
            tasks.cancel_join_thread()  # tasks the workers never read are dropped, not waited on
            tasks.close()
        for reader in self.readers:
            reader.close()
        _live.discard(self)

    def __del__(self) -> None:
        try:
            self.shutdown()
        except Exception:  # noqa: BLE001, S110 - at interpreter exit modules may be half gone
            pass


class WorkerIterator:
    """One epoch's batches from a pool, in the order of ``payloads`` (lists of indices, or ``None``
    for each next batch of an iterable data set)."""

    def __init__(
        self, pool: WorkerPool, payloads: Iterator[Any], epoch: int, prefetch: int, timeout: float, persistent: bool
    ) -> None:
        n = len(pool.procs)
        self._pool, self._payloads, self._epoch = pool, payloads, epoch
        pool.epoch = epoch
        self._timeout, self._persistent = timeout, persistent
        self._active = [True] * n
        self._turn = itertools.cycle(range(n))
        self._sent = self._received = 0
        self._owner: dict[int, int] = {}  # batch number -> the worker asked for it
        self._arrived: dict[int, Any] = {}  # batches that came before their turn
        self._exhausted = False
        self._broken: set[int] = set()  # workers whose pipe was closed (they are exiting)
        for _ in range(prefetch * n):
            self._ask()

    def __iter__(self) -> WorkerIterator:
        return self

    def _ask(self) -> None:
        """Send the next batch's payload to the next worker that still has data."""
        if self._exhausted or not any(self._active):
            return
        worker = next(w for w in self._turn if self._active[w])
        try:
            payload = next(self._payloads)
        except StopIteration:
            self._exhausted = True
            return
        self._pool.tasks[worker].put((self._epoch, self._sent, payload))
        self._owner[self._sent] = worker
        self._sent += 1

    def __next__(self) -> Any:
        if self._pool.closed:
            raise StopIteration
        if self._pool.epoch != self._epoch:  # with persistent_workers, a later iter(loader) took the workers
            raise WorkerError(
                "DataLoader: this iterator's workers have moved on to a newer epoch: with persistent_workers=True "
                "a loader runs one epoch at a time, and iter(loader) started another one"
            )
        while True:
            while self._received < self._sent:
                number = self._received
                if number in self._arrived:
                    out = self._arrived.pop(number)
                    del self._owner[number]
                    self._received += 1
                    self._ask()
                    if isinstance(out, _Failure):
                        raise out.error()
                    return _unpack(out)
                if not self._active[self._owner[number]]:  # its worker's stream ended first
                    del self._owner[number]
                    self._received += 1
                    continue
                break
            if self._received >= self._sent:
                if not self._persistent:
                    self._pool.shutdown()
                raise StopIteration
            self._receive()

    def _receive(self) -> None:
        """Wait for at least one message from the workers; raise if one died or time ran out."""
        pool = self._pool
        deadline = None if self._timeout <= 0 else time.monotonic() + self._timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            readers = [r for w, r in enumerate(pool.readers) if w not in self._broken]
            ready = wait([*readers, *(p.sentinel for p in pool.procs)], timeout=left)
            got = False
            for worker, reader in enumerate(pool.readers):
                if reader in ready:
                    try:
                        epoch, number, out = reader.recv()
                    except (EOFError, OSError):  # its process is gone: reported below
                        self._broken.add(worker)
                        continue
                    got = True
                    if epoch != self._epoch:  # left over from an epoch that was broken off
                        continue
                    if isinstance(out, _Ended):
                        self._active[worker] = False
                    else:
                        self._arrived[number] = out
            if got:
                return
            for worker, proc in enumerate(pool.procs):
                if not proc.is_alive() and (worker in self._broken or not pool.readers[worker].poll()):
                    pool.shutdown()
                    raise WorkerError(
                        f"DataLoader worker {worker} (pid {proc.pid}) exited unexpectedly {_how(proc.exitcode)}; "
                        f"the other workers were stopped. {_hint(proc.exitcode)}"
                    )
            if not ready:
                raise WorkerError(
                    f"DataLoader timed out after {self._timeout:g} s (timeout=) waiting for batch {self._received} "
                    f"from worker {self._owner.get(self._received)}"
                )

    def __del__(self) -> None:
        if not self._persistent:
            try:
                self._pool.shutdown()
            except Exception:  # noqa: BLE001, S110 - at interpreter exit modules may be half gone
                pass


def _how(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"(killed by signal {signal.Signals(-exitcode).name})"
        except ValueError:
            return f"(killed by signal {-exitcode})"
    return f"(exit code {exitcode})"


def _hint(exitcode: int | None) -> str:
    if exitcode == -signal.SIGKILL:
        return "Killed by the system without a word often means out of memory: try fewer workers or smaller batches"
    if exitcode is not None and exitcode > 0:
        return (
            "Its error output above says why; with the 'spawn' start method, the data set must be importable and "
            'the main script\'s loop must sit under `if __name__ == "__main__":`'
        )
    return "Something outside the loader stopped it"
