"""``Parameter``: a tensor that a ``Module`` registers as learnable."""

from __future__ import annotations

from typing import Any

import numpy as np

import flowgrad as fg


class Parameter(fg.Tensor):
    """A tensor that requires grad and is found by ``Module.parameters()``.

    Made from a tensor it shares that tensor's data, as in PyTorch.

    >>> import flowgrad as fg
    >>> p = fg.nn.Parameter(fg.zeros(2))
    >>> p.requires_grad, p.is_leaf
    (True, True)
    """

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            arr = np.empty(0, dtype=fg.get_default_dtype())
        elif isinstance(data, fg.Tensor):
            arr = data._data
        else:
            arr = fg.tensor(data)._data
        # Not Tensor.__init__ (PyTorch's legacy constructor, which copies): a parameter shares.
        self._data = arr
        self.grad = None
        self.requires_grad = False
        self._node = None
        self.requires_grad_(requires_grad)  # refuses integer data with a clear error

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
