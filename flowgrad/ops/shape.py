"""Shape primitives: reshape, transpose, broadcast, squeeze, indexing, joins, pad.

Reading with an index (basic or advanced) has a gradient that scatter-adds
back into the input's shape (repeated indices add up), through the internal
``index_scatter`` primitive, whose own gradient is indexing again.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..backend import is_array
from ..core.engine import sum_to as _sum_to_array
from ..core.exports import export, xp_helper
from ..core.ops import apply, defop
from ..core.tensor import Tensor
from ..errors import DTypeError, ShapeError, check_axis, check_int, given

RESHAPE = defop(
    "reshape",
    lambda x, shape: np.reshape(x, shape),
    lambda xp, g, ans, x, shape: xp.reshape(g, x.shape),
    explain=lambda x, shape: f"reshape: cannot reshape an array of shape {x.shape} ({x.size} elements) into {shape}",
)


def _inverse_axes(axes: Any, ndim: int) -> Any:
    if axes is None:
        return None
    return tuple(np.argsort([a % ndim for a in axes]))


TRANSPOSE = defop(
    "transpose",
    lambda x, axes: np.transpose(x, axes),
    lambda xp, g, ans, x, axes: xp.transpose(g, _inverse_axes(axes, len(x.shape))),
)
BROADCAST_TO = defop(
    "broadcast_to",
    lambda x, shape: np.broadcast_to(x, shape),
    lambda xp, g, ans, x, shape: g,  # the engine sums broadcast axes back
    explain=lambda x, shape: f"broadcast_to: cannot broadcast shape {x.shape} to {tuple(shape)}",
)
SUM_TO = defop(
    "sum_to",
    lambda x, shape: _sum_to_array(x, tuple(shape)),
    lambda xp, g, ans, x, shape: xp.broadcast_to(g, x.shape),
)
EXPAND_DIMS = defop(
    "expand_dims",
    lambda x, axis: np.expand_dims(x, axis),
    lambda xp, g, ans, x, axis: xp.reshape(g, x.shape),
)
SQUEEZE = defop(
    "squeeze",
    lambda x, axis: np.squeeze(x, axis),
    lambda xp, g, ans, x, axis: xp.reshape(g, x.shape),
)
FLIP = defop(
    "flip",
    lambda x, axis: np.flip(x, axis),
    lambda xp, g, ans, x, axis: xp.flip(g, axis),
)
COPY = defop("copy", np.copy, lambda xp, g, ans, x: g)
ASTYPE = defop(
    "astype",
    lambda x, dtype: x.astype(dtype),
    lambda xp, g, ans, x, dtype: g,  # the engine casts back to the input's dtype
)


def _is_basic(index: Any) -> bool:
    """True for indexes made only of ints, slices, None and Ellipsis (no repeats possible)."""
    items = index if isinstance(index, tuple) else (index,)
    for i in items:
        if i is None or i is Ellipsis or isinstance(i, (builtins.int, np.integer, slice)):
            continue
        if is_array(i) and i.dtype == np.bool_:
            continue
        return False
    return True


def _index_scatter_forward(g: np.ndarray, shape: tuple, index: Any) -> np.ndarray:
    out = np.zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


def _getitem_add_into(buffer: Any, g: np.ndarray, ans: np.ndarray, x: np.ndarray, index: Any) -> bool:
    # Basic indexing (and boolean masks) reach each element once: buffer[index] += g is exact.
    if (
        buffer is None
        or buffer.shape != x.shape
        or buffer.dtype != g.dtype
        or not buffer.flags.writeable
        or not _is_basic(index)
    ):
        return False
    buffer[index] += g
    return True


GETITEM = defop(
    "getitem",
    lambda x, index: x[index],
    lambda xp, g, ans, x, index: xp.index_scatter(g, x.shape, index),
    explain=lambda x, index: f"getitem: index {index!r} does not fit shape {x.shape}",
    vjp_add_into=_getitem_add_into,
)


INDEX_SCATTER = defop(
    "index_scatter",
    _index_scatter_forward,
    lambda xp, g, ans, gin, shape, index: g[index],
)


def _concat_forward(*xs: np.ndarray, axis: int) -> np.ndarray:
    return np.concatenate(xs, axis=axis)


def _concat_rule(xp: Any, g: Any, ans: Any, wanted: list, *xs: Any, axis: int) -> list:
    bounds = np.cumsum([x.shape[axis] for x in xs])[:-1]
    parts = xp.split(g, [int(b) for b in bounds], axis)
    return [p if need else None for p, need in zip(parts, wanted)]


def _concat_explain(*xs: np.ndarray, axis: int) -> str:
    shapes = ", ".join(str(np.shape(x)) for x in xs)
    return f"concatenate: shapes {shapes} must match except along axis {axis}"


CONCATENATE = defop("concatenate", _concat_forward, vjp_all=_concat_rule, explain=_concat_explain)


def _stack_forward(*xs: np.ndarray, axis: int) -> np.ndarray:
    return np.stack(xs, axis=axis)


def _stack_rule(xp: Any, g: Any, ans: Any, wanted: list, *xs: Any, axis: int) -> list:
    parts = xp.split(g, len(xs), axis)
    return [xp.reshape(p, x.shape) if need else None for p, x, need in zip(parts, xs, wanted)]


def _stack_explain(*xs: np.ndarray, axis: int) -> str:
    shapes = ", ".join(str(np.shape(x)) for x in xs)
    return f"stack: all inputs must have the same shape, got {shapes}"


STACK = defop("stack", _stack_forward, vjp_all=_stack_rule, explain=_stack_explain)


def _pad_rule(xp: Any, g: Any, ans: Any, x: Any, pad_width: tuple, mode: str, constant_values: Any) -> Any:
    if mode != "constant":
        raise NotImplementedError(f"pad: the gradient of mode={mode!r} is not implemented")
    index = tuple(slice(before, before + n) for (before, _), n in zip(pad_width, x.shape))
    return g[index]


PAD = defop(
    "pad",
    # ``pad_width or 0``: a 0-d input has pad_width (), which np.pad rejects ("must be
    # of integral type"), while np.pad(x0d, 0) returns it unchanged as NumPy users expect.
    lambda x, pad_width, mode, constant_values: (
        np.pad(x, pad_width or 0, mode=mode, constant_values=constant_values)
        if mode == "constant"
        else np.pad(x, pad_width or 0, mode=mode)
    ),
    _pad_rule,
)


# ----- public functions (NumPy signatures) -------------------------------------------------
def _shape_arg(shape: Any, where: str = "reshape") -> tuple:
    # Checked: int() gave bare errors for "ab" and None that did not name the function.
    if isinstance(shape, (builtins.int, np.integer)):
        return (builtins.int(shape),)
    if not isinstance(shape, (tuple, list)):
        raise DTypeError(f"{where}: expected a shape (a tuple of ints), got {given(shape)}")
    return tuple(check_int(s, where, "size", minimum=None) for s in shape)


def reshape(x: Any, shape: Any) -> Tensor:
    """Same data, new shape (one entry may be -1)."""
    return apply(RESHAPE, (x,), {"shape": _shape_arg(shape)})


def transpose(x: Any, axes: Any = None) -> Tensor:
    """Permute axes (reverse them when ``axes`` is None)."""
    return apply(TRANSPOSE, (x,), {"axes": None if axes is None else _shape_arg(axes, "transpose")})


def swapaxes(x: Any, axis1: int, axis2: int, where: str = "swapaxes") -> Tensor:
    """Exchange two axes."""
    nd = np.ndim(x) if not isinstance(x, Tensor) else x.ndim
    axis1, axis2 = check_axis(axis1, nd, where), check_axis(axis2, nd, where)  # not a bare IndexError
    axes = list(range(nd))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(x, axes)


def moveaxis(x: Any, source: Any, destination: Any) -> Tensor:
    """Move axes to new positions, keeping the order of the others."""
    nd = x.ndim if isinstance(x, Tensor) else np.ndim(x)
    src = [check_axis(s, nd, "moveaxis", "source") for s in _shape_arg(source, "moveaxis")]  # not s % nd: silent
    dst = [check_axis(d, nd, "moveaxis", "destination") for d in _shape_arg(destination, "moveaxis")]
    order = [a for a in range(nd) if a not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(x, order)


def broadcast_to(x: Any, shape: Any) -> Tensor:
    """A read-only view of ``x`` broadcast to ``shape``."""
    return apply(BROADCAST_TO, (x,), {"shape": _shape_arg(shape, "broadcast_to")})


def sum_to(x: Any, shape: Any) -> Tensor:
    """Sum ``x`` down to ``shape``: the inverse of broadcasting (used by gradients)."""
    return apply(SUM_TO, (x,), {"shape": _shape_arg(shape)})


def expand_dims(x: Any, axis: Any) -> Tensor:
    """Insert axes of length 1."""
    return apply(EXPAND_DIMS, (x,), {"axis": axis if isinstance(axis, builtins.int) else tuple(axis)})


def squeeze(x: Any, axis: Any = None) -> Tensor:
    """Remove axes of length 1 (all of them when ``axis`` is None)."""
    if axis is not None and not isinstance(axis, builtins.int):
        axis = tuple(axis)
    return apply(SQUEEZE, (x,), {"axis": axis})


def flip(x: Any, axis: Any = None) -> Tensor:
    """Reverse the order of elements along ``axis``."""
    return apply(FLIP, (x,), {"axis": axis})


def ravel(x: Any) -> Tensor:
    """Flatten to one dimension."""
    return reshape(x, (-1,))


def copy(x: Any) -> Tensor:
    """A copy that stays in the graph."""
    return apply(COPY, (x,))


def astype(x: Any, dtype: Any) -> Tensor:
    """Cast to ``dtype``; gradients flow back only between floating dtypes."""
    dtype = np.dtype(dtype)
    if isinstance(x, Tensor) and dtype.kind not in "fc":
        x = x.detach()
    return apply(ASTYPE, (x,), {"dtype": dtype})


def _unwrap_index(index: Any) -> Any:
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def getitem(x: Any, index: Any) -> Tensor:
    """``x[index]`` for basic and advanced indexes; the gradient scatter-adds back."""
    return apply(GETITEM, (x,), {"index": _unwrap_index(index)})


def index_scatter(g: Any, shape: Any, index: Any) -> Tensor:
    """Zeros of ``shape`` with ``g`` added at ``index`` (repeats add up)."""
    return apply(INDEX_SCATTER, (g,), {"shape": _shape_arg(shape), "index": _unwrap_index(index)})


def concatenate(arrays: Sequence[Any], axis: int | None = 0) -> Tensor:
    """Join arrays along an existing axis (None: flatten them first)."""
    arrays = list(arrays)
    if not arrays:
        from ..errors import ShapeError

        raise ShapeError("concatenate: need at least one array, got an empty sequence")
    if axis is None:
        arrays = [ravel(a) for a in arrays]
        axis = 0
    return apply(CONCATENATE, tuple(arrays), {"axis": check_int(axis, "concatenate", "dim", minimum=None)})


def stack(arrays: Sequence[Any], axis: int = 0) -> Tensor:
    """Join arrays of one shape along a new axis."""
    arrays = list(arrays)
    if not arrays:
        from ..errors import ShapeError

        raise ShapeError("stack: need at least one array, got an empty sequence")
    return apply(STACK, tuple(arrays), {"axis": check_int(axis, "stack", "dim", minimum=None)})


def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list:
    """NumPy's split: equal sections (an int) or cut points (a list)."""
    shape = x.shape
    n = shape[check_axis(axis, len(shape), "split")]  # not a bare IndexError
    if isinstance(indices_or_sections, (builtins.int, np.integer)):
        k = builtins.int(indices_or_sections)
        if k <= 0 or n % k:
            raise ShapeError(f"split: axis {axis} of length {n} does not divide into {k} equal sections")
        cuts = [n // k * i for i in range(1, k)]
    else:
        cuts = [check_int(c, "split", "cut", minimum=None) for c in indices_or_sections]
    bounds = [0] + cuts + [n]
    nd = len(shape)
    ax = axis % nd
    pieces = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        index = (slice(None),) * ax + (slice(lo, hi),)
        pieces.append(getitem(x, index))
    return pieces


def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = 0) -> Tensor:
    """NumPy's pad; differentiable for ``mode='constant'``."""
    nd = x.ndim if isinstance(x, Tensor) else np.ndim(x)
    try:
        widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (nd, 2))
    except (TypeError, ValueError):  # NumPy's bare errors: say what pad takes
        raise ShapeError(f"pad: pad_width must be ints that broadcast to ({nd}, 2), got {given(pad_width)}") from None
    pw = tuple((builtins.int(a), builtins.int(b)) for a, b in widths)
    return apply(PAD, (x,), {"pad_width": pw, "mode": mode, "constant_values": constant_values})


# Helpers gradient rules call as xp.<name> (core/exports.py).
xp_helper("sum_to", lambda x, shape: _sum_to_array(x, tuple(shape)), sum_to)
xp_helper("index_scatter", INDEX_SCATTER.forward, index_scatter)


# ----- public names (core/exports.py): flowgrad.numpy's, the Tensor method's, flowgrad's ------------
# NumPy's signatures; the PyTorch-style ones (dim=) are in ops/torchlike.py.
for _fn, _numpy, _method, _top in [
    (transpose, "transpose", "", ""),
    (swapaxes, "swapaxes", "swapaxes", "swapaxes"),
    (moveaxis, "moveaxis", "", "moveaxis"),
    (broadcast_to, "broadcast_to", "broadcast_to", "broadcast_to"),
    (expand_dims, "expand_dims", "", ""),
    (squeeze, "squeeze", "", ""),
    (flip, "flip", "", ""),
    (ravel, "ravel", "ravel", ""),
    (concatenate, "concatenate", "", ""),
    (stack, "stack", "", ""),
    (split, "split", "", ""),
    (pad, "pad", "", "pad"),
    (copy, "copy", "clone copy", ""),
    (astype, "", "astype", ""),
]:
    export(_numpy, _method, _top)(_fn)
