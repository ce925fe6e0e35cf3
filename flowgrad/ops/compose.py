"""NumPy's array functions made from the primitives (so their gradients, to any order, come from
those): triangles and diagonals, roll/rot90/flips, tile/repeat/kron, diff, sort/partition,
cumprod, the split and stack helpers, atleast_*, tensordot, take.

>>> import flowgrad as fg, flowgrad.numpy as np
>>> fg.grad(lambda x: np.sum(np.tril(x) * 2))(np.ones((2, 2)))
array([[2., 0.],
       [2., 2.]])
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.exports import export
from ..core.tensor import Tensor
from ..errors import ArgumentError, ShapeError, check_axis, check_int
from . import elementwise as ew
from . import linalg as la
from . import reduce as red
from . import shape as sh


def _data(x: Any) -> np.ndarray:
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _tensor(x: Any) -> Any:
    return x if isinstance(x, Tensor) else Tensor._wrap(np.asarray(x))


# ----- triangles and diagonals ----------------------------------------------------------------------
@export(numpy="tril", method="tril", top="tril")
def tril(x: Any, k: int = 0, *, diagonal: Any = None) -> Tensor:
    """The lower triangle (below the ``k``-th diagonal) of each matrix; zeros elsewhere."""
    k = k if diagonal is None else diagonal  # PyTorch's name
    data = _data(x)
    n, m = np.shape(data)[-2:]
    zero = np.zeros((), data.dtype)  # a plain 0 promoted a bool mask to int64; torch keeps bool
    return ew.where(np.tri(n, m, check_int(k, "tril", "k", minimum=None), dtype=bool), x, zero)


@export(numpy="triu", method="triu", top="triu")
def triu(x: Any, k: int = 0, *, diagonal: Any = None) -> Tensor:
    """The upper triangle (from the ``k``-th diagonal) of each matrix; zeros elsewhere."""
    k = k if diagonal is None else diagonal  # PyTorch's name
    data = _data(x)
    n, m = np.shape(data)[-2:]
    zero = np.zeros((), data.dtype)  # as tril: a bool mask stays bool
    return ew.where(np.tri(n, m, check_int(k, "triu", "k", minimum=None) - 1, dtype=bool), zero, x)


@export(numpy="diagonal", method="diagonal")
def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The ``offset`` diagonal over ``axis1``/``axis2``, as a last axis (NumPy's layout)."""
    nd = np.ndim(_data(x))
    a1, a2 = check_axis(axis1, nd, "diagonal", "axis1"), check_axis(axis2, nd, "diagonal", "axis2")
    moved = sh.moveaxis(x, (a1, a2), (-2, -1))
    n, m = moved.shape[-2:]
    rows = np.arange(builtins.max(0, -offset), builtins.min(n, m - offset))
    return sh.getitem(moved, (Ellipsis, rows, rows + offset))


@export(numpy="diag", top="diag")
def diag(v: Any, k: int = 0) -> Tensor:
    """A 1-D ``v`` on the ``k``-th diagonal of a square matrix, or the ``k``-th diagonal of a matrix."""
    nd = np.ndim(_data(v))
    if nd == 1:
        n = np.shape(_data(v))[0] + abs(k)
        index = (np.arange(n - abs(k)) + max(0, -k), np.arange(n - abs(k)) + max(0, k))
        return sh.index_scatter(v, (n, n), index)
    if nd == 2:
        return diagonal(v, k)
    raise ShapeError(f"diag: expected a 1-D or 2-D input, got {nd} dims")


@export(numpy="trace", method="trace", top="trace")
def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """Sum of the ``offset`` diagonal."""
    return red.sum(diagonal(x, offset, axis1, axis2), -1)


