"""``DataLoader``, with PyTorch's arguments and semantics, worker processes included.

>>> import numpy as np, flowgrad as fg
>>> ds = fg.data.ArrayDataset(np.arange(10.0).reshape(5, 2).astype(np.float32), np.arange(5))
>>> loader = fg.data.DataLoader(ds, batch_size=2)
>>> len(loader), [(x.shape, y.tolist()) for x, y in loader]
(3, [((2, 2), [0, 1]), ((2, 2), [2, 3]), ((1, 2), [4])])
"""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

import flowgrad as fg
from flowgrad import backend
from flowgrad.errors import given

from .collate import default_collate
from .dataset import IterableDataset
from .fetch import Fetcher
from .multiworker import WorkerIterator, WorkerPool
from .pipeline import Pipeline
from .sampler import BatchSampler, RandomSampler, SequentialSampler
from .worker import WorkerSpec

__all__ = ["DataLoader", "default_collate"]


class DataLoader:
    """Batches from ``dataset``, as tensors: ``for x, y in DataLoader(ds, batch_size=32, shuffle=True)``.

    - A map-style data set (``__len__`` and ``__getitem__``) is read in order, or in a new
      random order each epoch with ``shuffle=True``; ``sampler=`` (indices) or
      ``batch_sampler=`` (lists of indices) choose the order instead. The permutation is drawn
      when an epoch starts, from ``generator=`` (a ``fg.Generator`` or NumPy Generator), from a
      generator of the loader's own when ``seed`` is given, else from ``fg.default_generator()``
      (so ``fg.manual_seed`` makes runs repeat).
    - An iterable data set (``IterableDataset``, a ``GeneratorDataset``, a ``CSVDataset``) is
      batched in its own order; ``shuffle=True`` or a sampler is an error, as in PyTorch.
    - ``batch_size=None`` yields single items converted to tensors, unbatched.
    - ``num_workers=N`` reads batches in N worker processes (``prefetch_factor`` batches ahead
      each) and yields them in the same order as ``num_workers=0``; see docs/data.md for
      seeding, ``get_worker_info()``, ``worker_init_fn``, ``timeout`` and ``persistent_workers``.
    - ``pin_memory`` is accepted and does nothing: flowgrad tensors live in ordinary CPU memory.

    ``collate_fn`` turns a list of items into a batch (default: ``default_collate``, which
    stacks and keeps dtypes). An ``ArrayDataset`` (or a ``Subset`` of one) with the default
    collate is batched by fancy-indexing each array once per batch: no per-item loop.

    >>> import numpy as np, flowgrad as fg
    >>> ds = fg.data.ArrayDataset(np.arange(6))
    >>> [b.tolist() for (b,) in fg.data.DataLoader(ds, batch_size=4, shuffle=True, seed=0)]
    [[3, 2, 5, 4], [0, 1]]
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool | None = False,
        sampler: Any = None,
        batch_sampler: Any = None,
        num_workers: int = 0,
        collate_fn: Callable[[Any], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], Any] | None = None,
        multiprocessing_context: Any = None,
        generator: Any = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        seed: int | None = None,
    ) -> None:
        if batch_size is not None and (
            isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1
        ):
            raise fg.DataError(f"DataLoader: batch_size must be a positive integer or None, got {batch_size!r}")
        if collate_fn is not None and not callable(collate_fn):  # checked here, not mid-epoch
            raise fg.DataError(f"DataLoader: collate_fn must be a function of a list of items, got {given(collate_fn)}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise fg.DataError(f"DataLoader: seed must be a non-negative integer or None, got {given(seed)}")
        if seed is not None and generator is not None:
            raise fg.DataError("DataLoader: give seed= or generator=, not both (seed= makes a generator of its own)")
        if generator is not None:
            backend.rng(generator)  # its type is checked now, not at the first epoch
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self._iterable = isinstance(dataset, IterableDataset) or not (
            hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")
        )
        if self._iterable and not hasattr(dataset, "__iter__"):
            raise fg.DataError(
                f"DataLoader: {type(dataset).__name__} is not a data set: it needs __len__ and __getitem__, or __iter__"
            )
        if self._iterable and self.shuffle:
            raise fg.DataError(
                f"DataLoader: cannot shuffle an iterable data set ({type(dataset).__name__}); "
                "shuffle it at the source (e.g. a pipeline's .shuffle(buffer_size))"
            )
        self._check_samplers(sampler, batch_sampler, batch_size)
        _check_workers(num_workers, timeout, prefetch_factor, persistent_workers, worker_init_fn)
        self.num_workers = int(num_workers)
        self.timeout = float(timeout)
        self.worker_init_fn = worker_init_fn
        self.prefetch_factor = prefetch_factor if prefetch_factor is not None or not num_workers else 2
        self.persistent_workers = bool(persistent_workers)
        self.multiprocessing_context = _context(multiprocessing_context, self.num_workers)
        self.pin_memory = bool(pin_memory)  # accepted for PyTorch code; CPU tensors need no pinning
        self.pin_memory_device = pin_memory_device
        # A generator of its own, made once: successive epochs differ, whole runs repeat.
        self._rng = None if seed is None else np.random.default_rng(seed)
        self.generator = generator
        self._own_order = sampler is None and batch_sampler is None  # shuffle/batch_size decide the order
        if self._iterable:
            self.sampler, self.batch_sampler = None, None
        else:
            if sampler is None:
                rng = self._rng if self._rng is not None else generator
                sampler = RandomSampler(dataset, generator=rng) if self.shuffle else SequentialSampler(dataset)
            if batch_sampler is None and self.batch_size is not None:
                batch_sampler = BatchSampler(sampler, self.batch_size, self.drop_last)
            self.sampler, self.batch_sampler = sampler, batch_sampler
        self._epochs = 0
        self._pool: WorkerPool | None = None  # kept across epochs with persistent_workers

    def _check_samplers(self, sampler: Any, batch_sampler: Any, batch_size: int | None) -> None:
        name = type(self.dataset).__name__
        if self._iterable and sampler is not None:
            raise fg.DataError(
                f"DataLoader: an iterable data set ({name}) is read in its own order: sampler= must be None"
            )
        if self._iterable and batch_sampler is not None:
            raise fg.DataError(
                f"DataLoader: an iterable data set ({name}) is read in its own order: batch_sampler= must be None"
            )
        if sampler is not None and self.shuffle:
            raise fg.DataError("DataLoader: sampler= and shuffle=True exclude each other: the sampler sets the order")
        if batch_sampler is not None and (batch_size != 1 or self.shuffle or sampler is not None or self.drop_last):
            raise fg.DataError(
                "DataLoader: batch_sampler= makes the batches itself: leave batch_size (1), shuffle, sampler and "
                "drop_last at their defaults"
            )
        if batch_size is None and self.drop_last:
            raise fg.DataError("DataLoader: batch_size=None yields single items: drop_last=True has nothing to drop")
        for arg, value in (("sampler", sampler), ("batch_sampler", batch_sampler)):
            if value is not None and not hasattr(value, "__iter__"):
                raise fg.DataError(f"DataLoader: {arg} must be an iterable of indices, got {given(value)}")

    def __len__(self) -> int:
        if self.batch_sampler is not None and not self._own_order:
            return len(self.batch_sampler)
        if self.sampler is not None and not self._own_order:
            return (
                len(self.sampler)
                if self.batch_size is None
                else len(BatchSampler(self.sampler, self.batch_size, self.drop_last))
            )
        try:
            n = self.dataset.get_dataset_size() if isinstance(self.dataset, Pipeline) else len(self.dataset)
            if n is None:
                raise TypeError
        except TypeError:
            raise fg.DTypeError(f"DataLoader: the data set ({type(self.dataset).__name__}) has no len()") from None
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        # Not a generator function: the epoch's order is drawn here, when iter() is called,
        # not later at the first next().
        self._epochs += 1
        payloads = self._payloads()
        if self.num_workers == 0:
            return self._iter_here(payloads)
        seed = self._base_seed()
        pool = self._pool
        if pool is None or pool.closed:
            spec = WorkerSpec(self.dataset, self._fetcher(), self.num_workers, seed, self.worker_init_fn)
            pool = WorkerPool(spec, self.multiprocessing_context)
            self._pool = pool if self.persistent_workers else None
        assert self.prefetch_factor is not None
        return WorkerIterator(pool, payloads, self._epochs, self.prefetch_factor, self.timeout, self.persistent_workers)

    def _fetcher(self) -> Fetcher:
        return Fetcher(self.dataset, self._iterable, self.batch_size, self.drop_last, self.collate_fn)

    def _payloads(self) -> Iterator[Any]:
        """What each batch is read from: lists (or arrays) of indices, one index, or None (a stream)."""
        if self._iterable:
            return iter(lambda: None, 0)  # "the next batch", for ever: the stream says when it ends
        if not self._own_order:
            source = self.batch_sampler if self.batch_sampler is not None else self.sampler
            return iter(source)  # type: ignore[arg-type]
        # The loader's own order, as one array sliced per batch (fast for large data sets).
        n = len(self.dataset)
        if self.shuffle:
            rng = self._rng if self._rng is not None else backend.rng(self.generator)
            order = rng.permutation(n)
        else:
            order = np.arange(n)
        bs = self.batch_size
        if bs is None:
            return iter(order.tolist())
        stop = n - n % bs if self.drop_last else n
        return (order[start : start + bs] for start in range(0, stop, bs))

    def _iter_here(self, payloads: Iterator[Any]) -> Iterator[Any]:
        fetch = self._fetcher().start()
        for payload in payloads:
            if not self._iterable:
                yield fetch(payload)
                continue
            try:
                batch = fetch(payload)
            except StopIteration:  # the stream ended
                return
            yield batch

    def _base_seed(self) -> int:
        """The workers' base seed for this epoch, derived without drawing from the generator, so that
        num_workers changes no other random number (a copy of the generator is read instead)."""
        rng = self._rng if self._rng is not None else backend.rng(self.generator)
        copy = type(rng.bit_generator)()
        copy.state = rng.bit_generator.state
        value = int(np.random.Generator(copy).integers(0, 2**63 - 1))
        mixed = np.random.SeedSequence([value, self._epochs]).generate_state(1, np.uint64)[0]
        return int(mixed >> np.uint64(1))  # 63 bits: base_seed + worker_id fits an int64, as in PyTorch

    def __del__(self) -> None:
        pool = getattr(self, "_pool", None)
        if pool is not None:
            try:
                pool.shutdown()
            except Exception:  # noqa: BLE001, S110 - at interpreter exit modules may be half gone
                pass


def _check_workers(
    num_workers: Any, timeout: Any, prefetch_factor: Any, persistent_workers: Any, worker_init_fn: Any
) -> None:
    if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)) or num_workers < 0:
        raise fg.DataError(
            f"DataLoader: num_workers must be an integer >= 0 (0 reads in the main process), got {given(num_workers)}"
        )
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout >= 0:
        raise fg.DataError(
            f"DataLoader: timeout must be a number of seconds >= 0 (0: wait for ever), got {given(timeout)}"
        )
    if prefetch_factor is not None:
        if num_workers == 0:
            raise fg.DataError(
                "DataLoader: prefetch_factor applies only to worker processes: give num_workers > 0, or leave "
                "prefetch_factor=None"
            )
        if (
            isinstance(prefetch_factor, bool)
            or not isinstance(prefetch_factor, (int, np.integer))
            or prefetch_factor < 1
        ):
            raise fg.DataError(
                f"DataLoader: prefetch_factor (batches in flight per worker) must be a positive integer, "
                f"got {given(prefetch_factor)}"
            )
    if persistent_workers and num_workers == 0:
        raise fg.DataError("DataLoader: persistent_workers=True needs num_workers > 0 (workers to keep)")
    if worker_init_fn is not None and not callable(worker_init_fn):
        raise fg.DataError(
            f"DataLoader: worker_init_fn must be a function of the worker id, got {given(worker_init_fn)}"
        )


def _context(context: Any, num_workers: int) -> Any:
    """The multiprocessing context: "fork" where the system has it (Linux, macOS), else "spawn"."""
    if context is None:
        methods = multiprocessing.get_all_start_methods()
        return multiprocessing.get_context("fork" if "fork" in methods else "spawn") if num_workers else None
    if num_workers == 0:
        raise fg.DataError(
            f"DataLoader: multiprocessing_context applies only to worker processes (num_workers > 0), "
            f"got num_workers=0 and multiprocessing_context={context!r}"
        )
    if isinstance(context, str):
        methods = multiprocessing.get_all_start_methods()
        if context not in methods:
            raise fg.DataError(
                f"DataLoader: multiprocessing_context must be one of {methods} on this system, got {context!r}"
            )
        return multiprocessing.get_context(context)
    if not (hasattr(context, "Process") and hasattr(context, "get_start_method")):
        raise fg.DataError(
            f"DataLoader: multiprocessing_context must be a start method name or a multiprocessing context, "
            f"got {given(context)}"
        )
    return context
