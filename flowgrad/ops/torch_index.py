"""PyTorch's everyday functions that are compositions of primitives: batched products (``bmm``,
``mv``, ``addmm``, ``baddbmm``), reading and writing by index (``gather``, ``index_select``,
``take_along_dim``, ``masked_select``, ``scatter_add``, ``scatter``, ``index_add``), and small
elementwise ones (``fmod``, ``trunc``, ``frac``, ``lerp``, ``clamp_min``/``clamp_max``,
``addcmul``, ``addcdiv``), with ``argsort`` and ``cumsum``/``cumprod`` along ``dim``.

Gradients come from the primitives they are made of: reading by index sends each gradient back
to the element read (repeated indices add up); writing by index is a product with a 0/1 matrix
of the indices, so the gradient reaches both the tensor written into and what was written.

>>> import flowgrad as fg
>>> x = fg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
>>> fg.gather(x, 1, fg.tensor([[1, 1], [0, 1]]))
tensor([[2., 2.],
        [3., 4.]], grad_fn=<GetitemBackward>)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import is_array
from ..core.exports import export
from ..core.tensor import Tensor
from ..errors import ArgumentError, ShapeError, check_axis
from . import shape as sh
from .compose import cumprod as _cumprod
from .compose import take_along_axis
from .elementwise import clip, floor, sign, where
from .linalg import matmul
from .reduce import cumsum as _cumsum
from .torch_more import sort


def _data(x: Any) -> np.ndarray:
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _index(index: Any, op: str) -> np.ndarray:
    idx = _data(index)
    if idx.dtype.kind not in "iu":
        raise ArgumentError(f"{op}: index must hold integers, got {idx.dtype}")
    return idx.astype(np.int64)


def _in_range(op: str, idx: np.ndarray, size: int, dim: int) -> np.ndarray:
    if idx.size and (idx.min() < -size or idx.max() >= size):
        bad = idx[(idx < -size) | (idx >= size)].ravel()[0]
        raise ShapeError(f"{op}: index {bad} is out of range for dim {dim} of size {size}")
    return idx % size if size else idx


# ----- products ------------------------------------------------------------------------------
@export(method="bmm", top="bmm")
def bmm(input: Any, mat2: Any) -> Tensor:  # noqa: A002 - PyTorch's names
    """Batched matrix product of (b, n, m) and (b, m, p) tensors (no broadcasting, as PyTorch)."""
    a, b = np.shape(_data(input)), np.shape(_data(mat2))
    if len(a) != 3 or len(b) != 3 or a[0] != b[0] or a[2] != b[1]:
        raise ShapeError(f"bmm: expected (b, n, m) and (b, m, p), got {a} and {b}")
    return matmul(input, mat2)


@export(method="mv", top="mv")
def mv(input: Any, vec: Any) -> Tensor:  # noqa: A002
    """Matrix times vector: (n, m) @ (m,)."""
    a, v = np.shape(_data(input)), np.shape(_data(vec))
    if len(a) != 2 or len(v) != 1 or a[1] != v[0]:
        raise ShapeError(f"mv: expected (n, m) and (m,), got {a} and {v}")
    return matmul(input, vec)


@export(method="addmm", top="addmm")
def addmm(input: Any, mat1: Any, mat2: Any, *, beta: float = 1, alpha: float = 1) -> Tensor:  # noqa: A002
    """``beta * input + alpha * (mat1 @ mat2)``; with ``beta=0`` ``input`` is ignored (NaN too)."""
    a, b = np.shape(_data(mat1)), np.shape(_data(mat2))
    if len(a) != 2 or len(b) != 2 or a[1] != b[0]:
        raise ShapeError(f"addmm: expected (n, m) and (m, p) matrices, got {a} and {b}")
    product = matmul(mat1, mat2)
    product = product if alpha == 1 else product * alpha
    return product if beta == 0 else (input if beta == 1 else input * beta) + product


@export(method="baddbmm", top="baddbmm")
def baddbmm(input: Any, batch1: Any, batch2: Any, *, beta: float = 1, alpha: float = 1) -> Tensor:  # noqa: A002
    """``beta * input + alpha * bmm(batch1, batch2)``."""
    product = bmm(batch1, batch2)
    product = product if alpha == 1 else product * alpha
    return product if beta == 0 else (input if beta == 1 else input * beta) + product


# ----- reading by index -------------------------------------------------------------------------
@export(method="gather", top="gather")
def gather(input: Any, dim: int, index: Any) -> Tensor:  # noqa: A002
    """``out[i][j] = input[i][index[i][j]]`` for ``dim=1`` (and so on): ``index`` has ``input``'s
    number of dims and, except along ``dim``, sizes no larger than ``input``'s."""
    shape = np.shape(_data(input))
    idx = _index(index, "gather")
    d = check_axis(dim, len(shape), "gather", "dim") if shape else 0
    if idx.ndim != len(shape) or any(idx.shape[k] > shape[k] for k in range(len(shape)) if k != d):
        raise ShapeError(f"gather: index of shape {idx.shape} does not fit input of shape {shape} along dim {d}")
    where_: list[Any] = list(np.indices(idx.shape, sparse=True))
    where_[d] = _in_range("gather", idx, shape[d], d)
    return sh.getitem(input, tuple(where_))


