"""What every hostile-file test shares: a time budget, a memory meter, the oracle's verdicts, figures.

A load is run by :func:`attempt`, which gives it a wall-clock budget (SIGALRM where the platform
has it, a stopwatch everywhere), turns every warning into an error (a RuntimeWarning from a
cast is a bug, not a refusal) and measures the peak of Python and NumPy allocations with
tracemalloc. The tests then judge the :class:`Outcome` and count it in :data:`FIGURES`, which
``conftest.py`` prints at the end of the run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import tracemalloc
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

VERIFY = os.environ.get("FLOWGRAD_VERIFY") == "1"  # `make verify`: the long run
TIME_BUDGET_S = 1.0  # per file; a load that takes longer is a hang
MEMORY_FACTOR = 16  # peak allocation during a load may be this many times the file's size...
MEMORY_SLACK = 1 << 20  # ...plus this much (buffers, the sniffed prefix, NumPy and csv internals)


class Hang(BaseException):
    """Raised by the alarm inside a load that ran past its budget.

    A BaseException, so that no ``except Exception`` inside flowgrad can turn it into a
    clean-looking CheckpointError.
    """


@dataclass
class Outcome:
    value: Any = None
    error: BaseException | None = None
    seconds: float = 0.0
    peak: int = 0  # bytes allocated at the peak, above what was allocated before the load


@contextlib.contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:  # Windows, or not the main thread: the stopwatch in attempt() still judges
        yield
        return

    def ring(signum: int, frame: Any) -> None:
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def metered() -> Iterator[None]:
    """Trace allocations for a batch of attempts (tracemalloc is slow to start, not to reset)."""
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        yield
    finally:
        if started:
            tracemalloc.stop()


def attempt(load: Callable[[], Any], budget: float = TIME_BUDGET_S) -> Outcome:
    """Run ``load()`` once under a time budget, with warnings as errors, measuring its peak memory.

    Call inside :func:`metered`. Hang is caught here too: it becomes the outcome's error.
    """
    out = Outcome()
    before = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    start = time.perf_counter()
    try:
        with warnings.catch_warnings(), _alarm(budget):
            warnings.simplefilter("error")
            out.value = load()
    except (Exception, Hang) as e:  # noqa: BLE001 - judging every exception is the point
        out.error = e
    out.seconds = time.perf_counter() - start
    out.peak = max(0, tracemalloc.get_traced_memory()[1] - before)
    return out


def memory_limit(size: int) -> int:
    return MEMORY_FACTOR * size + MEMORY_SLACK


def judge_error(out: Outcome, expected: type, path: str, size: int) -> str | None:
    """None when the load was refused properly: one ``expected`` error naming the file and the problem.

    Otherwise, what was wrong with the refusal, for the test's report. Time and memory are
    judged for every outcome by :func:`judge_cost`.
    """
    e = out.error
    if isinstance(e, Hang):
        return f"hang: {e}"
    if type(e) is not expected:
        return f"raised {type(e).__module__}.{type(e).__qualname__}, not {expected.__name__}: {e!s:.300}"
    msg = str(e)
    if not msg.startswith(f"{path}:"):
        return f"message does not start with the file's path: {msg!r:.300}"
    problem = msg[len(path) + 1 :].strip()
    if len(problem) < 8:
        return f"message does not say what is wrong: {msg!r:.300}"
    if len(msg) > 2000:  # a clear message, not a dump of the hostile file
        return f"message of {len(msg)} characters: {msg[:200]!r}..."
    return None


def judge_cost(out: Outcome, size: int, budget: float = TIME_BUDGET_S) -> str | None:
    if out.seconds > budget:
        return f"took {out.seconds:.2f} s (budget {budget} s)"
    if out.peak > memory_limit(size):
        return f"allocated {out.peak} bytes at the peak for a {size}-byte file (limit {memory_limit(size)})"
    return None


@dataclass
class Tally:
    """The figures of one kind of hostile file, for the end-of-run summary."""

    mutated: int = 0
    refused: int = 0
    loaded: int = 0  # loaded and checked against the oracle
    wrong: list[str] = field(default_factory=list)
    slowest: float = 0.0
    largest_peak: tuple[int, int] = (0, 0)  # (peak bytes, the file's size) of the most memory-hungry load
    kinds: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, out: Outcome, size: int, problem: str | None, loaded: bool) -> None:
        self.mutated += 1
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        self.slowest = max(self.slowest, out.seconds)
        self.largest_peak = max(self.largest_peak, (out.peak, size))
        if problem is not None:
            self.wrong.append(problem)
        elif loaded:
            self.loaded += 1
        else:
            self.refused += 1


FIGURES: dict[str, Tally] = {}  # "fg.load", "fg.load_checkpoint", "CSVDataset" -> its tally
ARGUMENT_FIGURES: dict[str, int] = {"calls": 0, "clear": 0, "wrong": 0}
SOURCE_FIGURES: dict[str, int] = {"files": 0, "allowed": 0, "wrong": 0}
# tests/test_checkpoint_crash.py: SIGKILLs while saving, and how many landed mid-write
CRASH_FIGURES: dict = {"kills": 0, "mid_write": 0}


def tally(name: str) -> Tally:
    return FIGURES.setdefault(name, Tally())


def chunks(total: int, size: int) -> list[range]:
    return [range(start, min(start + size, total)) for start in range(0, total, size)]
