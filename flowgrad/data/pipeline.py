"""Lazy, re-iterable pipelines with MindSpore's names: ``.batch .repeat .shuffle .map .take .skip``.

Every stage is a ``Pipeline`` that holds its parent and nothing else: iterating one runs
the whole chain again from the source, so each epoch is a fresh pass. Rows travel between
stages as tuples of ndarrays (one per column); they become flowgrad tensors only at the
end, in ``create_tuple_iterator`` / ``create_dict_iterator`` / ``__iter__``.

>>> import numpy as np, flowgrad as fg
>>> ds = fg.data.GeneratorDataset([(np.float32(i),) for i in range(10)], ["x"])
>>> [b.tolist() for (b,) in ds.map(lambda x: x * 10).batch(4, drop_remainder=True)]
[[0.0, 10.0, 20.0, 30.0], [40.0, 50.0, 60.0, 70.0]]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

import flowgrad as fg

from .dataset import IterableDataset

__all__ = ["Pipeline"]

Row = tuple  # one ndarray per column


class Pipeline(IterableDataset):
    """Base of ``GeneratorDataset``, ``CSVDataset`` and every stage chained after them.

    Subclasses define ``_iter_rows()`` (one epoch of rows) and ``_num_rows()`` (an int,
    ``math.inf`` for endless, None when unknown without reading everything).

    >>> import flowgrad as fg
    >>> ds = fg.data.GeneratorDataset(list(range(7)), "n").repeat(2).batch(3)
    >>> isinstance(ds, fg.data.Pipeline), ds.get_dataset_size(), [b.tolist() for (b,) in ds.take(2)]
    (True, 5, [[0, 1, 2], [3, 4, 5]])
    """

    column_names: list[str]

    # -- what a subclass provides ------------------------------------------------------
    def _iter_rows(self) -> Iterator[Row]:
        raise NotImplementedError

    def _num_rows(self) -> float | None:
        return None

    def _iter_batches(self, batch_size: int, drop_remainder: bool) -> Iterator[Row]:
        """Rows stacked ``batch_size`` at a time; sources that read in blocks override this."""
        rows = self._iter_rows()
        while True:
            group = list(itertools.islice(rows, batch_size))
            if not group or (drop_remainder and len(group) < batch_size):
                return
            yield _stack_rows(group, self.column_names)

    # -- chaining ----------------------------------------------------------------------
    @property
    def is_batched(self) -> bool:
        """True when a ``.batch()`` stage is in this chain (its rows are batches)."""
        return False

    def batch(self, batch_size: int, drop_remainder: bool = False) -> Pipeline:
        """Stack ``batch_size`` consecutive rows per column; the last, shorter batch is kept
        unless ``drop_remainder``."""
        return _Batch(self, _positive_int(batch_size, "batch", "batch_size"), bool(drop_remainder))

    def repeat(self, count: int | None = None) -> Pipeline:
        """Go through the data ``count`` times (None or -1: forever), re-reading the source
        (and re-shuffling) each time."""
        if count is not None and count != -1:
            count = _positive_int(count, "repeat", "count")
        return _Repeat(self, None if count in (None, -1) else count)

    def shuffle(self, buffer_size: int) -> Pipeline:
        """Shuffle through a buffer of ``buffer_size`` rows, as tf.data and MindSpore do: each
        row out is drawn at random from the buffer, which the next row refills. A buffer at
        least as large as the data set gives a uniform shuffle. Reshuffles every epoch;
        follows ``fg.manual_seed``."""
        return _Shuffle(self, _positive_int(buffer_size, "shuffle", "buffer_size"))

    def map(
        self,
        operations: Callable | Sequence[Callable],
        input_columns: str | Sequence[str] | None = None,
        output_columns: str | Sequence[str] | None = None,
    ) -> Pipeline:
        """Apply ``operations`` (a function or a list applied in turn) to ``input_columns``
        (default: all columns), given as ndarrays; the results replace those columns, or
        become ``output_columns`` when given."""
        return _Map(self, operations, input_columns, output_columns)

    def take(self, count: int) -> Pipeline:
        """The first ``count`` rows (or batches, after ``.batch``); -1 takes all."""
        if count != -1:
            count = _non_negative_int(count, "take", "count")
        return _Slice(self, 0, None if count == -1 else count)

    def skip(self, count: int) -> Pipeline:
        """All but the first ``count`` rows (or batches)."""
        return _Slice(self, _non_negative_int(count, "skip", "count"), None)

    # -- reading -----------------------------------------------------------------------
    def get_dataset_size(self) -> int | None:
        """Rows (or batches) in one pass; None when endless or unknown without reading it all."""
        n = self._num_rows()
        return None if n is None or n == math.inf else int(n)

    def get_col_names(self) -> list[str]:
        """The column names, in order."""
        return list(self.column_names)

    def create_tuple_iterator(self, output_numpy: bool = False) -> Iterator[list]:
        """One pass over the data as lists of tensors (ndarrays if ``output_numpy``), one per column."""
        convert = _identity if output_numpy else _to_tensor
        return ([convert(a) for a in row] for row in self._iter_rows())

    def create_dict_iterator(self, output_numpy: bool = False) -> Iterator[dict]:
        """One pass over the data as dicts ``{column name: tensor}``."""
        convert = _identity if output_numpy else _to_tensor
        names = self.column_names
        return ({k: convert(a) for k, a in zip(names, row)} for row in self._iter_rows())

    def __iter__(self) -> Iterator[tuple]:
        return (tuple(_to_tensor(a) for a in row) for row in self._iter_rows())

    def __repr__(self) -> str:
        return f"{type(self).__name__.lstrip('_')}(columns={self.column_names})"


def _stack_rows(rows: list[Row], names: Sequence[str]) -> Row:
    """Stack a list of rows into one batch per column, naming the column whose shapes differ."""
    out = []
    for k, name in enumerate(names):
        column = [r[k] for r in rows]
        try:
            out.append(np.stack(column))
        except ValueError:
            shapes = sorted({np.shape(a) for a in column})
            raise fg.DataError(
                f"batch: column {name!r} has rows of different shapes {', '.join(map(str, shapes))}; "
                "pad or resize them (with .map) before batching"
            ) from None
    return tuple(out)


def _identity(a: np.ndarray) -> np.ndarray:
    return a


def _to_tensor(a: np.ndarray) -> fg.Tensor:
    return fg.from_numpy(a)


def _positive_int(value: Any, op: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise fg.DataError(f"{op}: {name} must be a positive integer, got {value!r}")
    return int(value)


def _non_negative_int(value: Any, op: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise fg.DataError(f"{op}: {name} must be a non-negative integer, got {value!r}")
    return int(value)


class _Stage(Pipeline):
    def __init__(self, parent: Pipeline) -> None:
        self.parent = parent
        self.column_names = list(parent.column_names)

    def _num_rows(self) -> float | None:
        return self.parent._num_rows()

    @property
    def is_batched(self) -> bool:
        return self.parent.is_batched


class _Batch(_Stage):
    def __init__(self, parent: Pipeline, batch_size: int, drop_remainder: bool) -> None:
        super().__init__(parent)
        self.batch_size, self.drop_remainder = batch_size, drop_remainder

    @property
    def is_batched(self) -> bool:
        return True

    def _iter_rows(self) -> Iterator[Row]:
        return self.parent._iter_batches(self.batch_size, self.drop_remainder)

    def _num_rows(self) -> float | None:
        n = self.parent._num_rows()
        if n is None or n == math.inf:
            return n
        return n // self.batch_size if self.drop_remainder else math.ceil(n / self.batch_size)

    def get_batch_size(self) -> int:
        """The batch size given to ``.batch``."""
        return self.batch_size


class _Repeat(_Stage):
    def __init__(self, parent: Pipeline, count: int | None) -> None:
        super().__init__(parent)
        self.count = count

    def _iter_rows(self) -> Iterator[Row]:
        passes = itertools.count() if self.count is None else range(self.count)
        for _ in passes:
            empty = True
            for row in self.parent._iter_rows():
                empty = False
                yield row
            if empty:  # repeating an empty pass forever would hang without a word
                return

    def _num_rows(self) -> float | None:
        n = self.parent._num_rows()
        if n is None or n == 0:
            return n
        return math.inf if self.count is None else n * self.count


class _Shuffle(_Stage):
    def __init__(self, parent: Pipeline, buffer_size: int) -> None:
        super().__init__(parent)
        self.buffer_size = buffer_size

    def _iter_rows(self) -> Iterator[Row]:
        # Draw this pass's seed now, at the start of the pass, so the order depends only on
        # fg.manual_seed and the epoch, not on what else draws random numbers meanwhile.
        rng = np.random.default_rng(fg.default_generator().integers(2**63))
        return self._shuffled(self.parent._iter_rows(), rng)

    def _shuffled(self, rows: Iterator[Row], rng: np.random.Generator) -> Iterator[Row]:
        size = self.buffer_size
        buffer = list(itertools.islice(rows, size))
        picks: list[int] = []
        for row in rows:
            if not picks:  # one call for many draws: a Generator call per row is slow
                picks = rng.integers(0, size, 1024).tolist()
            j = picks.pop()
            yield buffer[j]
            buffer[j] = row
        for j in rng.permutation(len(buffer)):
            yield buffer[j]


class _Map(_Stage):
    def __init__(self, parent: Pipeline, operations: Any, input_columns: Any, output_columns: Any) -> None:
        super().__init__(parent)
        self.operations = list(operations) if isinstance(operations, (list, tuple)) else [operations]
        if not self.operations or not all(callable(f) for f in self.operations):
            raise fg.DataError(f"map: operations must be a function or a list of functions, got {operations!r}")
        names = parent.column_names
        inputs = names if input_columns is None else _names(input_columns)
        missing = [c for c in inputs if c not in names]
        if missing:
            raise fg.DataError(f"map: no column {missing[0]!r}; the columns are {names}")
        outputs = inputs if output_columns is None else _names(output_columns)
        self.in_idx = [names.index(c) for c in inputs]
        self.n_out = len(outputs)
        # The outputs take the place of the first input column; other columns keep their order.
        kept = [c for c in names if c not in inputs]
        at = names.index(inputs[0]) - sum(1 for c in names[: names.index(inputs[0])] if c in inputs)
        self.column_names = kept[:at] + list(outputs) + kept[at:]
        self.kept_idx = [names.index(c) for c in kept]
        self.at = at
        if len(set(self.column_names)) != len(self.column_names):
            raise fg.DataError(f"map: output columns {outputs} clash with existing columns {kept}")

    def _iter_rows(self) -> Iterator[Row]:
        # Start the parent now (a shuffle upstream draws its seed when the pass starts).
        return self._mapped(self.parent._iter_rows())

    def _mapped(self, rows: Iterator[Row]) -> Iterator[Row]:
        for row in rows:
            values: Any = tuple(row[k] for k in self.in_idx)
            for f in self.operations:
                values = f(*values)
                values = values if isinstance(values, tuple) else (values,)
            if len(values) != self.n_out:
                raise fg.DataError(
                    f"map: the function returned {len(values)} values for {self.n_out} output column(s)"
                    + ("" if self.n_out != len(self.in_idx) else "; pass output_columns to change the columns")
                )
            kept = [row[k] for k in self.kept_idx]
            yield (*kept[: self.at], *(np.asarray(v) for v in values), *kept[self.at :])


def _names(columns: str | Sequence[str]) -> list[str]:
    return [columns] if isinstance(columns, str) else list(columns)


class _Slice(_Stage):
    def __init__(self, parent: Pipeline, start: int, count: int | None) -> None:
        super().__init__(parent)
        self.start, self.count = start, count

    def _iter_rows(self) -> Iterator[Row]:
        stop = None if self.count is None else self.start + self.count
        rows = self.parent._iter_rows()
        # islice stops pulling as soon as it has enough: take(5) of an endless repeat ends.
        return itertools.islice(rows, self.start, stop)

    def _num_rows(self) -> float | None:
        n = self.parent._num_rows()
        if n is None:
            return None
        n = max(n - self.start, 0)
        return n if self.count is None else min(n, self.count)
