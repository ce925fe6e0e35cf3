"""More of NumPy's functions made from primitives: sinc, nan_to_num, linspace in traced
endpoints, gradient, append, rollaxis, cross, hstack/vstack/row_stack, and fft's shifts.

>>> import flowgrad as fg, flowgrad.numpy as np
>>> round(float(fg.grad(fg.grad(np.sinc))(0.0)), 12)  # -pi**2 / 3, right at 0 too
-3.289868133696
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.exports import export
from ..core.tensor import Tensor
from ..errors import ShapeError, check_axis
from . import elementwise as ew
from . import shape as sh
from .compose import _atleast, roll


def _data(x: Any) -> np.ndarray:
    return x._data if isinstance(x, Tensor) else np.asarray(x)


@export(numpy="sinc", method="sinc", top="sinc")
def sinc(x: Any) -> Tensor:
    """sin(pi x) / (pi x), 1 at 0, with every derivative right at and near 0 too."""
    # Near 0 the Taylor polynomial 1 - z^2/6 + z^4/120 - z^6/5040 (z = pi x) replaces the quotient:
    # within |x| < 1e-3 it equals sinc to rounding, and its derivatives up to the sixth are sinc's
    # there (the quotient's would divide 0 by 0).
    small = np.abs(_data(x)) < 1e-3
    z = ew.multiply(ew.where(small, 1.0, x), math.pi)
    quotient = ew.divide(ew.sin(z), z)
    zs = ew.multiply(ew.where(small, x, 0.0), math.pi)
    z2 = zs * zs
    series = 1 - z2 / 6 + z2 * z2 / 120 - z2 * z2 * z2 / 5040
    return ew.where(small, series, quotient)


@export(numpy="nan_to_num")
def nan_to_num(x: Any, copy: bool = True, nan: float = 0.0, posinf: Any = None, neginf: Any = None) -> Tensor:
    """NaN and infinities replaced by numbers (their gradient is zero: they are constants)."""
    data = _data(x)
    info = np.finfo(data.dtype if data.dtype.kind == "f" else np.float64)
    out = ew.where(np.isnan(data), nan, x)
    out = ew.where(np.isposinf(data), info.max if posinf is None else posinf, out)
    return ew.where(np.isneginf(data), info.min if neginf is None else neginf, out)


@export(numpy="linspace")
def linspace(
    start: Any, stop: Any, num: int = 50, endpoint: bool = True, retstep: bool = False, dtype: Any = None, axis: int = 0
) -> Any:
    """Evenly spaced values, differentiable in ``start`` and ``stop``."""
    if dtype is not None or axis != 0 or np.ndim(_data(start)) or np.ndim(_data(stop)):
        raise ShapeError("linspace: for tensors, scalar start and stop with the default dtype and axis")
    div = (num - 1) if endpoint else num
    fractions = np.arange(num, dtype=float) / div if div > 0 else np.zeros(num)
    step = (stop - start) / div if div > 0 else stop - start
    values = start + fractions * (stop - start)
    if endpoint and num > 1:
        values = ew.where(np.arange(num) == num - 1, stop, values)
    return (values, step) if retstep else values


@export(numpy="gradient")
def gradient(f: Any, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    """NumPy's gradient (central differences inside, one-sided at the edges), uniform spacing."""
    nd = np.ndim(_data(f))
    axes = list(range(nd)) if axis is None else ([axis] if isinstance(axis, int) else list(axis))
    spacing = list(varargs) or [1.0]
    if edge_order != 1 or any(np.ndim(s) for s in spacing):
        raise ShapeError("gradient: for tensors, uniform scalar spacing and edge_order=1")
    out = []
    for k, a in enumerate(axes):
        a = check_axis(a, nd, "gradient", "axis")
        h = float(spacing[k if len(spacing) > 1 else 0])
        n = np.shape(_data(f))[a]
        if n < 2:
            raise ShapeError("gradient: each axis needs at least 2 points")
        idx = [slice(None)] * nd

        def part(s: slice, idx: list = idx, a: int = a) -> Any:
            idx = list(idx)
            idx[a] = s
            return sh.getitem(f, tuple(idx))

        first = (part(slice(1, 2)) - part(slice(0, 1))) / h
        last = (part(slice(n - 1, n)) - part(slice(n - 2, n - 1))) / h
        pieces = [first] + ([(part(slice(2, n)) - part(slice(0, n - 2))) / (2 * h)] if n > 2 else []) + [last]
        out.append(sh.concatenate(pieces, a))
    return out[0] if len(out) == 1 else out


def _as_one(x: Any) -> Any:
    """A (nested) list holding tensors as one stacked tensor; anything else as it is."""
    if isinstance(x, (list, tuple)) and any(isinstance(v, (Tensor, list, tuple)) for v in x):
        return sh.stack([_as_one(v) for v in x])
    return x if isinstance(x, Tensor) else np.asarray(x)


@export(numpy="append")
def append(arr: Any, values: Any, axis: Any = None) -> Tensor:
    """``values`` after ``arr`` (flattened first when ``axis`` is None)."""
    arr, values = _as_one(arr), _as_one(values)
    if axis is None:
        return sh.concatenate([sh.ravel(arr), sh.ravel(values)], 0)
    return sh.concatenate([arr, values], axis)


@export(numpy="rollaxis")
def rollaxis(x: Any, axis: int, start: int = 0) -> Tensor:
    """``axis`` moved to position ``start`` (NumPy's older moveaxis)."""
    nd = np.ndim(_data(x))
    axis = check_axis(axis, nd, "rollaxis", "axis")
    start = start + nd if start < 0 else start
    if axis < start:
        start -= 1
    return sh.moveaxis(x, axis, start) if axis != start else x


