"""In-place tensor methods (``add_``, ``mul_``, ``fill_``, ``copy_``, ``t[i] = v``, ...).

A tensor may change in place only where no recorded graph depends on it: a tensor that
requires grad changes inside ``with fg.no_grad():`` (a parameter update), and every change
advances the tensor's version, so that ``backward`` refuses a node whose saved input changed
after it was recorded. While ``fg.compile`` traces, each change is recorded, so replays make it.
``Tensor`` inherits these methods; they live here to keep ``core/tensor.py`` short.
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from ..errors import DTypeError, FlowgradError, InPlaceError, ShapeError, given
from . import mode

_T = TypeVar("_T", bound="InPlaceMethods")


class InPlaceMethods:
    """The in-place methods of ``Tensor`` (a base class holding no state of its own)."""

    __slots__ = ()

    if TYPE_CHECKING:
        _data: np.ndarray
        requires_grad: builtins.bool
        _version: builtins.int

        @property
        def shape(self) -> tuple: ...
        @property
        def dtype(self) -> np.dtype: ...

    def _check_inplace(self: _T, what: str) -> None:
        if self.requires_grad and mode.state.grad_enabled:
            raise InPlaceError(
                f"{what}: this tensor requires grad, so changing it in place would make its "
                "gradients wrong; do it inside `with fg.no_grad():` (for example a parameter "
                "update) or on a tensor that does not require grad"
            )

    def _mark_changed(self: _T) -> None:
        self._version = mode.next_version()

    def __setitem__(self: _T, index: Any, value: Any) -> None:
        """``t[index] = value``: NumPy's indexing rules, refused on a tensor being differentiated.

        >>> import flowgrad as fg
        >>> t = fg.zeros(3); t[1] = 5; t
        tensor([0., 5., 0.])
        """
        self._check_inplace("item assignment")
        if isinstance(value, InPlaceMethods):
            value = value._data
        if isinstance(index, InPlaceMethods):
            index = index._data
        elif isinstance(index, tuple):
            index = tuple(i._data if isinstance(i, InPlaceMethods) else i for i in index)
        _checked_inplace(_setitem, self, "item assignment", value, index, value)
        self._mark_changed()

    def _inplace(self: _T, ufunc: np.ufunc, other: Any, what: str) -> _T:
        self._check_inplace(what)
        if isinstance(other, InPlaceMethods):
            other = other._data
        try:
            _inplace_call(_ufunc_into, self, ufunc, other, what=what)
        except (ValueError, TypeError) as exc:
            kind = DTypeError if isinstance(exc, TypeError) else ShapeError  # a string is a type problem
            raise kind(
                f"{what}: cannot update a tensor of shape {self.shape} and dtype {self.dtype} "
                f"in place with {given(other)} of shape {np.shape(other)} ({exc})"
            ) from None
        self._mark_changed()
        return self

    def add_(self: _T, other: Any, alpha: Any = 1) -> _T:
        """``self += alpha * other`` in place; returns ``self``.

        >>> import flowgrad as fg
        >>> fg.tensor([1.0, 2.0]).add_(fg.tensor([1.0, 1.0]), alpha=10)
        tensor([11., 12.])
        """
        if alpha != 1:
            other = (other._data if isinstance(other, InPlaceMethods) else other) * alpha
        return self._inplace(np.add, other, "add_")

    def sub_(self: _T, other: Any, alpha: Any = 1) -> _T:
        """``self -= alpha * other`` in place; returns ``self``.

        >>> import flowgrad as fg
        >>> fg.tensor([1.0, 2.0]).sub_(1.0)
        tensor([0., 1.])
        """
        if alpha != 1:
            other = (other._data if isinstance(other, InPlaceMethods) else other) * alpha
        return self._inplace(np.subtract, other, "sub_")

    def mul_(self: _T, other: Any) -> _T:
        """``self *= other`` in place (``other`` broadcast to ``self``'s shape); returns ``self``.

        >>> import flowgrad as fg
        >>> fg.tensor([1.0, 2.0]).mul_(3)
        tensor([3., 6.])
        """
        return self._inplace(np.multiply, other, "mul_")

    def div_(self: _T, other: Any) -> _T:
        """``self /= other`` in place (true division); returns ``self``.

        >>> import flowgrad as fg
        >>> fg.tensor([1.0, 2.0]).div_(2)
        tensor([0.5, 1.0])
        """
        return self._inplace(np.true_divide, other, "div_")

    def zero_(self: _T) -> _T:
        """Set every element to zero in place (as ``w.grad.zero_()``)."""
        return self.fill_(0)

    def fill_(self: _T, value: Any) -> _T:
        """Set every element to ``value`` in place; returns ``self``.

        >>> import flowgrad as fg
        >>> fg.zeros(3).fill_(7)
        tensor([7., 7., 7.])
        """
        self._check_inplace("fill_")
        value = value._data if isinstance(value, InPlaceMethods) else value
        _checked_inplace(_setitem, self, "fill_", value, Ellipsis, value)
        self._mark_changed()
        return self

    def copy_(self: _T, src: Any) -> _T:
        """Copy ``src``'s values (broadcast, cast to ``self``'s dtype) into ``self``; returns ``self``.

        >>> import flowgrad as fg
        >>> fg.zeros(2, 2).copy_(fg.tensor([1.0, 2.0]))
        tensor([[1., 2.],
                [1., 2.]])
        """
        self._check_inplace("copy_")
        src = src._data if isinstance(src, InPlaceMethods) else src
        _checked_inplace(_setitem, self, "copy_", src, Ellipsis, src)
        self._mark_changed()
        return self

    def clamp_(self: _T, min: Any = None, max: Any = None) -> _T:  # noqa: A002
        """Limit every element to ``[min, max]`` in place (either may be None); returns ``self``.

        >>> import flowgrad as fg
        >>> fg.tensor([-2.0, 0.5, 3.0]).clamp_(min=0, max=1)
        tensor([0.0, 0.5, 1.0])
        """
        self._check_inplace("clamp_")
        _checked_inplace(_clip_into, self, "clamp_", (min, max), min, max)
        self._mark_changed()
        return self


def _setitem(target: np.ndarray, index: Any, value: Any) -> None:
    target[index] = value


def _ufunc_into(target: np.ndarray, ufunc: np.ufunc, other: Any) -> None:
    ufunc(target, other, out=target, casting="same_kind")


def _clip_into(target: np.ndarray, lo: Any, hi: Any) -> None:
    np.clip(target, lo, hi, out=target)


def _inplace_call(fn: Any, target: InPlaceMethods, *args: Any, what: str = "") -> None:
    """Run an in-place update of ``target``'s data; while fg.compile traces, record it too."""
    if mode.RECORDING:
        mode.note_inplace(f"an in-place update ({what or getattr(fn, '__name__', fn)})", target)
    tracer = mode.current_tracer()
    if tracer is not None:
        tracer.call(fn, target, *args)
    else:
        fn(target._data, *args)


def _checked_inplace(fn: Any, target: InPlaceMethods, what: str, value: Any, *args: Any) -> None:
    """``_inplace_call``, with NumPy's bare errors (a wrong shape, a string) turned into flowgrad's."""
    try:
        _inplace_call(fn, target, *args, what=what)
    except FlowgradError:
        raise
    except (ValueError, TypeError) as exc:
        kind = DTypeError if isinstance(exc, TypeError) or "convert" in str(exc) else ShapeError
        raise kind(
            f"{what}: cannot write {given(value)} of shape {np.shape(value)} into a tensor of shape "
            f"{target.shape} and dtype {target.dtype} ({exc})"
        ) from None
