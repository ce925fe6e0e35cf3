"""Samplers: the order in which ``DataLoader`` reads a map-style data set, as in PyTorch.

A sampler is any iterable of indices (``sampler=``); a batch sampler any iterable of lists of
indices (``batch_sampler=``). ``DataLoader`` builds ``SequentialSampler`` or ``RandomSampler``
and a ``BatchSampler`` itself from ``shuffle`` and ``batch_size``.

>>> import flowgrad as fg
>>> list(fg.data.BatchSampler(fg.data.SequentialSampler(range(5)), batch_size=2, drop_last=False))
[[0, 1], [2, 3], [4]]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sized
from typing import Any

from flowgrad import backend
from flowgrad.errors import DataError, given

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "BatchSampler"]


class Sampler:
    """Base class of samplers: define ``__iter__`` (indices) and, when known, ``__len__``.

    >>> import flowgrad as fg
    >>> class Evens(fg.data.Sampler):
    ...     def __init__(self, n):
    ...         self.n = n
    ...     def __iter__(self):
    ...         return iter(range(0, self.n, 2))
    >>> [b.tolist() for (b,) in fg.data.DataLoader(fg.data.ArrayDataset(fg.arange(6)), sampler=Evens(6))]
    [[0], [2], [4]]
    """

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order.

    >>> import flowgrad as fg
    >>> list(fg.data.SequentialSampler("abc"))
    [0, 1, 2]
    """

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random order of ``data_source``'s indices, new at each iteration.

    Without replacement it is a permutation (of ``num_samples`` indices when given, taken from
    whole permutations in turn); with ``replacement=True``, ``num_samples`` independent draws.
    Random numbers come from ``generator`` (a ``fg.Generator`` or NumPy Generator), else from
    flowgrad's default generator as it is when iteration starts (so ``fg.manual_seed`` applies).

    >>> import flowgrad as fg
    >>> sorted(fg.data.RandomSampler(range(4), generator=fg.Generator().manual_seed(0)))
    [0, 1, 2, 3]
    """

    def __init__(
        self, data_source: Sized, replacement: bool = False, num_samples: int | None = None, generator: Any = None
    ) -> None:
        if not isinstance(replacement, bool):
            raise DataError(f"RandomSampler: replacement must be True or False, got {given(replacement)}")
        if num_samples is not None and (
            isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1
        ):
            raise DataError(f"RandomSampler: num_samples must be a positive integer or None, got {given(num_samples)}")
        backend.rng(generator)  # checks its type now rather than at the first epoch
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n, wanted = len(self.data_source), self.num_samples
        rng = backend.rng(self.generator)  # looked up now: fg.manual_seed replaces the default one
        if self.replacement:
            return iter(rng.integers(0, n, size=wanted).tolist())
        if self._num_samples is None:  # one permutation: the draw the loader has always made
            return iter(rng.permutation(n).tolist())
        out: list[int] = []
        while len(out) < wanted:
            out.extend(rng.permutation(n).tolist())
        return iter(out[:wanted])

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Lists of ``batch_size`` indices from ``sampler`` (the last one shorter unless ``drop_last``).

    >>> import flowgrad as fg
    >>> list(fg.data.BatchSampler(range(5), batch_size=2, drop_last=True))
    [[0, 1], [2, 3]]
    """

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise DataError(f"BatchSampler: batch_size must be a positive integer, got {given(batch_size)}")
        if not isinstance(drop_last, bool):
            raise DataError(f"BatchSampler: drop_last must be True or False, got {given(drop_last)}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
