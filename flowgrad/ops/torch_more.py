"""More of PyTorch's tensor functions, made from primitives: ``narrow``, ``topk``, ``sort`` (values
and indices), ``Tensor.repeat`` (PyTorch's: NumPy's tile), ``allclose`` and ``equal``.

>>> import flowgrad as fg
>>> values, indices = fg.topk(fg.tensor([3.0, 1.0, 4.0, 1.5]), 2)
>>> values, indices
(tensor([4., 3.]), tensor([2, 0]))
"""

from __future__ import annotations

import builtins
from collections import namedtuple
from typing import Any

import numpy as np

from ..core.exports import export
from ..core.tensor import Tensor
from ..errors import ArgumentError, ShapeError, check_axis, check_int
from . import shape as sh
from .compose import _along, tile

SortResult = namedtuple("SortResult", ["values", "indices"])
TopkResult = namedtuple("TopkResult", ["values", "indices"])


def _data(x: Any) -> np.ndarray:
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _indices(idx: np.ndarray) -> Tensor:
    return Tensor._wrap(idx.astype(np.int64))


@export(method="narrow", top="narrow")
def narrow(input: Any, dim: int, start: int, length: int) -> Tensor:  # noqa: A002 - PyTorch's names
    """``length`` elements of ``input`` along ``dim`` from ``start`` (a negative start counts
    from the end), as a slice: the gradient flows back into that window."""
    shape = np.shape(_data(input))
    d = check_axis(dim, len(shape), "narrow", "dim")
    n = shape[d]
    start = check_int(start, "narrow", "start", minimum=None)
    length = check_int(length, "narrow", "length")
    if start < 0:
        start += n
    if not 0 <= start <= n or start + length > n:
        raise ShapeError(f"narrow: start {start} and length {length} do not fit dim {d} of size {n}")
    index: list[Any] = [slice(None)] * len(shape)
    index[d] = slice(start, start + length)
    return sh.getitem(input, tuple(index))


@export(method="sort", top="sort")
def sort(input: Any, dim: int = -1, descending: bool = False, stable: bool = False) -> SortResult:  # noqa: A002
    """Values sorted along ``dim`` and where they came from (PyTorch's ``sort``); ties keep
    their order (a stable sort), and the values' gradient follows each element to its place."""
    x = _data(input)
    d = check_axis(dim, x.ndim, "sort", "dim") if x.ndim else 0
    if x.ndim == 0:
        return SortResult(sh.getitem(input, ()), _indices(np.zeros((), np.int64)))
    key = x.astype(np.int64) if x.dtype.kind in "ub" else x  # -x of unsigned ints would wrap
    order = np.argsort(-key if descending else key, axis=d, kind="stable")
    return SortResult(_along(input, order, d), _indices(order))


@export(method="topk", top="topk")
def topk(input: Any, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> TopkResult:  # noqa: A002
    """The ``k`` largest (or smallest) values along ``dim`` and their indices (PyTorch's
    ``topk``), in order; ties go to the first occurrence."""
    x = _data(input)
    d = check_axis(dim, builtins.max(x.ndim, 1), "topk", "dim")
    k = check_int(k, "topk", "k")
    if x.ndim and k > x.shape[d]:
        raise ArgumentError(f"topk: k={k} is larger than dim {d} of size {x.shape[d]}")
    values, indices = sort(input, dim, descending=largest)
    index: list[Any] = [slice(None)] * x.ndim
    if x.ndim:
        index[d] = slice(0, k)
    return TopkResult(sh.getitem(values, tuple(index)), Tensor._wrap(indices._data[tuple(index)]))


def repeat(input: Any, *sizes: Any) -> Tensor:  # noqa: A002
    """PyTorch's ``Tensor.repeat``: the whole tensor repeated ``sizes`` times along each dim
    (NumPy's ``tile``; NumPy's ``repeat`` repeats each element, as ``repeat_interleave`` does)."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    reps = tuple(check_int(s, "repeat", "sizes") for s in sizes)
    if len(reps) < np.ndim(_data(input)):
        raise ShapeError(f"repeat: give at least one size per dim ({np.ndim(_data(input))}), got {len(reps)}: {reps}")
    return tile(input, reps)


export(method="repeat")(repeat)


@export(method="allclose", top="allclose")
def allclose(input: Any, other: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:  # noqa: A002
    """Whether every element is within ``atol + rtol * |other|`` (no gradient: a bool)."""
    return bool(np.allclose(_data(input), _data(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


@export(method="equal", top="equal")
def equal(input: Any, other: Any) -> bool:  # noqa: A002
    """Whether both have the same shape and the same values (PyTorch's ``equal``)."""
    a, b = _data(input), _data(other)
    return a.shape == b.shape and bool(np.array_equal(a, b))