@export(method="index_select", top="index_select")
def index_select(input: Any, dim: int, index: Any) -> Tensor:  # noqa: A002
    """The entries of ``input`` at the 1-D ``index`` along ``dim``."""
    shape = np.shape(_data(input))
    idx = _index(index, "index_select").reshape(-1)
    d = check_axis(dim, len(shape), "index_select", "dim") if shape else 0
    key: list[Any] = [slice(None)] * d + [_in_range("index_select", idx, shape[d] if shape else 1, d)]
    return sh.getitem(input, tuple(key))


@export(method="take_along_dim", top="take_along_dim")
def take_along_dim(input: Any, indices: Any, dim: int | None = None) -> Tensor:  # noqa: A002
    """NumPy's ``take_along_axis`` by PyTorch's name; without ``dim``, on the flattened input."""
    if dim is None:
        return take_along_axis(sh.reshape(input, (-1,)), _index(indices, "take_along_dim").reshape(-1), 0)
    return take_along_axis(input, _index(indices, "take_along_dim"), dim)


@export(method="masked_select", top="masked_select")
def masked_select(input: Any, mask: Any) -> Tensor:  # noqa: A002
    """The entries of ``input`` where the boolean ``mask`` (broadcast with it) is True, as 1-D."""
    m = _data(mask)
    if m.dtype != np.bool_:
        raise ArgumentError(f"masked_select: mask must be boolean, got {m.dtype}")
    shape = np.broadcast_shapes(np.shape(_data(input)), m.shape)
    return sh.getitem(sh.broadcast_to(input, shape), np.broadcast_to(m, shape))


# ----- writing by index -------------------------------------------------------------------------
def _written(op: str, input: Any, dim: int, index: Any, src: Any) -> tuple[Tensor, np.ndarray, int]:  # noqa: A002
    """What ``scatter_add`` adds into ``input``: ``src`` summed into place along ``dim``."""
    shape = np.shape(_data(input))
    idx = _index(index, op)
    d = check_axis(dim, len(shape), op, "dim") if shape else 0
    src_shape = np.shape(_data(src))
    if idx.ndim != len(shape) or any(idx.shape[k] > src_shape[k] for k in range(idx.ndim)):
        raise ShapeError(f"{op}: index of shape {idx.shape} does not fit src of shape {src_shape}")
    if any(idx.shape[k] > shape[k] for k in range(len(shape)) if k != d):
        raise ShapeError(f"{op}: index of shape {idx.shape} does not fit input of shape {shape} along dim {d}")
    idx = _in_range(op, idx, shape[d], d)
    part = sh.getitem(src, tuple(slice(0, n) for n in idx.shape)) if src_shape != idx.shape else src
    one_hot = np.moveaxis(idx, d, -1)[..., None] == np.arange(shape[d])  # (..., index along dim, n)
    moved = sh.moveaxis(part, d, -1)[..., None] * one_hot.astype(_data(part).dtype)
    summed = sh.moveaxis(moved.sum(axis=-2), -1, d)  # the positions along dim, as input has them
    pad = [(0, shape[k] - summed.shape[k]) for k in range(len(shape))]
    if any(after for _, after in pad):
        summed = sh.pad(summed, pad)
    return summed, idx, d


@export(method="scatter_add", top="scatter_add")
def scatter_add(input: Any, dim: int, index: Any, src: Any) -> Tensor:  # noqa: A002
    """``input`` with ``src[i][j]`` added at ``[i][index[i][j]]`` (``dim=1``); repeated indices add up."""
    return input + _written("scatter_add", input, dim, index, src)[0]


