"""dtypes, the default floating dtype, and the device idiom.

flowgrad's dtypes are NumPy's: ``fg.float32 is np.dtype('float32')``, so a
tensor's ``.dtype`` compares equal to NumPy's and PyTorch spellings work too.

>>> import flowgrad as fg
>>> fg.float is fg.float32, fg.double is fg.float64
(True, True)
>>> fg.get_default_dtype()
dtype('float32')
>>> fg.tensor([1.0, 2.0]).dtype, fg.tensor([1, 2]).dtype
(dtype('float32'), dtype('int64'))
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from .errors import ArgumentError, DTypeError

float16 = half = np.dtype(np.float16)
float32 = float = np.dtype(np.float32)  # noqa: A001 - PyTorch's spelling, on purpose
float64 = double = np.dtype(np.float64)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
int16 = short = np.dtype(np.int16)
int32 = int = np.dtype(np.int32)  # noqa: A001
int64 = long = np.dtype(np.int64)
bool = np.dtype(np.bool_)  # noqa: A001

_default_float = float32


def get_default_dtype() -> np.dtype:
    """Return the dtype used for Python floats, lists of them and factories.

    >>> import flowgrad as fg
    >>> fg.get_default_dtype()
    dtype('float32')
    """
    return _default_float


def set_default_dtype(dtype: Any) -> None:
    """Set the default floating dtype (``fg.float32`` or ``fg.float64``).

    >>> import flowgrad as fg
    >>> fg.set_default_dtype(fg.float64); fg.zeros(2).dtype
    dtype('float64')
    >>> fg.set_default_dtype(fg.float32)
    """
    global _default_float
    d = as_dtype(dtype)
    if d.kind != "f":
        raise DTypeError(f"set_default_dtype: expected a floating dtype, got {d}")
    _default_float = d


def as_dtype(dtype: Any) -> np.dtype:
    """Turn any dtype spelling (``fg.float32``, ``'float32'``, ``np.float32``) into a dtype."""
    try:
        return np.dtype(dtype)
    except TypeError:
        raise DTypeError(f"expected a dtype such as fg.float32, got {dtype!r}") from None


def cast(arr: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``arr`` as ``dtype``, rounded as PyTorch rounds (a new array unless the dtype matches).

    PyTorch converts to float16 through float32 (``c10::Half`` is made from a float), so a
    float64 or int64 value half-way between two halves after that first rounding lands where
    PyTorch's does; NumPy would round once, directly. Every other conversion is NumPy's cast,
    which for these dtypes is C's and so PyTorch's (truncation towards zero for float to int).

    >>> import numpy as np
    >>> cast(np.array(0.1), float16).item()
    0.0999755859375
    """
    if arr.dtype == dtype:
        return arr
    with np.errstate(over="ignore"):  # beyond a float dtype's range is inf, as in PyTorch
        if dtype == float16 and arr.dtype != float32:
            return arr.astype(float32).astype(float16)
        return arr.astype(dtype)


def is_floating(dtype: np.dtype) -> builtins.bool:
    return dtype.kind in "fc"


class device:  # noqa: N801 - PyTorch's spelling
    """A device, as in PyTorch. flowgrad computes with NumPy on the CPU.

    >>> import flowgrad as fg
    >>> fg.device("cpu")
    device(type='cpu')
    >>> fg.tensor([1.0]).device == fg.device("cpu")
    True
    """

    __slots__ = ("type", "index")
    type: str
    index: builtins.int | None

    def __init__(self, type: "str | device" = "cpu", index: "builtins.int | None" = None):  # noqa: A002
        if isinstance(type, device):
            index = type.index
            type = type.type
        if not isinstance(type, str):
            raise DTypeError(f"device: expected a string such as 'cpu', got {type!r}")
        name, _, rest = type.partition(":")
        if rest:
            if not rest.isdigit():  # int() would raise a bare ValueError
                raise ArgumentError(f"device: expected an index after ':' such as 'cpu:0', got {type!r}")
            index = builtins.int(rest)
        if name != "cpu":
            raise ArgumentError(  # a FlowgradError and a ValueError, as every wrong argument
                f"device {type!r} is not available: flowgrad computes with NumPy on the "
                "CPU only; use device='cpu' (or leave device out)"
            )
        self.type = name
        self.index = index

    def __eq__(self, other: object) -> builtins.bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and other.type == self.type

    def __hash__(self) -> builtins.int:
        return hash(self.type)

    def __repr__(self) -> str:
        return f"device(type={self.type!r})"

    def __str__(self) -> str:
        return self.type


CPU = device("cpu")


def check_device(dev: Any) -> None:
    """Raise a clear error for any device other than the CPU."""
    if dev is not None and not isinstance(dev, device):
        device(dev)
