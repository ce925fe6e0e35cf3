"""Reductions and the softmax family.

``axis`` is None, an int or a tuple; gradients are the upstream gradient
re-expanded over the reduced axes. ``max``/``min`` split the gradient evenly
between tied maxima, so it always sums to the upstream gradient.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from .. import backend
from ..core.exports import xp_helper
from ..core.ops import apply, defop
from ..core.tensor import Tensor
from ..errors import ArgumentError, DTypeError, ShapeError, check_axis, check_int

_add_reduce = np.add.reduce


def sum_of_array(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kw: Any
) -> Any:
    """``np.sum``: the same ``np.add.reduce`` call, minus the dispatch (for first-order rules)."""
    if type(a) is backend.ndarray and not kw:
        return _add_reduce(a, axis, dtype, out, keepdims)  # type: ignore[call-overload]
    return np.sum(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kw)


def mean_of_all(a: np.ndarray) -> Any:
    """``np.mean(a)`` for float32/float64: the same sum and division, minus the dispatch."""
    if a.dtype.char not in "fd" or a.size == 0:  # other dtypes accumulate differently; warn on empty
        return np.mean(a)
    total = _add_reduce(a, None)
    return total.dtype.type(total / np.intp(a.size))


def norm_axis(axis: Any, ndim: int, where: str = "reduce") -> tuple | None:
    """Canonical axis: None or a sorted tuple of non-negative ints."""
    if axis is None:
        return None
    # Checked: int() took "a" with a bare ValueError, and a % ndim took dim 5 of a matrix as dim 1.
    if isinstance(axis, (list, tuple)):
        axes = tuple(check_int(a, where, "dim", minimum=None) for a in axis)
    else:
        axes = (check_int(axis, where, "dim", minimum=None),)
    if ndim == 0 and all(a in (0, -1) for a in axes):
        # NumPy reduces a 0-d array over axis 0 or -1 (as all of it) but rejects the tuple (0,):
        # returning (0,) broke sum(x0d, axis=0) on tensors, and so softmax's second derivative.
        return None
    return tuple(sorted(check_axis(a, ndim, where) for a in axes))


def expand(xp: Any, g: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    """Re-insert reduced axes of size 1 so ``g`` broadcasts against ``x``."""
    if keepdims or axis is None:
        return g
    return xp.expand_dims(g, axis)


def _count(x: Any, axis: Any) -> int:
    """How many elements were reduced into each output element.

    Counted from the reduced axes, not as x.size // ans.size: that ratio is 0 when
    the output is empty (x of shape (2, 0), axis 0), which made var's gradient
    divide by zero (ddof=1) and mean's use the wrong count.
    """
    if axis is None:
        return builtins.max(math.prod(x.shape), 1)
    return builtins.max(math.prod(x.shape[a] for a in axis), 1)


SUM = defop(
    "sum",
    lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims),
    lambda xp, g, ans, x, axis, keepdims: xp.broadcast_to(expand(xp, g, x, axis, keepdims), x.shape),
)
MEAN = defop(
    "mean",
    lambda x, axis, keepdims: np.mean(x, axis=axis, keepdims=keepdims),
    lambda xp, g, ans, x, axis, keepdims: xp.broadcast_to(expand(xp, g, x, axis, keepdims) / _count(x, axis), x.shape),
)


def _var_rule(xp: Any, g: Any, ans: Any, x: Any, axis: Any, ddof: int, keepdims: bool) -> Any:
    n = _count(x, axis)
    centered = x - xp.mean(x, axis=axis, keepdims=True)
    return expand(xp, g, x, axis, keepdims) * centered * (2.0 / (n - ddof))


VAR = defop(
    "var",
    lambda x, axis, ddof, keepdims: np.var(x, axis=axis, ddof=ddof, keepdims=keepdims),
    _var_rule,
)


def _extreme_rule(xp: Any, g: Any, ans: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    top = expand(xp, ans, x, axis, keepdims)
    mask = x == top
    count = xp.sum(mask, axis=axis, keepdims=True)
    return xp.where(mask, expand(xp, g, x, axis, keepdims) / count, 0)


MAX = defop(
    "max",
    lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims),
    _extreme_rule,
    explain=lambda x, axis, keepdims: f"max: cannot reduce an empty array of shape {x.shape}" if x.size == 0 else None,
)
MIN = defop(
    "min",
    lambda x, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims),
    _extreme_rule,
    explain=lambda x, axis, keepdims: f"min: cannot reduce an empty array of shape {x.shape}" if x.size == 0 else None,
)


def _prod_others(x: np.ndarray, axis: Any) -> np.ndarray:
    """Product of all other elements along ``axis`` (exact with zeros, no division)."""
    if x.size == 0:  # nothing to multiply (the reshapes below cannot infer -1 with a 0 dim)
        return np.ones_like(x)
    if axis is None:
        return _prod_others(x.reshape(-1), (0,)).reshape(x.shape)
    moved = np.moveaxis(x, axis, tuple(range(-len(axis), 0)))
    lead = moved.shape[: moved.ndim - len(axis)]
    flat = moved.reshape(lead + (-1,))
    ones = np.ones(lead + (1,), dtype=x.dtype)
    left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    others = (left * right).reshape(moved.shape)
    return np.moveaxis(others, tuple(range(-len(axis), 0)), axis)


def _prod_rule(xp: Any, g: Any, ans: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    ge = expand(xp, g, x, axis, keepdims)
    if not isinstance(x, Tensor):  # a first-order pass: the rule runs on the backend's arrays
        return ge * _prod_others(x, axis)
    # Differentiable pass: ans / x is exact away from zeros.
    if not np.any(x._data == 0):
        return ge * expand(xp, ans, x, axis, keepdims) / x
    # With a zero, ans / x is 0/0 = nan (so second derivatives of prod would be nan):
    # multiply the others out instead, differentiably.
    return ge * _prod_others_graph(xp, x, axis)


def _prod_others_graph(xp: Any, x: Any, axis: Any) -> Any:
    """``_prod_others`` built from differentiable ops: row k of an (..., n, n) stack is
    the reduced elements with element k replaced by 1, and its product is the others'."""
    nd = len(x.shape)
    axes = tuple(range(nd)) if axis is None else axis
    last = tuple(range(nd - len(axes), nd))
    moved = xp.moveaxis(x, axes, last)
    n = math.prod(moved.shape[nd - len(axes) :])
    flat = xp.reshape(moved, moved.shape[: nd - len(axes)] + (n,))
    rows = xp.where(np.eye(n, dtype=bool), 1, xp.expand_dims(flat, -2))
    others = xp.reshape(xp.prod(rows, axis=-1), moved.shape)
    return xp.moveaxis(others, last, axes)