@export(numpy="cross", top="cross")
def cross(a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: Any = None) -> Tensor:
    """The cross product of 3-vectors along the last axes (broadcasting over the others)."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = sh.moveaxis(a, axisa, -1), sh.moveaxis(b, axisb, -1)
    if np.shape(_data(a))[-1] != 3 or np.shape(_data(b))[-1] != 3:
        raise ShapeError("cross: vectors of 3 components only")
    a0, a1, a2 = (sh.getitem(a, (Ellipsis, i)) for i in range(3))
    b0, b1, b2 = (sh.getitem(b, (Ellipsis, i)) for i in range(3))
    c = sh.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], -1)
    return sh.moveaxis(c, -1, axisc)


def _as_arrays(tup: Any) -> list:
    return list(tup) if isinstance(tup, (list, tuple)) else [tup[i] for i in range(len(tup))]


@export(numpy="hstack")
def hstack(tup: Sequence[Any], **kwargs: Any) -> Tensor:
    """Joined along axis 1 (axis 0 for 1-D inputs), NumPy's rules."""
    arrays = [_atleast(t, 1) for t in _as_arrays(tup)]
    return sh.concatenate(arrays, 0 if all(np.ndim(_data(t)) == 1 for t in arrays) else 1)


@export(numpy="vstack row_stack")
def vstack(tup: Sequence[Any], **kwargs: Any) -> Tensor:
    """Joined along axis 0, 1-D inputs as rows."""
    return sh.concatenate([_atleast(t, 2) for t in _as_arrays(tup)], 0)


@export(numpy="fft.fftshift")
def fftshift(x: Any, axes: Any = None) -> Tensor:
    """The zero-frequency term moved to the centre (a roll by half of each axis)."""
    shape = np.shape(_data(x))
    axes = tuple(range(len(shape))) if axes is None else ((axes,) if isinstance(axes, int) else tuple(axes))
    return roll(x, [shape[a] // 2 for a in axes], axes)


@export(numpy="fft.ifftshift")
def ifftshift(x: Any, axes: Any = None) -> Tensor:
    """The inverse of fftshift."""
    shape = np.shape(_data(x))
    axes = tuple(range(len(shape))) if axes is None else ((axes,) if isinstance(axes, int) else tuple(axes))
    return roll(x, [-(shape[a] // 2) for a in axes], axes)


@export(numpy="real_if_close")
def real_if_close(x: Any, tol: float = 100) -> Any:
    """A real value itself (flowgrad's values are real)."""
    return x


class _Concatenator:
    """``r_`` and ``c_``: NumPy's index tricks, differentiable when a piece is a tensor.

    Plain pieces (slices, numbers, arrays, and NumPy's string directives) get NumPy's own
    answer; with a tensor among them, pieces are made 1-D (``r_``) or columns (``c_``) and
    joined by flowgrad's concatenate.
    """

    def __init__(self, numpy_version: Any, columns: bool) -> None:
        self._numpy = numpy_version
        self._columns = columns

    def __getitem__(self, key: Any) -> Any:
        items = key if isinstance(key, tuple) else (key,)
        if not any(isinstance(item, Tensor) for item in items):
            return self._numpy[key]
        if any(isinstance(item, str) for item in items):
            raise ShapeError("r_/c_: string directives are not supported with tensors; use concatenate")
        pieces = []
        for item in items:
            if isinstance(item, slice):
                item = self._numpy[item]
            piece = _atleast(item if isinstance(item, Tensor) else np.asarray(item, dtype=float), 1)
            if self._columns and np.ndim(_data(piece)) == 1:
                piece = sh.reshape(piece, (-1, 1))
            pieces.append(piece)
        return sh.concatenate(pieces, -1 if self._columns else 0)


@export(numpy="select")
def select(condlist: Sequence[Any], choicelist: Sequence[Any], default: Any = 0) -> Any:
    """From each choice where its condition holds (the first that holds wins), else ``default``;
    the gradient reaches each choice and the default where they were picked."""
    if len(condlist) != len(choicelist):
        raise ShapeError(f"select: {len(condlist)} conditions but {len(choicelist)} choices; they must pair up")
    result = default
    for condition, choice in reversed(list(zip(condlist, choicelist))):  # the first true one ends on top
        result = ew.where(_data(condition).astype(bool), choice, result)
    return result


def make_diagonal(d: Any, offset: int = 0, axis1: int = -1, axis2: int = -2) -> Any:
    """Arrays whose ``diagonal(offset, axis1, axis2)`` is ``d`` and which are zero elsewhere (the
    inverse of ``np.diagonal`` over the last two axes; HIPS autograd's addition to NumPy).

    >>> import flowgrad.numpy as np
    >>> np.make_diagonal(np.array([1.0, 2.0]), axis1=-1, axis2=-2)
    array([[1., 0.],
           [0., 2.]])
    """
    if sorted((axis1, axis2)) != [-2, -1]:
        raise ShapeError(f"make_diagonal: the diagonal goes in the last two axes (-1, -2), got {axis1}, {axis2}")
    n = np.shape(_data(d))[-1]
    size = n + abs(offset)
    # offset k puts d[..., i] at (i + max(-k, 0), i + max(k, 0)) in (axis1, axis2) order
    place = np.zeros((n, size, size))
    first, second = np.arange(n) + max(-offset, 0), np.arange(n) + max(offset, 0)
    rows, cols = (first, second) if axis1 == -2 else (second, first)
    place[np.arange(n), rows, cols] = 1.0
    if not isinstance(d, Tensor):
        return np.einsum("...k,kij->...ij", np.asarray(d), place)
    from .linalg import einsum

    return einsum("...k,kij->...ij", d, place)


r_ = _Concatenator(np.r_, columns=False)
c_ = _Concatenator(np.c_, columns=True)