# ----- rearranging ----------------------------------------------------------------------------------
@export(numpy="roll", top="roll")
def roll(x: Any, shift: Any, axis: Any = None) -> Tensor:
    """Elements shifted by ``shift`` along ``axis`` (None: the flattened array), wrapping around."""
    if axis is None:
        return sh.reshape(roll(sh.ravel(x), shift, 0), np.shape(_data(x)))
    shifts = np.broadcast_to(shift, np.shape(axis)) if isinstance(axis, (tuple, list)) else [shift]
    axes = axis if isinstance(axis, (tuple, list)) else [axis]
    out = x
    for s, a in zip(shifts, axes):
        a = check_axis(a, np.ndim(_data(x)), "roll", "axis")
        n = np.shape(_data(x))[a]
        index: list[Any] = [slice(None)] * np.ndim(_data(x))
        index[a] = (np.arange(n) - int(s)) % n if n else np.arange(0)
        out = sh.getitem(out, tuple(index))
    return out


@export(numpy="rot90")
def rot90(x: Any, k: int = 1, axes: tuple = (0, 1)) -> Tensor:
    """Rotation by 90 degrees ``k`` times in the plane of ``axes``."""
    k = check_int(k, "rot90", "k", minimum=None) % 4
    a, b = axes
    if k == 0:
        return sh.copy(x)
    if k == 2:
        return sh.flip(sh.flip(x, a), b)
    if k == 1:
        return sh.swapaxes(sh.flip(x, b), a, b)
    return sh.flip(sh.swapaxes(x, a, b), b)


@export(numpy="flipud")
def flipud(x: Any) -> Tensor:
    """Reversed along axis 0."""
    return sh.flip(x, 0)


@export(numpy="fliplr")
def fliplr(x: Any) -> Tensor:
    """Reversed along axis 1."""
    return sh.flip(x, 1)


@export(numpy="tile")
def tile(x: Any, reps: Any) -> Tensor:
    """``x`` repeated ``reps`` times along each axis (NumPy's tile)."""
    reps = (reps,) if isinstance(reps, int) else tuple(reps)
    shape = np.shape(_data(x))
    nd = builtins.max(len(shape), len(reps))
    shape = (1,) * (nd - len(shape)) + shape
    reps = (1,) * (nd - len(reps)) + reps
    # broadcast each axis against a new axis of length reps, then merge the two
    expanded = sh.reshape(x, tuple(d for s in shape for d in (1, s)))
    tiled = sh.broadcast_to(expanded, tuple(d for r, s in zip(reps, shape) for d in (r, s)))
    return sh.reshape(tiled, tuple(r * s for r, s in zip(reps, shape)))


@export(numpy="repeat")
def repeat(x: Any, repeats: Any, axis: Any = None) -> Tensor:
    """Each element repeated ``repeats`` times along ``axis`` (None: flattened first)."""
    if axis is None:
        return repeat(sh.ravel(x), repeats, 0)
    a = check_axis(axis, np.ndim(_data(x)), "repeat", "axis")
    n = np.shape(_data(x))[a]
    index: list[Any] = [slice(None)] * np.ndim(_data(x))
    index[a] = np.repeat(np.arange(n), repeats)
    return sh.getitem(x, tuple(index))


@export(numpy="kron", top="kron")
def kron(a: Any, b: Any) -> Tensor:
    """Kronecker product (NumPy's shapes: the lower-dimensional input gets leading ones)."""
    sa, sb = np.shape(_data(a)), np.shape(_data(b))
    nd = builtins.max(len(sa), len(sb))
    sa, sb = (1,) * (nd - len(sa)) + sa, (1,) * (nd - len(sb)) + sb
    left = sh.reshape(a, tuple(d for s in sa for d in (s, 1)))
    right = sh.reshape(b, tuple(d for s in sb for d in (1, s)))
    return sh.reshape(ew.multiply(left, right), tuple(p * q for p, q in zip(sa, sb)))


@export(numpy="diff", top="diff")
def diff(x: Any, n: int = 1, axis: int = -1) -> Tensor:
    """The ``n``-th discrete difference along ``axis``."""
    a = check_axis(axis, np.ndim(_data(x)), "diff", "axis")
    out = x
    for _ in range(check_int(n, "diff", "n")):
        hi = [slice(None)] * np.ndim(_data(x))
        lo = list(hi)
        hi[a], lo[a] = slice(1, None), slice(None, -1)
        out = ew.subtract(sh.getitem(out, tuple(hi)), sh.getitem(out, tuple(lo)))
    return out


