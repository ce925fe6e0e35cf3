"""PyTorch-style functions: ``dim``/``keepdim`` names, ``cat``, ``clamp``, ``max`` with indices.

These are ``fg.sum``, ``fg.cat`` and friends, and the tensor methods. NumPy's
spellings (``axis``, ``keepdims``) are accepted everywhere too. The NumPy-style
namespace is ``flowgrad.numpy``.
"""

from __future__ import annotations

import builtins
from collections import namedtuple
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.exports import export
from ..core.tensor import Tensor
from ..errors import ArgumentError, DTypeError, ShapeError, check_axis, check_int
from . import elementwise as ew
from . import linalg as la
from . import reduce as red
from . import shape as sh

MaxResult = namedtuple("MaxResult", ["values", "indices"])


def pick(name: str, dim: Any, axis: Any, default: Any = None) -> Any:
    """Accept PyTorch's ``dim`` or NumPy's ``axis`` (not both)."""
    if dim is not None and axis is not None:
        raise DTypeError(f"{name}: give dim or axis, not both")
    return dim if dim is not None else (axis if axis is not None else default)


def _reduce(fn: Any, name: str) -> Any:
    def reducer(
        input: Any,  # noqa: A002
        dim: Any = None,
        keepdim: Any = None,
        *,
        axis: Any = None,
        keepdims: Any = None,
        dtype: Any = None,
        out: Any = None,  # NumPy's np.sum(t) calls t.sum(axis=, dtype=, out=None)
    ) -> Tensor:
        return fn(*red.reduction_args(name, input, axis, dim, keepdims, keepdim, dtype, out))

    reducer.__name__ = name
    reducer.__doc__ = f"``{name}`` over ``dim`` (or ``axis``); all elements when neither is given."
    return reducer


sum = _reduce(red.sum, "sum")  # noqa: A001
mean = _reduce(red.mean, "mean")
prod = _reduce(red.prod, "prod")
logsumexp = _reduce(red.logsumexp, "logsumexp")
amax = _reduce(red.max, "amax")
amin = _reduce(red.min, "amin")
any = _reduce(red.any, "any")  # noqa: A001
all = _reduce(red.all, "all")  # noqa: A001


def _extreme(values_fn: Any, index_fn: Any, pair_fn: Any, name: str) -> Any:
    def extreme(
        input: Any,  # noqa: A002
        dim: Any = None,
        keepdim: Any = None,
        *,
        axis: Any = None,
        keepdims: Any = None,
        out: Any = None,  # NumPy's np.max(t) calls t.max(axis=, out=None)
    ) -> Any:
        if isinstance(dim, Tensor):  # fg.max(a, b): elementwise, as in PyTorch
            return pair_fn(input, dim)
        x, d, k = red.reduction_args(name, input, axis, dim, keepdims, keepdim, out=out)
        if dim is None:
            return values_fn(x, d, k)
        return MaxResult(values_fn(x, d, k), index_fn(x, d, k))

    extreme.__name__ = name
    extreme.__doc__ = (
        f"``{name}`` of all elements; with ``dim`` (PyTorch) the pair (values, indices); "
        f"with ``axis=`` (NumPy) the values only."
    )
    return extreme


max = _extreme(red.max, red.argmax, ew.maximum, "max")  # noqa: A001
min = _extreme(red.min, red.argmin, ew.minimum, "min")  # noqa: A001


