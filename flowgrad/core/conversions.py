"""Dtype and device conversions of ``Tensor`` (``to``, ``float``, ``double``, ``cpu``, ...), kept
beside it as ``inplace.py`` and ``hooks.py`` are, so that ``core/tensor.py`` stays short."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from .. import dtypes
from ..errors import DTypeError

__all__ = ["ConversionMethods"]

_T = TypeVar("_T", bound="ConversionMethods")


def _is_dtype_name(x: Any) -> builtins.bool:
    if not isinstance(x, str):
        return False
    try:
        np.dtype(x)
    except TypeError:
        return False
    return True


class ConversionMethods:
    """The conversion methods of ``Tensor`` (a base class holding no state of its own)."""

    __slots__ = ()

    if TYPE_CHECKING:
        _data: np.ndarray

        @property
        def dtype(self) -> np.dtype: ...
        def clone(self: _T) -> _T: ...
        def astype(self: _T, dtype: Any) -> _T: ...

    def to(self: _T, *args: Any, **kwargs: Any) -> _T:
        """Convert dtype and/or device: ``t.to(fg.float64)``, ``t.to('cpu')``, ``t.to(other)``."""
        dtype = kwargs.pop("dtype", None)
        dev = kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        copy = kwargs.pop("copy", False)
        if kwargs:
            raise DTypeError(f"to: unexpected arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, ConversionMethods):
                dtype = a.dtype
            elif isinstance(a, (str, dtypes.device)) and not _is_dtype_name(a):
                dev = a
            else:
                dtype = a
        dtypes.check_device(dev)
        if dtype is None or dtypes.as_dtype(dtype) == self._data.dtype:
            return self.clone() if copy else self
        return self.astype(dtype)

    def cpu(self: _T) -> _T:
        return self

    def cuda(self: _T, *args: Any, **kwargs: Any) -> _T:
        dtypes.device("cuda")  # raises the clear error
        return self  # pragma: no cover

    def float(self: _T) -> _T:
        return self.to(dtypes.float32)

    def double(self: _T) -> _T:
        return self.to(dtypes.float64)

    def half(self: _T) -> _T:
        return self.to(dtypes.float16)

    def long(self: _T) -> _T:
        return self.to(dtypes.int64)

    def int(self: _T) -> _T:
        return self.to(dtypes.int32)

    def bool(self: _T) -> _T:
        return self.to(dtypes.bool)

    def type(self, dtype: Any = None) -> Any:
        if dtype is None:
            return str(self._data.dtype)
        return self.to(dtype)
