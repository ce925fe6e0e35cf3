"""PyTorch's legacy names, still in programs written before PyTorch 0.4: the typed constructors
(``FloatTensor``, ``LongTensor``, ...) and ``autograd.Variable``.

``fg.FloatTensor(2, 3)`` is an uninitialised float32 tensor of that shape and
``fg.FloatTensor([1, 2])`` one made from data, as ``fg.Tensor`` with that dtype; a tensor of
another dtype is refused, as PyTorch refuses it. ``isinstance(t, fg.FloatTensor)`` asks whether
``t`` is a float32 tensor.

>>> import flowgrad as fg
>>> t = fg.LongTensor([1, 2])
>>> t.dtype, isinstance(t, fg.LongTensor), isinstance(t, fg.FloatTensor)
(dtype('int64'), True, False)
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..errors import DTypeError
from .tensor import Tensor

__all__ = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor", "ByteTensor",
           "CharTensor", "BoolTensor", "Variable"]  # fmt: skip


class _TypedTensorType(type):
    """The type of ``FloatTensor`` and its kin: calling it makes a tensor of its dtype, and
    ``isinstance`` checks a tensor's dtype."""

    dtype: np.dtype

    def __call__(cls, *args: Any, device: Any = None, requires_grad: bool = False) -> Tensor:
        if len(args) == 1 and isinstance(args[0], Tensor) and args[0]._data.dtype != cls.dtype:
            raise DTypeError(f"{cls.__name__}: expected a tensor of dtype {cls.dtype}, got {args[0]._data.dtype}")
        return Tensor(*args, dtype=cls.dtype, device=device, requires_grad=requires_grad)

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj._data.dtype == cls.dtype


def _typed(name: str, dtype: Any) -> Any:
    doc = f"PyTorch's legacy ``{name}``: a {np.dtype(dtype)} tensor from sizes or data (see flowgrad.core.legacy)."
    return _TypedTensorType(name, (), {"dtype": np.dtype(dtype), "__doc__": doc})


FloatTensor = _typed("FloatTensor", np.float32)
DoubleTensor = _typed("DoubleTensor", np.float64)
HalfTensor = _typed("HalfTensor", np.float16)
LongTensor = _typed("LongTensor", np.int64)
IntTensor = _typed("IntTensor", np.int32)
ShortTensor = _typed("ShortTensor", np.int16)
ByteTensor = _typed("ByteTensor", np.uint8)
CharTensor = _typed("CharTensor", np.int8)
BoolTensor = _typed("BoolTensor", np.bool_)


class _VariableType(type):
    def __call__(cls, data: Any, requires_grad: bool = False, volatile: bool = False) -> Tensor:
        if volatile:
            warnings.warn(
                "volatile was removed and now has no effect. Use `with flowgrad.no_grad():` instead.",
                UserWarning,
                stacklevel=2,
            )
        tensor = data if isinstance(data, Tensor) else Tensor(data)
        # PyTorch's Variable(t) is a new leaf sharing t's data, cut from t's graph
        alias = tensor.detach()
        return alias.requires_grad_(True) if requires_grad else alias

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor)


class Variable(metaclass=_VariableType):
    """``torch.autograd.Variable`` (deprecated since PyTorch 0.4, still in old programs):
    ``Variable(t, requires_grad=True)`` is a new leaf sharing ``t``'s data, and every tensor is
    a Variable. ``volatile`` has no effect and warns, as in PyTorch (use ``fg.no_grad()``).

    >>> import flowgrad as fg
    >>> x = fg.autograd.Variable(fg.ones(2), requires_grad=True)
    >>> x.requires_grad, isinstance(fg.ones(1), fg.autograd.Variable)
    (True, True)
    """