def argmax(input: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:  # noqa: A002
    """Index of the largest element (over all elements when ``dim`` is None)."""
    return red.argmax(input, pick("argmax", dim, axis), keepdim)


def argmin(input: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:  # noqa: A002
    """Index of the smallest element."""
    return red.argmin(input, pick("argmin", dim, axis), keepdim)


def _ddof(unbiased: Any, correction: Any, ddof: Any) -> int:
    if ddof is not None:
        return int(ddof)
    if correction is not None:
        return int(correction)
    return 1 if unbiased is None or unbiased else 0


def var(
    input: Any,  # noqa: A002
    dim: Any = None,
    unbiased: Any = None,
    keepdim: Any = None,
    *,
    correction: Any = None,
    axis: Any = None,
    ddof: Any = None,
    keepdims: Any = None,
) -> Tensor:
    """Variance; unbiased (n - 1) by default as in PyTorch, ``ddof=0`` for NumPy's."""
    x, d, k = red.reduction_args("var", input, axis, dim, keepdims, keepdim)
    return red.var(x, d, _ddof(unbiased, correction, ddof), k)


def std(
    input: Any,  # noqa: A002
    dim: Any = None,
    unbiased: Any = None,
    keepdim: Any = None,
    *,
    correction: Any = None,
    axis: Any = None,
    ddof: Any = None,
    keepdims: Any = None,
) -> Tensor:
    """Standard deviation; unbiased by default as in PyTorch."""
    x, d, k = red.reduction_args("std", input, axis, dim, keepdims, keepdim)
    return red.std(x, d, _ddof(unbiased, correction, ddof), k)


def softmax(input: Any, dim: Any = -1, *, axis: Any = None, dtype: Any = None) -> Tensor:  # noqa: A002
    """Softmax along ``dim`` (default the last)."""
    if dtype is not None:
        input = sh.astype(input, dtype)
    return red.softmax(input, pick("softmax", None if axis is not None else dim, axis, -1))


def log_softmax(input: Any, dim: Any = -1, *, axis: Any = None, dtype: Any = None) -> Tensor:  # noqa: A002
    """Log-softmax along ``dim`` (default the last)."""
    if dtype is not None:
        input = sh.astype(input, dtype)
    return red.log_softmax(input, pick("log_softmax", None if axis is not None else dim, axis, -1))


def clamp(input: Any, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """Limit to [min, max] (either may be None)."""
    return ew.clip(input, min, max)


clip = clamp


def _sizes(args: tuple) -> tuple:
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


def reshape(input: Any, *shape: Any) -> Tensor:  # noqa: A002
    """Same data, new shape: ``reshape(x, 2, 3)`` or ``reshape(x, (2, 3))``."""
    return sh.reshape(input, _sizes(shape))


def flatten(input: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:  # noqa: A002
    """Merge dims ``start_dim..end_dim`` into one."""
    shape = input.shape
    nd = len(shape)
    if nd == 0:
        return sh.reshape(input, (1,))
    s, e = check_axis(start_dim, nd, "flatten", "start_dim"), check_axis(end_dim, nd, "flatten", "end_dim")
    merged = int(np.prod(shape[s : e + 1]))
    return sh.reshape(input, shape[:s] + (merged,) + shape[e + 1 :])


def squeeze(input: Any, dim: Any = None, *, axis: Any = None) -> Tensor:  # noqa: A002
    """Drop axes of size 1 (only ``dim`` if given and of size 1, as PyTorch)."""
    d = pick("squeeze", dim, axis)
    if d is not None and getattr(input, "ndim", 1) == 0:
        return sh.copy(input)  # nothing to squeeze; PyTorch accepts dim 0 / -1 here
    if d is not None:
        dims = (d,) if isinstance(d, int) else tuple(d)
        dims = tuple(x for x in dims if input.shape[check_axis(x, len(input.shape), "squeeze")] == 1)
        if not dims:
            return input if isinstance(input, Tensor) else sh.copy(input)
        return sh.squeeze(input, dims)
    return sh.squeeze(input, None)


def unsqueeze(input: Any, dim: int) -> Tensor:  # noqa: A002
    """Insert an axis of size 1 at ``dim``."""
    return sh.expand_dims(input, dim)


def transpose(input: Any, dim0: Any = None, dim1: Any = None) -> Tensor:  # noqa: A002
    """Swap two dims (PyTorch), or permute by a tuple / reverse all (NumPy)."""
    if dim1 is None:
        return sh.transpose(input, dim0)
    return sh.swapaxes(input, dim0, dim1, "transpose")


def permute(input: Any, *dims: Any) -> Tensor:  # noqa: A002
    """Reorder dims: ``permute(x, 2, 0, 1)``."""
    return sh.transpose(input, _sizes(dims))


def expand(input: Any, *sizes: Any) -> Tensor:  # noqa: A002
    """Broadcast to ``sizes``; -1 keeps a dim's size (PyTorch)."""
    sizes = _sizes(sizes)
    shape = input.shape
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise ShapeError(f"expand: cannot expand shape {shape} to fewer dims {sizes}")
    target = tuple(shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    return sh.broadcast_to(input, target)


def cat(tensors: Sequence[Any], dim: int = 0, *, axis: Any = None) -> Tensor:
    """Join along an existing dim."""
    return sh.concatenate(tensors, pick("cat", None if axis is not None else dim, axis, 0))


concatenate = cat


def stack(tensors: Sequence[Any], dim: int = 0, *, axis: Any = None) -> Tensor:
    """Join along a new dim."""
    return sh.stack(tensors, pick("stack", None if axis is not None else dim, axis, 0))


def split(tensor: Any, split_size_or_sections: Any, dim: int = 0) -> tuple:
    """PyTorch's split: chunks of a size (an int) or of the given sizes (a list)."""
    n = tensor.shape[check_axis(dim, len(tensor.shape), "split")]  # not a bare IndexError
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ShapeError(f"split: split_size must be positive, got {size}")
        cuts = list(range(size, n, size))
    else:
        sizes = [check_int(s, "split", "size") for s in split_size_or_sections]
        if builtins.sum(sizes) != n:
            raise ShapeError(f"split: sizes {sizes} do not add up to {n}, the length of dim {dim}")
        cuts = list(np.cumsum(sizes)[:-1])
    return tuple(sh.split(tensor, cuts, dim))


def chunk(input: Any, chunks: int, dim: int = 0) -> tuple:  # noqa: A002
    """Split into ``chunks`` pieces of (nearly) equal size."""
    chunks = check_int(chunks, "chunk", "chunks", minimum=1)  # 0 would divide by zero below
    n = input.shape[check_axis(dim, len(input.shape), "chunk")]
    if n == 0:  # as torch: 0 divides evenly, so ``chunks`` empty pieces
        return split(input, [0] * chunks, dim)
    size = -(-n // chunks)
    return split(input, size, dim)


def mm(input: Any, mat2: Any) -> Tensor:  # noqa: A002
    """Product of two matrices (both must be 2-D)."""
    for name, m in (("input", input), ("mat2", mat2)):
        if np.ndim(m._data if isinstance(m, Tensor) else m) != 2:
            raise ShapeError(f"mm: {name} must be a matrix, got shape {np.shape(m)}")
    return la.matmul(input, mat2)


def masked_fill(input: Any, mask: Any, value: Any) -> Tensor:  # noqa: A002
    """``value`` where ``mask`` is true, ``input`` elsewhere."""
    return ew.where(mask, value, input)


def norm(input: Any, p: Any = 2, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """Vector p-norm (p = 1, 2 or 'fro') over ``dim`` or all elements."""
    if p == 1:
        return red.sum(ew.abs(input), dim, keepdim)
    if p in (2, "fro"):
        return ew.sqrt(red.sum(ew.square(input), dim, keepdim))
    raise ArgumentError(f"norm: p must be 1, 2 or 'fro', got {p!r}")


# ----- public names (core/exports.py): the Tensor method's and flowgrad's (PyTorch's) -----------------
for _fn, _method, _top in [
    (sum, "sum", "sum"),
    (mean, "mean", "mean"),
    (prod, "prod", "prod"),
    (logsumexp, "logsumexp", "logsumexp"),
    (amax, "amax", "amax"),
    (amin, "amin", "amin"),
    (any, "any", "any"),
    (all, "all", "all"),
    (max, "max", "max"),
    (min, "min", "min"),
    (argmax, "argmax", "argmax"),
    (argmin, "argmin", "argmin"),
    (var, "var", "var"),
    (std, "std", "std"),
    (softmax, "softmax", "softmax"),
    (log_softmax, "log_softmax", "log_softmax"),
    (clamp, "clamp clip", "clamp clip"),
    (reshape, "reshape view", "reshape view"),
    (flatten, "flatten", "flatten"),
    (squeeze, "squeeze", "squeeze"),
    (unsqueeze, "unsqueeze", "unsqueeze"),
    (transpose, "transpose", "transpose"),
    (permute, "permute", "permute"),
    (expand, "expand", "expand"),
    (cat, "", "cat concatenate"),
    (stack, "", "stack"),
    (split, "split", "split"),
    (chunk, "chunk", "chunk"),
    (mm, "mm", "mm"),
    (masked_fill, "masked_fill", "masked_fill"),
    (norm, "norm", "norm"),
]:
    export("", _method, _top)(_fn)
