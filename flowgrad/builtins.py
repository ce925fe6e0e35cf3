"""autograd's container and type helpers (``from flowgrad import tuple, list, dict, isinstance``).

autograd boxes traced values, so it needs its own ``tuple``/``list``/``dict`` to trace through
containers and its own ``isinstance``/``type`` to look inside a box. In flowgrad a container of
traced arrays is an ordinary Python container, so the three containers are Python's own; a
traced array is a :class:`~flowgrad.Tensor`, and ``isinstance``/``type`` answer for the NumPy
value it holds, as autograd's do for a box.

>>> import flowgrad as fg, numpy as onp
>>> fg.grad(lambda x: fg.isinstance(x, onp.ndarray) * x.sum())(onp.ones(2))
array([1., 1.])
"""

from __future__ import annotations

import builtins as _py
from typing import Any

from .core.tensor import Tensor

__all__ = ["tuple", "list", "dict", "isinstance", "type"]

tuple = _py.tuple  # noqa: A001
list = _py.list  # noqa: A001
dict = _py.dict  # noqa: A001


def isinstance(obj: Any, classinfo: Any) -> bool:  # noqa: A001
    """``isinstance`` that sees a tensor as the NumPy array it holds (autograd's unboxing
    ``isinstance``), and as a Tensor too.

    >>> import flowgrad as fg, numpy as onp
    >>> fg.isinstance(fg.tensor([1.0]), onp.ndarray), fg.isinstance(fg.tensor([1.0]), fg.Tensor)
    (True, True)
    """
    if _py.isinstance(obj, classinfo):
        return True
    return _py.isinstance(obj, Tensor) and _py.isinstance(obj._data, classinfo)


def type(obj: Any) -> Any:  # noqa: A001
    """The type of ``obj``, or of the NumPy array a tensor holds (autograd's ``type``).

    >>> import flowgrad as fg
    >>> fg.type(fg.tensor([1.0])).__name__
    'ndarray'
    """
    return _py.type(obj._data) if _py.isinstance(obj, Tensor) else _py.type(obj)
