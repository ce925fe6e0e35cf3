"""``DataLoader`` and ``default_collate``, with PyTorch's semantics.

>>> import numpy as np, flowgrad as fg
>>> ds = fg.data.ArrayDataset(np.arange(10.0).reshape(5, 2).astype(np.float32), np.arange(5))
>>> loader = fg.data.DataLoader(ds, batch_size=2)
>>> len(loader), [(x.shape, y.tolist()) for x, y in loader]
(3, [((2, 2), [0, 1]), ((2, 2), [2, 3]), ((1, 2), [4])])
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

import flowgrad as fg
from flowgrad.errors import given

from .dataset import IterableDataset
from .pipeline import Pipeline

__all__ = ["DataLoader", "default_collate"]


class DataLoader:
    """Batches from ``dataset``, as tensors: ``for x, y in DataLoader(ds, batch_size=32, shuffle=True)``.

    - A map-style data set (``__len__`` and ``__getitem__``) is read in order, or in a new
      random order each epoch with ``shuffle=True``. The permutation is drawn when an epoch
      starts, from ``fg.default_generator()`` (so ``fg.manual_seed`` makes runs repeat), or
      from a generator of the loader's own when ``seed`` is given.
    - An iterable data set (``IterableDataset``, a ``GeneratorDataset``, a ``CSVDataset``) is
      batched in its own order; ``shuffle=True`` is an error, as in PyTorch.
    - ``batch_size=None`` yields single items converted to tensors, unbatched.

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
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | None = None,
        collate_fn: Callable[[list], Any] | None = None,
    ) -> None:
        if batch_size is not None and (
            isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1
        ):
            raise fg.DataError(f"DataLoader: batch_size must be a positive integer or None, got {batch_size!r}")
        if collate_fn is not None and not callable(collate_fn):  # was "'int' object is not callable" mid-epoch
            raise fg.DataError(f"DataLoader: collate_fn must be a function of a list of items, got {given(collate_fn)}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise fg.DataError(f"DataLoader: seed must be a non-negative integer or None, got {given(seed)}")
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
        # A generator of its own, made once: successive epochs differ, whole runs repeat.
        self._rng = None if seed is None else np.random.default_rng(seed)

    def __len__(self) -> int:
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
        # Not a generator function: the epoch's permutation is drawn here, when iter() is
        # called, not later at the first next().
        if self._iterable:
            return self._iter_stream()
        n = len(self.dataset)
        if self.shuffle:
            order = (self._rng or fg.default_generator()).permutation(n)
        else:
            order = np.arange(n)
        return self._iter_indexed(order)

    def _iter_indexed(self, order: np.ndarray) -> Iterator[Any]:
        ds, bs = self.dataset, self.batch_size
        if bs is None:
            for i in order:
                yield _convert(ds[int(i)])
            return
        stop = len(order) - len(order) % bs if self.drop_last else len(order)
        fast = self.collate_fn is None and _has_fetch(ds)
        for start in range(0, stop, bs):
            idx = order[start : start + bs]
            if fast:
                yield [fg.from_numpy(a) for a in ds._fetch(idx)]
            else:
                yield (self.collate_fn or default_collate)([ds[int(i)] for i in idx])

    def _iter_stream(self) -> Iterator[Any]:
        bs = self.batch_size
        if bs is None:
            for item in self.dataset:
                yield _convert(item)
            return
        if self.collate_fn is None and isinstance(self.dataset, Pipeline):
            # Pipelines stack whole columns (a CSVDataset a block of lines at a time).
            for batch in self.dataset._iter_batches(bs, self.drop_last):
                yield [fg.from_numpy(a) for a in batch]
            return
        items = iter(self.dataset)
        while True:
            group = list(itertools.islice(items, bs))
            if not group or (self.drop_last and len(group) < bs):
                return
            yield (self.collate_fn or default_collate)(group)


def _has_fetch(ds: Any) -> bool:
    while hasattr(ds, "_fetch"):
        if not hasattr(ds, "dataset"):  # an ArrayDataset: the end of a chain of Subsets
            return True
        ds = ds.dataset
    return False


def default_collate(batch: list) -> Any:
    """Stack a list of items into a batch, as PyTorch's ``default_collate``.

    Tensors and ndarrays are stacked along a new first dimension, keeping their dtype;
    Python floats become float64, ints int64, bools bool; strings stay a list. Tuples and
    lists of fields are collated field by field (into a list, as PyTorch), dicts key by key.

    >>> import numpy as np, flowgrad as fg
    >>> x, y = fg.data.default_collate([(np.zeros(2, np.float32), 1), (np.ones(2, np.float32), 0)])
    >>> x.shape, x.dtype, y
    ((2, 2), dtype('float32'), tensor([1, 0]))
    """
    if not batch:
        raise fg.DataError("default_collate: the batch is empty")
    elem = batch[0]
    if isinstance(elem, (fg.Tensor, np.ndarray, np.generic)):
        return fg.from_numpy(_stack([e._data if isinstance(e, fg.Tensor) else np.asarray(e) for e in batch]))
    if isinstance(elem, (bool, int, float)):
        dtype = np.bool_ if isinstance(elem, bool) else np.int64 if isinstance(elem, int) else np.float64
        try:
            return fg.from_numpy(np.array(batch, dtype=dtype))
        except (TypeError, ValueError, OverflowError):  # [1, "a"]: NumPy's bare error
            kinds = sorted({type(e).__name__ for e in batch})
            raise fg.DataError(
                f"default_collate: cannot batch a {type(elem).__name__} with items of types {kinds}"
            ) from None
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple keeps its type
        return type(elem)(*(default_collate(list(f)) for f in zip(*batch)))
    if isinstance(elem, Sequence):
        sizes = {len(e) for e in batch}
        if len(sizes) > 1:
            raise fg.DataError(f"default_collate: items have different numbers of fields: {sorted(sizes)}")
        return [default_collate(list(f)) for f in zip(*batch)]
    raise fg.DataError(f"default_collate: cannot batch items of type {type(elem).__name__}; pass a collate_fn")


def _stack(arrays: list[np.ndarray]) -> np.ndarray:
    try:
        return np.stack(arrays)
    except ValueError:
        shapes = sorted({a.shape for a in arrays})
        raise fg.DataError(
            f"default_collate: cannot stack items of different shapes {', '.join(map(str, shapes))}"
        ) from None


def _convert(item: Any) -> Any:
    """An item with its arrays and numbers made tensors, unbatched (``batch_size=None``)."""
    if isinstance(item, fg.Tensor):
        return item
    if isinstance(item, (np.ndarray, np.generic)):
        return fg.from_numpy(np.asarray(item))
    if isinstance(item, Mapping):
        return {k: _convert(v) for k, v in item.items()}
    if isinstance(item, tuple) and hasattr(item, "_fields"):
        return type(item)(*(_convert(v) for v in item))
    if isinstance(item, (list, tuple)):
        return [_convert(v) for v in item]
    return item
