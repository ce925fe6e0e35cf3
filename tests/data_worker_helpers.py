"""Data sets for tests/test_data_workers.py, in a module of their own so that workers started
with the "spawn" method (a fresh interpreter) can import them."""

from __future__ import annotations

import os
import random
import time

import numpy as np

import flowgrad as fg


class Squares(fg.data.Dataset):
    """Item i is (i, i*i) as arrays; optionally slow."""

    def __init__(self, n: int, delay: float = 0.0) -> None:
        self.n, self.delay = n, delay

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        if self.delay:
            time.sleep(self.delay)
        return np.array([i], np.int64), np.float64(i * i)


class WhoAmI(fg.data.Dataset):
    """Item i says which process and worker read it, and draws from every random source."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        info = fg.data.get_worker_info()
        return {
            "index": i,
            "pid": os.getpid(),
            "worker": -1 if info is None else info.id,
            "num_workers": -1 if info is None else info.num_workers,
            "seed": -1 if info is None else info.seed % 2**62,
            "same_dataset": info is not None and info.dataset is self,
            "python": random.random(),
            "numpy": np.random.random(),
            "flowgrad": float(fg.rand(1).item()),
            "initialised": os.environ.get("FG_TEST_WORKER_INIT", ""),
        }


class FailsAt(fg.data.Dataset):
    """Raises ValueError at one index."""

    def __init__(self, n: int, bad: int) -> None:
        self.n, self.bad = n, bad

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        if i == self.bad:
            raise ValueError(f"item {i} is corrupt")
        return np.float32(i)


class SleepsAt(fg.data.Dataset):
    """Sleeps `seconds` at one index."""

    def __init__(self, n: int, slow: int, seconds: float) -> None:
        self.n, self.slow, self.seconds = n, slow, seconds

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        if i == self.slow:
            time.sleep(self.seconds)
        return np.float32(i)


class Pid(fg.data.Dataset):
    """Item i is the reading process's id."""

    def __len__(self) -> int:
        return 1000

    def __getitem__(self, i: int):
        return os.getpid()


class ShardedRange(fg.data.IterableDataset):
    """0 .. n-1, each worker reading every num_workers-th item (the get_worker_info idiom)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __iter__(self):
        info = fg.data.get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))


def mark_worker(worker_id: int) -> None:
    """A worker_init_fn: leaves a trace the items report."""
    os.environ["FG_TEST_WORKER_INIT"] = f"init {worker_id}"