PROD = defop(
    "prod",
    lambda x, axis, keepdims: np.prod(x, axis=axis, keepdims=keepdims),
    _prod_rule,
)


def _logsumexp_forward(x: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    top = np.max(x, axis=axis, keepdims=True) if x.size else np.zeros((1,) * x.ndim, x.dtype)
    top = np.where(np.isfinite(top), top, 0)
    out = np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True)) + top
    if not keepdims:
        out = np.squeeze(out, axis=axis) if axis is not None else out.reshape(())
    return out


def _logsumexp_rule(xp: Any, g: Any, ans: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    return expand(xp, g, x, axis, keepdims) * xp.exp(x - expand(xp, ans, x, axis, keepdims))


LOGSUMEXP = defop("logsumexp", _logsumexp_forward, _logsumexp_rule)


def _softmax_forward(x: np.ndarray, axis: int) -> np.ndarray:
    if x.size == 0:  # np.max has no identity for an empty axis; torch returns the empty input
        return np.exp(x)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    e /= np.sum(e, axis=axis, keepdims=True)
    return e


def _log_softmax_forward(x: np.ndarray, axis: int) -> np.ndarray:
    if x.size == 0:  # as softmax: empty in, empty out (np.max would raise)
        return np.exp(x)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


SOFTMAX = defop(
    "softmax",
    _softmax_forward,
    lambda xp, g, ans, x, axis: ans * (g - xp.sum(g * ans, axis=axis, keepdims=True)),
)
LOG_SOFTMAX = defop(
    "log_softmax",
    _log_softmax_forward,
    lambda xp, g, ans, x, axis: g - xp.exp(ans) * xp.sum(g, axis=axis, keepdims=True),
)
ARGMAX = defop("argmax", lambda x, axis, keepdims: np.argmax(x, axis=axis, keepdims=keepdims))
ARGMIN = defop("argmin", lambda x, axis, keepdims: np.argmin(x, axis=axis, keepdims=keepdims))
ANY = defop("any", lambda x, axis, keepdims: np.any(x, axis=axis, keepdims=keepdims))
ALL = defop("all", lambda x, axis, keepdims: np.all(x, axis=axis, keepdims=keepdims))
CUMSUM = defop(
    "cumsum",
    lambda x, axis: np.cumsum(x, axis=axis),
    lambda xp, g, ans, x, axis: xp.flip(xp.cumsum(xp.flip(g, axis), axis), axis),
)


def reduction_args(
    where: str,
    x: Any,
    axis: Any = None,
    dim: Any = None,
    keepdims: Any = None,
    keepdim: Any = None,
    dtype: Any = None,
    out: Any = None,
) -> tuple[Any, Any, bool]:
    """The one place reduction arguments are read, in NumPy's spelling (``axis``, ``keepdims``,
    ``dtype``, ``out``) or PyTorch's (``dim``, ``keepdim``): ``(x, axis, keepdims)``.

    A 0-d tensor reduces over dim 0 or -1 as if it had one dim, as in PyTorch.

    >>> reduction_args("sum", np.ones(3), dim=0, keepdim=True)
    (array([1., 1., 1.]), 0, True)
    """
    if dim is not None and axis is not None:
        raise DTypeError(f"{where}: give dim or axis, not both")
    if out is not None:
        raise DTypeError(f"{where}: out= is not supported for tensors")
    if keepdim is not None and keepdims is not None and bool(keepdim) != bool(keepdims):
        raise DTypeError(f"{where}: give keepdim or keepdims, not both")
    chosen = dim if dim is not None else axis
    if chosen is not None and getattr(x, "ndim", 1) == 0:
        dims = chosen if isinstance(chosen, (tuple, list)) else (chosen,)
        if builtins.all(d in (0, -1) for d in dims):
            chosen = None
    if dtype is not None:
        from .shape import astype

        x = astype(x, dtype)
    return x, chosen, bool(keepdim if keepdim is not None else (keepdims or False))


def _reducer(op: Any) -> Any:
    def fn(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
        nd = x.ndim if hasattr(x, "ndim") else np.ndim(x)
        return apply(op, (x,), {"axis": norm_axis(axis, nd, op.name), "keepdims": bool(keepdims)})

    fn.__name__ = op.name
    fn.__doc__ = f"``{op.name}`` over ``axis`` (None: all), keeping reduced axes if ``keepdims``."
    return fn


sum = _reducer(SUM)  # noqa: A001
mean = _reducer(MEAN)
max = amax = _reducer(MAX)  # noqa: A001
min = amin = _reducer(MIN)  # noqa: A001
prod = _reducer(PROD)
logsumexp = _reducer(LOGSUMEXP)
any = _reducer(ANY)  # noqa: A001
all = _reducer(ALL)  # noqa: A001


def _single_axis(x: Any, axis: Any, where: str) -> Any:
    return None if axis is None else check_int(axis, where, "dim", minimum=None)


def argmax(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Index of the largest value (no gradient)."""
    return apply(ARGMAX, (x,), {"axis": _single_axis(x, axis, "argmax"), "keepdims": bool(keepdims)})


def argmin(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Index of the smallest value (no gradient)."""
    return apply(ARGMIN, (x,), {"axis": _single_axis(x, axis, "argmin"), "keepdims": bool(keepdims)})


def var(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """Variance with NumPy's ``ddof`` (0: population, 1: sample)."""
    nd = x.ndim if hasattr(x, "ndim") else np.ndim(x)
    params = {"axis": norm_axis(axis, nd, "var"), "ddof": check_int(ddof, "var", "ddof"), "keepdims": bool(keepdims)}
    return apply(VAR, (x,), params)


def std(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """Standard deviation, ``sqrt(var)``.

    Over groups of one value (and ddof 0) the deviation is identically zero, and so is its
    derivative; ``sqrt``'s rule would give 0 * inf = nan there, so the variance (also zero, with
    a zero gradient) is returned as it is. Elsewhere, equal values give nan: no derivative exists.
    """
    from .elementwise import sqrt

    variance = var(x, axis, ddof, keepdims)
    size, groups = np.size(getattr(x, "_data", x)), np.size(variance._data)
    if ddof == 0 and groups and size == groups:
        return variance
    return sqrt(variance)


def softmax(x: Any, axis: int = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis``, computed without overflow."""
    return apply(SOFTMAX, (x,), {"axis": check_int(axis, "softmax", "dim", minimum=None)})


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """``x - logsumexp(x)`` along ``axis``, computed without overflow."""
    return apply(LOG_SOFTMAX, (x,), {"axis": check_int(axis, "log_softmax", "dim", minimum=None)})


def cumsum(x: Any, axis: Any = None) -> Tensor:
    """Cumulative sum along ``axis`` (None: over the flattened array)."""
    if axis is None:
        from .shape import reshape

        return apply(CUMSUM, (reshape(x, (-1,)),), {"axis": 0})
    return apply(CUMSUM, (x,), {"axis": int(axis)})


# ----- mean squared error as one primitive ------------------------------------------------
# One node instead of three (subtract, multiply, mean): the loss of most small regressions.
# The rule computes what the three rules did, in the same order, so the digits are the same.
def _squared_error_forward(a: np.ndarray, b: np.ndarray, reduction: str) -> np.ndarray:
    d = a - b
    sq = d * d
    # A 0-d array, not a NumPy scalar, so that apply (and a replay) need no conversion.
    return np.asarray(mean_of_all(sq) if reduction == "mean" else _add_reduce(sq, None))


def _squared_error_rule(xp: Any, g: Any, ans: Any, wanted: list, a: Any, b: Any, reduction: str) -> list:
    d = a - b
    if reduction == "mean":
        g = g / _count(d, None)
    half = g * d  # d(d*d) = g*d + d*g, as the product rule adds it
    gd = half + half
    return [gd if wanted[0] else None, -gd if wanted[1] else None]


SQUARED_ERROR = defop("squared_error", _squared_error_forward, vjp_all=_squared_error_rule)


def squared_error(input: Any, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    """``mean((input - target) ** 2)`` (or the sum) as one primitive; shapes must be equal.

    >>> import flowgrad as fg
    >>> fg.squared_error(fg.tensor([1.0, 2.0]), fg.tensor([0.0, 0.0])).item()
    2.5
    """
    a = input._data if isinstance(input, Tensor) else np.asarray(input)
    b = target._data if isinstance(target, Tensor) else np.asarray(target)
    if reduction not in ("mean", "sum"):
        raise ArgumentError(f"squared_error: reduction must be 'mean' or 'sum', got {reduction!r}")
    if a.shape != b.shape:
        raise ShapeError(f"squared_error: input shape {a.shape} and target shape {b.shape} differ")
    if a.dtype != b.dtype or a.dtype.kind != "f":  # mixed or integer: NumPy's promotions, op by op
        from .elementwise import multiply, subtract

        d = subtract(input, target)
        return mean(multiply(d, d)) if reduction == "mean" else sum(multiply(d, d))
    return apply(SQUARED_ERROR, (input, target), {"reduction": reduction})


xp_helper("sum", sum_of_array)  # np.sum in first-order rules, minus its dispatch (a rule hot spot)