def _along(x: Any, order: np.ndarray, axis: int) -> Tensor:
    """``x`` reordered by an index array of the same shape along ``axis`` (take_along_axis)."""
    shape = order.shape
    grids = list(np.ogrid[tuple(slice(0, s) for s in shape)])
    grids[axis] = order
    return sh.getitem(x, tuple(grids))


@export(numpy="sort")
def sort(x: Any, axis: Any = -1, kind: Any = None, order: Any = None) -> Tensor:
    """Sorted along ``axis`` (None: flattened); the gradient follows each element to its place."""
    if axis is None:
        return sort(sh.ravel(x), 0)
    a = check_axis(axis, np.ndim(_data(x)), "sort", "axis")
    return _along(x, np.argsort(_data(x), axis=a, kind=kind or "stable"), a)


@export(numpy="partition")
def partition(x: Any, kth: Any, axis: Any = -1) -> Tensor:
    """Partitioned around ``kth`` along ``axis`` (NumPy's order of the other elements)."""
    if axis is None:
        return partition(sh.ravel(x), kth, 0)
    a = check_axis(axis, np.ndim(_data(x)), "partition", "axis")
    return _along(x, np.argpartition(_data(x), kth, axis=a), a)


@export(numpy="take_along_axis")
def take_along_axis(x: Any, indices: Any, axis: Any) -> Tensor:
    """Values at ``indices`` along ``axis`` (NumPy's)."""
    idx = _data(indices)
    if axis is None:
        return _along(sh.ravel(x), idx, 0)
    return _along(x, idx, check_axis(axis, np.ndim(_data(x)), "take_along_axis", "axis"))


@export(numpy="take")
def take(x: Any, indices: Any, axis: Any = None) -> Tensor:
    """Elements at ``indices`` (of the flattened array, or along ``axis``)."""
    idx = _data(indices)
    if axis is None:
        return sh.getitem(sh.ravel(x), idx)
    a = check_axis(axis, np.ndim(_data(x)), "take", "axis")
    return sh.getitem(x, (slice(None),) * a + (idx,))


@export(numpy="cumprod")  # flowgrad.cumprod and Tensor.cumprod: torch_index.cumprod (dim=)
def cumprod(x: Any, axis: Any = None) -> Tensor:
    """Cumulative product along ``axis`` (None: flattened); exact gradients at zeros too."""
    if axis is None:
        return cumprod(sh.ravel(x), 0)
    a = check_axis(axis, np.ndim(_data(x)), "cumprod", "axis")
    n = np.shape(_data(x))[a]
    # out[i] = prod over j of (x[j] if j <= i else 1): a product of masked copies, so zeros
    # need no division. O(n^2) memory along the axis: meant for the lengths NumPy code uses.
    moved = sh.moveaxis(x, a, -1)
    keep = np.tri(n, n, dtype=bool)  # keep[i, j]: j <= i
    masked = ew.where(keep, sh.expand_dims(moved, -2), 1)
    return sh.moveaxis(red.prod(masked, -1), -1, a)


