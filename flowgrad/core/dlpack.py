"""DLPack: handing a tensor's memory to PyTorch, JAX or NumPy and taking theirs, without a copy.

``torch.from_dlpack(t)`` and ``np.from_dlpack(t)`` read a flowgrad tensor's array in place, and
``fg.from_dlpack(x)`` wraps theirs; writes on one side are seen on the other. Gradients do not
cross: as PyTorch does, a tensor that requires grad is refused (``t.detach()`` first), and the
tensor made from another library's array is a plain leaf.

>>> import numpy as np, flowgrad as fg
>>> a = np.arange(3.0)
>>> t = fg.from_dlpack(a)
>>> a[0] = 7.0
>>> t
tensor([7., 1., 2.], dtype=fg.float64)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DTypeError, FlowgradError, given
from .tensor import Tensor

__all__ = ["from_dlpack"]


def tensor_dlpack(self: Tensor, **kwargs: Any) -> Any:
    """``Tensor.__dlpack__``: NumPy's capsule of this tensor's array (stream and version
    arguments passed on as the consumer gives them)."""
    if self.requires_grad:
        raise FlowgradError(
            "__dlpack__: a tensor that requires grad cannot be shared, as its gradient would not follow; "
            "share tensor.detach() instead"
        )
    try:
        return self._data.__dlpack__(**{k: v for k, v in kwargs.items() if v is not None})
    except (BufferError, TypeError) as e:
        raise DTypeError(f"__dlpack__: this {self.dtype}{list(self.shape)} tensor cannot be shared: {e}") from e


def tensor_dlpack_device(self: Tensor) -> tuple:
    """``Tensor.__dlpack_device__``: the CPU (DLPack's device 1, number 0)."""
    return self._data.__dlpack_device__()


def from_dlpack(obj: Any) -> Tensor:
    """A tensor sharing memory with ``obj`` (a PyTorch or JAX array, an ndarray, anything with
    ``__dlpack__``) on the CPU; it does not require grad.

    >>> import numpy as np, flowgrad as fg
    >>> fg.from_dlpack(fg.tensor([1, 2])).tolist()
    [1, 2]
    """
    if not hasattr(obj, "__dlpack__"):
        raise DTypeError(f"from_dlpack: expected an object with __dlpack__ (a tensor or array), got {given(obj)}")
    try:
        arr = np.from_dlpack(obj)
    except (BufferError, TypeError, RuntimeError) as e:  # a dtype NumPy has no match for, another device, ...
        raise DTypeError(f"from_dlpack: cannot share {type(obj).__name__}'s memory: {e}") from e
    return Tensor._wrap(arr)
