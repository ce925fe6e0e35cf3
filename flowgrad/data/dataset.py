"""Map-style datasets (PyTorch's contract): ``Dataset``, ``ArrayDataset``, ``Subset``, ``random_split``.

>>> import numpy as np, flowgrad as fg
>>> ds = fg.data.ArrayDataset(np.arange(6.0).reshape(3, 2), np.array([0, 1, 0]))
>>> len(ds), ds[1]
(3, (tensor([2., 3.], dtype=fg.float64), tensor(1)))
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

import flowgrad as fg
from flowgrad.errors import given

__all__ = ["Dataset", "IterableDataset", "ArrayDataset", "TensorDataset", "Subset", "random_split"]


class Dataset:
    """A map-style data set: ``len(ds)`` items, read as ``ds[i]`` for ``0 <= i < len(ds)``.

    Subclass it and define ``__len__`` and ``__getitem__``; any object with those two
    methods works too (a list of ``(x, y)`` pairs is a data set).

    >>> import flowgrad as fg
    >>> class Squares(fg.data.Dataset):
    ...     def __len__(self):
    ...         return 4
    ...     def __getitem__(self, i):
    ...         return float(i), float(i * i)
    >>> [y for _, y in fg.data.DataLoader(Squares(), batch_size=2)]
    [tensor([0., 1.], dtype=fg.float64), tensor([4., 9.], dtype=fg.float64)]
    """

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


class IterableDataset:
    """A data set read only in order, through ``__iter__`` (a stream, a file, a generator).

    ``DataLoader`` batches consecutive items; it cannot shuffle a stream (use a pipeline's
    ``.shuffle(buffer_size)`` for that).

    >>> import flowgrad as fg
    >>> class Count(fg.data.IterableDataset):
    ...     def __iter__(self):
    ...         return iter(range(5))
    >>> [b.tolist() for b in fg.data.DataLoader(Count(), batch_size=2)]
    [[0, 1], [2, 3], [4]]
    """

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class ArrayDataset(Dataset):
    """Rows of equally long arrays: item ``i`` is ``(a[i], b[i], ...)`` as tensors.

    Arrays keep their dtype; tensors are used without copying. ``DataLoader`` batches an
    ``ArrayDataset`` by indexing every array once per batch, not item by item.
    ``TensorDataset`` is the same class under PyTorch's name.

    >>> import numpy as np, flowgrad as fg
    >>> ds = fg.data.TensorDataset(fg.ones(4, 3), np.arange(4))
    >>> x, y = ds[2]; x.shape, y.item()
    ((3,), 2)
    """

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise fg.DataError("ArrayDataset needs at least one array")
        self.arrays: tuple[np.ndarray, ...] = tuple(_as_ndarray(a, k) for k, a in enumerate(arrays))
        lengths = [len(a) for a in self.arrays]
        if len(set(lengths)) > 1:
            listed = ", ".join(f"{n} (array {k})" for k, n in enumerate(lengths))
            raise fg.DataError(f"ArrayDataset: arrays must have the same first dimension, got lengths {listed}")

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: int) -> tuple:
        # np.asarray keeps a row a view (no copy), and makes a 0-d array of a scalar element.
        return tuple(fg.from_numpy(np.asarray(a[index])) for a in self.arrays)

    def _fetch(self, indices: np.ndarray) -> tuple[np.ndarray, ...]:
        """All arrays at ``indices`` in one fancy-indexing step each (DataLoader's fast path)."""
        return tuple(a[indices] for a in self.arrays)


TensorDataset = ArrayDataset


def _as_ndarray(a: Any, k: int) -> np.ndarray:
    arr = a._data if isinstance(a, fg.Tensor) else np.asarray(a)
    if arr.ndim == 0:
        raise fg.DataError(f"ArrayDataset: array {k} is a scalar; each array needs a first (sample) dimension")
    return arr


class Subset(Dataset):
    """The items of ``dataset`` at ``indices``, in that order.

    >>> import numpy as np, flowgrad as fg
    >>> sub = fg.data.Subset(fg.data.ArrayDataset(np.arange(10)), [7, 2])
    >>> len(sub), sub[0][0].item()
    (2, 7)
    """

    def __init__(self, dataset: Any, indices: Sequence[int] | np.ndarray) -> None:
        self.dataset = dataset
        try:
            self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        except (TypeError, ValueError):  # NumPy's bare error for ["a"] or None
            raise fg.DataError(f"Subset: indices must be integers, got {given(indices)}") from None

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[index])]

    def _fetch(self, indices: np.ndarray) -> tuple[np.ndarray, ...]:
        # Only reached when the parent has a fast path (see DataLoader), so a Subset of an
        # ArrayDataset batches as fast as the ArrayDataset itself.
        return self.dataset._fetch(self.indices[indices])


def random_split(dataset: Any, lengths: Sequence[float], seed: int | None = None) -> list[Subset]:
    """Split ``dataset`` at random into non-overlapping ``Subset``s of the given lengths.

    ``lengths`` are counts summing to ``len(dataset)``, or fractions summing to 1 (the
    rounding remainder goes one item at a time to the first subsets, as in PyTorch). The
    permutation comes from ``np.random.default_rng(seed)``, or from flowgrad's generator
    (``fg.manual_seed``) when ``seed`` is None.

    >>> import numpy as np, flowgrad as fg
    >>> train, val = fg.data.random_split(fg.data.ArrayDataset(np.arange(10)), [0.8, 0.2], seed=0)
    >>> len(train), len(val)
    (8, 2)
    """
    n = len(dataset)
    # Numbers first: strings failed on `<` with a bare TypeError.
    if isinstance(lengths, (str, bytes)) or not isinstance(lengths, Iterable):
        raise fg.DataError(f"random_split: lengths must be a list of counts or fractions, got {given(lengths)}")
    lengths = list(lengths)
    if not all(isinstance(x, numbers.Real) and not isinstance(x, bool) for x in lengths):
        raise fg.DataError(f"random_split: lengths must be counts or fractions, got {given(lengths)}")
    if not lengths:
        raise fg.DataError("random_split: lengths is empty")
    if any(x < 0 for x in lengths):
        raise fg.DataError(f"random_split: lengths must not be negative, got {lengths}")
    if math.isclose(sum(lengths), 1.0) and sum(lengths) <= 1.0 + 1e-9:
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
    else:
        if any(int(x) != x for x in lengths):
            raise fg.DataError(f"random_split: fractions must sum to 1, got {lengths} (sum {sum(lengths)})")
        counts = [int(x) for x in lengths]
        if sum(counts) != n:
            raise fg.DataError(f"random_split: lengths {counts} sum to {sum(counts)}, but the data set has {n} items")
    rng = fg.default_generator() if seed is None else np.random.default_rng(seed)
    order = rng.permutation(n)
    bounds = np.cumsum([0, *counts])
    return [Subset(dataset, order[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:])]