# ----- splitting and stacking -----------------------------------------------------------------------
@export(numpy="array_split")
def array_split(x: Any, indices_or_sections: Any, axis: int = 0) -> list:
    """Like ``split``, allowing sections of unequal length."""
    n = np.shape(_data(x))[axis]
    if isinstance(indices_or_sections, int):
        k = check_int(indices_or_sections, "array_split", "sections", minimum=1)
        sizes = [n // k + 1] * (n % k) + [n // k] * (k - n % k)
        cuts = list(np.cumsum(sizes)[:-1])
    else:
        cuts = list(indices_or_sections)
    bounds = [0, *cuts, n]
    index: list[Any] = [slice(None)] * np.ndim(_data(x))
    parts = []
    for lo, hi in zip(bounds, bounds[1:]):
        index[axis] = slice(lo, hi)
        parts.append(sh.getitem(x, tuple(index)))
    return parts


@export(numpy="hsplit")
def hsplit(x: Any, indices_or_sections: Any) -> list:
    """Split along axis 1 (axis 0 for 1-D)."""
    return sh.split(x, indices_or_sections, 1 if np.ndim(_data(x)) > 1 else 0)


@export(numpy="vsplit")
def vsplit(x: Any, indices_or_sections: Any) -> list:
    """Split along axis 0 (2-D or more)."""
    if np.ndim(_data(x)) < 2:
        raise ShapeError("vsplit: expected at least 2 dims")
    return sh.split(x, indices_or_sections, 0)


@export(numpy="dsplit")
def dsplit(x: Any, indices_or_sections: Any) -> list:
    """Split along axis 2 (3-D or more)."""
    if np.ndim(_data(x)) < 3:
        raise ShapeError("dsplit: expected at least 3 dims")
    return sh.split(x, indices_or_sections, 2)


def _atleast(x: Any, nd: int) -> Any:
    shape = np.shape(_data(x))
    if len(shape) >= nd:
        return _tensor(x)
    if nd == 3 and len(shape) == 2:
        return sh.reshape(x, shape + (1,))
    if nd == 3 and len(shape) == 1:
        return sh.reshape(x, (1,) + shape + (1,))
    return sh.reshape(x, (1,) * (nd - len(shape)) + shape)


def _atleast_nd(nd: int) -> Any:
    def fn(*arrays: Any) -> Any:
        out = [_atleast(a, nd) for a in arrays]
        return out[0] if len(out) == 1 else out

    fn.__name__ = f"atleast_{nd}d"
    fn.__doc__ = f"Each input viewed with at least {nd} dims (NumPy's rules)."
    return fn


atleast_1d, atleast_2d, atleast_3d = _atleast_nd(1), _atleast_nd(2), _atleast_nd(3)
for _fn, _name in ((atleast_1d, "atleast_1d"), (atleast_2d, "atleast_2d"), (atleast_3d, "atleast_3d")):
    export(numpy=_name, top=_name)(_fn)


@export(numpy="column_stack")
def column_stack(tup: Sequence[Any]) -> Tensor:
    """1-D (and 0-D) inputs as columns, 2-D ones as they are, joined along axis 1."""
    cols = [sh.reshape(t, (-1, 1)) if np.ndim(_data(t)) < 2 else t for t in tup]
    return sh.concatenate(cols, 1)


@export(numpy="dstack")
def dstack(tup: Sequence[Any]) -> Tensor:
    """Joined along axis 2 (inputs made 3-D first)."""
    return sh.concatenate([_atleast(t, 3) for t in tup], 2)


# ----- tensordot ------------------------------------------------------------------------------------
@export(numpy="tensordot", top="tensordot")
def tensordot(a: Any, b: Any, axes: Any = 2) -> Tensor:
    """Sum of products over ``axes`` (an int: the last of ``a`` with the first of ``b``)."""
    na, nb = np.ndim(_data(a)), np.ndim(_data(b))
    if isinstance(axes, int):
        if axes < 0 or axes > builtins.min(na, nb):
            raise ArgumentError(f"tensordot: axes={axes} is more than the inputs' dims ({na}, {nb})")
        axes_a, axes_b = list(range(na - axes, na)), list(range(axes))
    else:
        axes_a, axes_b = axes
        axes_a = [axes_a] if isinstance(axes_a, int) else list(axes_a)
        axes_b = [axes_b] if isinstance(axes_b, int) else list(axes_b)
    letters = "abcdefghijklmnopqrstuvwxyz"
    sa, sb = list(letters[:na]), list(letters[na : na + nb])
    for i, j in zip(axes_a, axes_b):
        sb[j % nb] = sa[i % na]
    kept = [c for k, c in enumerate(sa) if k not in {i % na for i in axes_a}]
    kept += [c for k, c in enumerate(sb) if k not in {j % nb for j in axes_b}]
    return la.einsum(f"{''.join(sa)},{''.join(sb)}->{''.join(kept)}", a, b)
