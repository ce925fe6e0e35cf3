"""Reading one batch: the same code in the main process (``num_workers=0``) and in workers.

A ``Fetcher`` of a map-style data set turns a list of indices (or one index, without
batching) into a batch; one of an iterable data set reads the next batch from its own
iterator and raises ``StopIteration`` at the end. ``start()`` gives a fresh one per epoch.

>>> import numpy as np, flowgrad as fg
>>> f = Fetcher(fg.data.ArrayDataset(np.arange(5)), iterable=False, batch_size=2, drop_last=False,
...             collate_fn=None).start()
>>> f([4, 0])[0].tolist()
[4, 0]
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

import flowgrad as fg

from .collate import _convert, default_collate
from .pipeline import Pipeline

__all__ = ["Fetcher"]


class Fetcher:
    """Batches of ``dataset`` on request; see the module docstring."""

    def __init__(
        self,
        dataset: Any,
        iterable: bool,
        batch_size: int | None,
        drop_last: bool,
        collate_fn: Callable[[Any], Any] | None,
    ) -> None:
        self.dataset, self.iterable = dataset, iterable
        self.batch_size, self.drop_last, self.collate_fn = batch_size, drop_last, collate_fn
        # An ArrayDataset (or Subsets of one) with the default collate: one fancy-index per array.
        self.fast = collate_fn is None and not iterable and _has_fetch(dataset)
        self._items: Iterator[Any] | None = None

    def start(self) -> Fetcher:
        """A fetcher at the start of an epoch (an iterable data set is iterated anew)."""
        fresh = Fetcher(self.dataset, self.iterable, self.batch_size, self.drop_last, self.collate_fn)
        if self.iterable:
            fresh._items = self._stream()
        return fresh

    def __call__(self, indices: Any) -> Any:
        if self.iterable:
            assert self._items is not None, "call start() first"
            return next(self._items)
        ds = self.dataset
        if self.batch_size is None:  # no batching: one index, one item
            item = ds[int(indices)]
            return _convert(item) if self.collate_fn is None else self.collate_fn(item)
        if self.fast:
            return [fg.from_numpy(a) for a in ds._fetch(np.asarray(indices, dtype=np.intp))]
        return (self.collate_fn or default_collate)([ds[int(i)] for i in indices])

    def _stream(self) -> Iterator[Any]:
        bs = self.batch_size
        if bs is None:
            for item in self.dataset:
                yield _convert(item) if self.collate_fn is None else self.collate_fn(item)
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