@export(method="scatter", top="scatter")
def scatter(input: Any, dim: int, index: Any, src: Any = None, *, value: Any = None) -> Tensor:  # noqa: A002
    """``input`` with ``src[i][j]`` (or the number ``value``) written at ``[i][index[i][j]]`` (``dim=1``).

    An index repeated along ``dim`` is refused: PyTorch leaves which write wins undefined.
    """
    if (src is None) == (value is None):
        raise ArgumentError("scatter: give src (a tensor) or value (a number), one of them")
    idx_shape = np.shape(_data(index))
    if src is None or not (isinstance(src, Tensor) or is_array(src)):
        src = Tensor._wrap(np.full(idx_shape, value if src is None else src, dtype=_data(input).dtype))
    ones = np.ones(idx_shape, dtype=np.float64)
    counts, _, d = _written("scatter", np.zeros(np.shape(_data(input))), dim, index, ones)
    if counts._data.max(initial=0) > 1:
        raise ArgumentError(
            f"scatter: index writes the same place twice along dim {d}; PyTorch leaves the result undefined, "
            "use scatter_add to add them"
        )
    return where(counts._data > 0, _written("scatter", input, dim, index, src)[0], input)


@export(method="index_add", top="index_add")
def index_add(input: Any, dim: int, index: Any, source: Any, *, alpha: float = 1) -> Tensor:  # noqa: A002
    """``input`` with ``alpha * source`` added at the 1-D ``index`` along ``dim``; repeats add up."""
    shape = np.shape(_data(input))
    idx = _index(index, "index_add").reshape(-1)
    d = check_axis(dim, len(shape), "index_add", "dim") if shape else 0
    expected = tuple(len(idx) if k == d else n for k, n in enumerate(shape))
    if np.shape(_data(source)) != expected:
        raise ShapeError(f"index_add: source must have shape {expected}, got {np.shape(_data(source))}")
    full = np.broadcast_to(np.expand_dims(idx, tuple(k for k in range(len(shape)) if k != d)), expected)
    added = _written("index_add", input, d, full, source)[0]
    return input + (added if alpha == 1 else added * alpha)


# ----- elementwise ------------------------------------------------------------------------------
@export(method="trunc fix", top="trunc fix")
def trunc(input: Any) -> Tensor:  # noqa: A002
    """Rounded toward zero (its gradient is zero, as the rounding is piecewise constant)."""
    return sign(input) * floor(abs(input))


@export(method="frac", top="frac")
def frac(input: Any) -> Tensor:  # noqa: A002
    """``input - trunc(input)``: the fractional part, with the sign of ``input``."""
    return input - trunc(input)


@export(method="fmod", top="fmod")
def fmod(input: Any, other: Any) -> Tensor:  # noqa: A002
    """C's remainder: the sign of ``input`` (``remainder`` has the sign of ``other``)."""
    return input - trunc(input / other) * other


@export(method="lerp", top="lerp")
def lerp(input: Any, end: Any, weight: Any) -> Tensor:  # noqa: A002
    """``input + weight * (end - input)``."""
    return input + weight * (end - input)


@export(method="clamp_min", top="clamp_min")
def clamp_min(input: Any, min: Any) -> Tensor:  # noqa: A002
    return clip(input, min, None)


@export(method="clamp_max", top="clamp_max")
def clamp_max(input: Any, max: Any) -> Tensor:  # noqa: A002
    return clip(input, None, max)


@export(method="addcmul", top="addcmul")
def addcmul(input: Any, tensor1: Any, tensor2: Any, *, value: float = 1) -> Tensor:  # noqa: A002
    """``input + value * tensor1 * tensor2``."""
    return input + value * tensor1 * tensor2


@export(method="addcdiv", top="addcdiv")
def addcdiv(input: Any, tensor1: Any, tensor2: Any, *, value: float = 1) -> Tensor:  # noqa: A002
    """``input + value * tensor1 / tensor2``."""
    return input + value * tensor1 / tensor2


@export(method="argsort", top="argsort")
def argsort(input: Any, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:  # noqa: A002
    """Where ``sort`` takes each element from (ties in their order)."""
    return sort(input, dim=dim, descending=descending, stable=stable).indices


@export(top="cumsum")
def cumsum(input: Any, dim: int, *, dtype: Any = None) -> Tensor:  # noqa: A002
    """Running sums along ``dim`` (PyTorch's ``torch.cumsum``)."""
    out = _cumsum(input, dim)
    return out if dtype is None else out.to(dtype)


@export(method="cumprod", top="cumprod")
def cumprod(input: Any, dim: int, *, dtype: Any = None) -> Tensor:  # noqa: A002
    """Running products along ``dim`` (PyTorch's ``torch.cumprod``)."""
    out = _cumprod(input, dim)
    return out if dtype is None else out.to(dtype)
