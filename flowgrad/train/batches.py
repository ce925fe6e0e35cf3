"""Turning what ``fit`` is given (arrays, datasets, loaders, pipelines) into (x, y) batches."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

import flowgrad as fg
from flowgrad.errors import ArgumentError, DTypeError, check_int, given


def as_array(x: Any) -> np.ndarray:
    if isinstance(x, fg.Tensor):
        return x._data
    return np.asarray(x)


class ArrayBatches:
    """Mini-batches of aligned arrays; shuffled with flowgrad's generator at each pass,
    so runs under ``fg.manual_seed`` (and resumed runs) see the same order."""

    def __init__(self, arrays: list[np.ndarray], batch_size: int, shuffle: bool, where: str = "fit") -> None:
        for name, a in zip(("x", "y"), arrays):  # a string made a 0-d array: "len() of unsized object"
            if a.ndim == 0 or a.dtype.kind not in "biuf":
                raise DTypeError(
                    f"{where}: {name} must be an array of samples (numbers), got {a.dtype} of shape {a.shape}"
                )
        batch_size = check_int(batch_size, where, "batch_size", minimum=1)
        n = {len(a) for a in arrays}
        if len(n) != 1:
            raise fg.ShapeError(f"{where}: inputs and targets have different lengths: {[len(a) for a in arrays]}")
        self.arrays, self.batch_size, self.shuffle = arrays, int(batch_size), shuffle
        self.n = n.pop()

    def __len__(self) -> int:
        return -(-self.n // self.batch_size)

    def __iter__(self) -> Iterator[tuple]:
        order = fg.default_generator().permutation(self.n) if self.shuffle else None
        for start in range(0, self.n, self.batch_size):
            if order is None:
                yield tuple(fg.from_numpy(a[start : start + self.batch_size]) for a in self.arrays)
            else:
                idx = order[start : start + self.batch_size]
                yield tuple(fg.from_numpy(a[idx]) for a in self.arrays)


def batches(x: Any, y: Any, batch_size: int, shuffle: bool, where: str) -> Any:
    """An iterable of (x, y) batches (re-iterable, one pass per epoch)."""
    if y is not None or isinstance(x, (np.ndarray, fg.Tensor, list)):
        if y is None:
            raise ArgumentError(f"{where}: arrays given for x but no targets y")
        return ArrayBatches([as_array(x), as_array(y)], batch_size, shuffle, where)
    if x is None:
        raise ArgumentError(f"{where}: no data: pass x and y arrays, a Dataset, a DataLoader or a GeneratorDataset")
    if hasattr(x, "__getitem__") and hasattr(x, "__len__") and not hasattr(x, "batch"):
        from flowgrad.data import DataLoader  # a map-style Dataset

        if not isinstance(x, DataLoader):
            return DataLoader(x, batch_size=batch_size, shuffle=shuffle)
    if isinstance(x, (str, bytes)):  # iterable, but not data
        raise DTypeError(f"{where}: expected arrays or a dataset of (x, y) batches, got {given(x)}")
    if where == "fit" and _unbatched_pipeline(x):
        return x.batch(batch_size)  # rows from a CSVDataset or GeneratorDataset: batch them as asked
    if not hasattr(x, "__iter__"):
        raise DTypeError(
            f"{where}: cannot iterate over {type(x).__name__}; expected arrays or a dataset of (x, y) batches"
        )
    return x


def _unbatched_pipeline(x: Any) -> bool:
    from flowgrad.data import Pipeline

    return isinstance(x, Pipeline) and not x.is_batched


def split_batch(batch: Any, where: str) -> tuple[Any, Any]:
    """(x, y) from a batch given as a tuple/list of two, or a dict with 'data'/'label' columns."""
    if isinstance(batch, dict):
        values = list(batch.values())
        if len(values) != 2:
            raise fg.DataError(f"{where}: a batch dict needs two columns (data, label), got {list(batch)}")
        return values[0], values[1]
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch[0], batch[1]
    raise fg.DataError(
        f"{where}: each batch must be (inputs, targets), got {type(batch).__name__} of length {len(batch) if hasattr(batch, '__len__') else '?'}"
    )


def count(data: Any) -> int | None:
    try:
        return len(data)
    except TypeError:
        size = getattr(data, "get_dataset_size", None)
        return size() if size else None
