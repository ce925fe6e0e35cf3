"""``GeneratorDataset``: a pipeline source over Python data, with MindSpore's name and semantics.

>>> import numpy as np, flowgrad as fg
>>> def pairs():
...     for i in range(5):
...         yield np.array([i], np.float32), np.array([2 * i], np.float32)
>>> ds = fg.data.GeneratorDataset(pairs, column_names=["data", "label"]).batch(2)
>>> ds.get_dataset_size(), [x.shape for x, _ in ds]
(None, [(2, 1), (2, 1), (1, 1)])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

import flowgrad as fg

from .pipeline import Pipeline, Row

__all__ = ["GeneratorDataset"]


class GeneratorDataset(Pipeline):
    """Rows from ``source``, one column per name in ``column_names``.

    ``source`` is one of:

    - a generator function (any callable without ``__getitem__``): called anew for each
      pass, so every epoch sees fresh data;
    - an indexable (``__getitem__`` and ``__len__``: a list, an array, an ``ArrayDataset``):
      read by index, so its size is known and ``shuffle=True`` can permute it each epoch;
    - any other iterable: iterated once per pass. A one-shot iterator (a generator object)
      can be read only once; a second pass is an error rather than an empty epoch.

    Each item is a tuple (or list) with one value per column, or a dict keyed by column
    name; with a single column the bare value is fine. Values become ndarrays, keeping
    their dtype. ``shuffle=True`` (indexable sources only) draws a new permutation each
    pass from ``fg.default_generator()``; unlike MindSpore, the default is not to shuffle.

    >>> import numpy as np, flowgrad as fg
    >>> data = [(np.array([i], np.float32), np.array([i % 2], np.int64)) for i in range(6)]
    >>> ds = fg.data.GeneratorDataset(data, column_names=["data", "label"]).batch(4)
    >>> ds.get_dataset_size(), [(x.shape, y.dtype) for x, y in ds]
    (2, [((4, 1), dtype('int64')), ((2, 1), dtype('int64'))])
    """

    def __init__(
        self,
        source: Callable[[], Iterable] | Iterable | Sequence,
        column_names: str | Sequence[str],
        shuffle: bool = False,
    ) -> None:
        names = [column_names] if isinstance(column_names, str) else list(column_names)
        if not names or not all(isinstance(c, str) for c in names):
            raise fg.DataError(
                f"GeneratorDataset: column_names must be a non-empty list of strings, got {column_names!r}"
            )
        if len(set(names)) != len(names):
            raise fg.DataError(f"GeneratorDataset: column_names has duplicates: {names}")
        self.column_names = names
        self.source: Any = source  # its kind, found below, says how to read it
        self.shuffle_rows = bool(shuffle)
        if hasattr(source, "__getitem__") and hasattr(source, "__len__"):
            self._kind = "indexable"
        elif callable(source):
            self._kind = "function"
        elif hasattr(source, "__iter__"):
            self._kind = "iterator" if iter(source) is source else "iterable"
        else:
            raise fg.DataError(
                "GeneratorDataset: source must be a generator function, an iterable or an indexable "
                f"(with __getitem__ and __len__), got {type(source).__name__}"
            )
        if self.shuffle_rows and self._kind != "indexable":
            raise fg.DataError(
                "GeneratorDataset: shuffle=True needs an indexable source (a list or an object with "
                "__getitem__ and __len__); shuffle a stream with .shuffle(buffer_size) instead"
            )
        self._passes = 0

    def _num_rows(self) -> float | None:
        if self._kind == "indexable":
            return len(self.source)
        if self._kind == "iterable" and hasattr(self.source, "__len__"):
            return len(self.source)  # e.g. a CSVDataset, which counts its rows cheaply
        return None

    def _iter_rows(self) -> Iterator[Row]:
        self._passes += 1
        if self._kind == "indexable":
            n = len(self.source)
            order = fg.default_generator().permutation(n) if self.shuffle_rows else range(n)
            items: Iterable = (self.source[int(i)] for i in order)
        elif self._kind == "function":
            items = self.source()
        elif self._kind == "iterator" and self._passes > 1:
            raise fg.DataError(
                "GeneratorDataset: the source is a one-shot iterator (a generator object), already read; "
                "pass the generator function itself (without calling it) or a list to read it every epoch"
            )
        else:
            items = self.source
        return self._rows(items)

    def _rows(self, items: Iterable) -> Iterator[Row]:
        names, n = self.column_names, len(self.column_names)
        for k, item in enumerate(items):
            if isinstance(item, dict):
                missing = [c for c in names if c not in item]
                if missing:
                    raise fg.DataError(f"GeneratorDataset: item {k} has no key {missing[0]!r}; it has {list(item)}")
                fields: Any = [item[c] for c in names]
            elif isinstance(item, tuple) or (isinstance(item, list) and n > 1):
                fields = item
            else:
                fields = (item,)
            if len(fields) != n:
                raise fg.DataError(
                    f"GeneratorDataset: item {k} has {len(fields)} fields but there are {n} columns {names}"
                )
            yield tuple(np.asarray(v) for v in fields)
