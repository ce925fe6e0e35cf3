"""Tensor operators and methods, bound to the primitives in ``flowgrad.ops``.

Operators follow PyTorch: a Python or NumPy scalar on the other side is a
"weak" scalar that never changes the tensor's dtype (``float32 * np.float64(2)``
stays float32). ``a += b`` updates in place where no graph depends on ``a``
(a parameter inside ``no_grad``), and records an out-of-place op otherwise.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import is_array
from ..ops import elementwise as ew
from ..ops import linalg as la
from ..ops import reduce as red
from ..ops import shape as sh
from ..ops import torchlike as tl
from . import dlpack, factories, mode
from .exports import exported
from .ops import apply
from .tensor import Tensor

_FAST = (Tensor, float, int, bool)


def _weak(other: Any) -> Any:
    """Python/NumPy scalars and 0-d arrays become Python scalars (no dtype upcast)."""
    if type(other) in _FAST:
        return other
    if isinstance(other, np.generic) or (is_array(other) and other.ndim == 0):
        return other.item()
    return other


def _binop(op: Any) -> tuple:
    def forward(self: Tensor, other: Any) -> Tensor:
        if type(other) not in _FAST:
            other = _weak(other)
        return apply(op, (self, other))

    def reflected(self: Tensor, other: Any) -> Tensor:
        if type(other) not in _FAST:
            other = _weak(other)
        return apply(op, (other, self))

    return forward, reflected


def _inplace(op: Any, ufunc: np.ufunc, name: str) -> Any:
    def method(self: Tensor, other: Any) -> Tensor:
        if self.requires_grad and mode.state.grad_enabled:
            if self._node is None:
                self._check_inplace(f"{name} on a leaf")
            return apply(op, (self, _weak(other)))  # non-leaf: record out of place
        if isinstance(other, Tensor) and other.requires_grad and mode.state.grad_enabled:
            return apply(op, (self, other))
        return self._inplace(ufunc, other, name)

    return method


def _bind() -> None:
    T: Any = Tensor  # noqa: N806 - short on purpose: dozens of bindings follow (set at run time)
    for name, op in (
        ("add", ew.ADD),
        ("sub", ew.SUB),
        ("mul", ew.MUL),
        ("truediv", ew.DIV),
        ("floordiv", ew.FLOORDIV),
        ("mod", ew.MOD),
        ("pow", ew.POW),
        ("matmul", la.MATMUL),
    ):
        fwd, ref = _binop(op)
        setattr(T, f"__{name}__", fwd)
        setattr(T, f"__r{name}__", ref)
    for name, op in (
        ("eq", ew.EQ),
        ("ne", ew.NE),
        ("lt", ew.LT),
        ("le", ew.LE),
        ("gt", ew.GT),
        ("ge", ew.GE),
        ("and", ew.LOGICAL_AND),
        ("or", ew.LOGICAL_OR),
        ("xor", ew.LOGICAL_XOR),
    ):
        setattr(T, f"__{name}__", _binop(op)[0])
    T.__iadd__ = _inplace(ew.ADD, np.add, "+=")
    T.__isub__ = _inplace(ew.SUB, np.subtract, "-=")
    T.__imul__ = _inplace(ew.MUL, np.multiply, "*=")
    T.__itruediv__ = _inplace(ew.DIV, np.true_divide, "/=")
    T.__neg__ = ew.negative
    T.__pos__ = lambda self: self
    T.__abs__ = ew.abs
    T.__invert__ = ew.logical_not
    T.__getitem__ = sh.getitem

    # PyTorch-named arithmetic methods
    T.add = lambda self, other, alpha=1: self + (other * alpha if alpha != 1 else other)
    T.sub = lambda self, other, alpha=1: self - (other * alpha if alpha != 1 else other)
    T.mul = T.multiply = T.__mul__
    T.div = T.divide = T.true_divide = T.__truediv__
    T.pow = T.__pow__
    T.neg = T.negative = ew.negative
    T.matmul = T.__matmul__
    T.eq, T.ne, T.lt, T.le, T.gt, T.ge = T.__eq__, T.__ne__, T.__lt__, T.__le__, T.__gt__, T.__ge__
    # Every function declared as a method (core/exports.py), then the few that are methods only.
    for name, fn in exported("method").items():
        setattr(T, name, fn)
    T.rsqrt = lambda self: ew.reciprocal(ew.sqrt(self))
    T.where = lambda self, condition, other: ew.where(condition, self, other)
    T.cumsum = lambda self, dim=None, axis=None: red.cumsum(self, tl.pick("cumsum", dim, axis))
    T.reshape_as = T.view_as = lambda self, other: sh.reshape(self, other.shape)
    T.t = lambda self: sh.transpose(self) if self.ndim == 2 else self
    T.T = property(lambda self: sh.transpose(self))
    T.mT = property(lambda self: sh.swapaxes(self, -1, -2))
    T.expand_as = lambda self, other: sh.broadcast_to(self, other.shape)
    T.flip = lambda self, dims=None: sh.flip(self, dims)
    T.contiguous = lambda self: self
    T.new_tensor, T.new_full, T.new_zeros = factories.new_tensor, factories.new_full, factories.new_zeros
    T.new_ones, T.new_empty = factories.new_ones, factories.new_empty
    T.type_as = lambda self, other: self.to(other.dtype)
    T.__array_ufunc__ = _array_ufunc
    T.__dlpack__, T.__dlpack_device__ = dlpack.tensor_dlpack, dlpack.tensor_dlpack_device
    # PyTorch's keyword names on the methods too (x.pow(exponent=2), x.div(y, rounding_mode="floor")):
    # the method's tensor is the signature's first argument. Tensor.where's order differs: not it.
    from .torch_signatures import SIGNATURES, adapt

    for name, text in SIGNATURES.items():
        method = getattr(T, name, None)
        if callable(method) and name != "where" and not isinstance(method, type):
            setattr(T, name, adapt(name, method, text, method=True))


def _array_ufunc(self: Tensor, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
    """NumPy ufuncs on tensors (``np.exp(t)``, ``ndarray + t``) run flowgrad's ops."""
    from .. import numpy as fnp

    fn = getattr(fnp, ufunc.__name__, None) if method == "__call__" and not kwargs else None
    if fn is not None and getattr(fn, "__wrapped__", None) is not None:
        if ufunc.nin == 2:
            a, b = inputs
            # A NumPy scalar beside a tensor is weak, as with the operators.
            a = _weak(a) if not isinstance(a, Tensor) else a
            b = _weak(b) if not isinstance(b, Tensor) else b
            inputs = (a, b)
        return fn(*inputs)
    for x in inputs:
        if isinstance(x, Tensor) and x.requires_grad:
            raise TypeError(
                f"numpy.{ufunc.__name__}.{method} is not differentiable on flowgrad tensors; "
                "use the flowgrad function or .detach() first"
            )
    raw = [x._data if isinstance(x, Tensor) else x for x in inputs]
    return getattr(ufunc, method)(*raw, **kwargs)


_bind()
