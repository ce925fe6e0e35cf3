"""Channel-wise dropout: ``Dropout1d``, ``Dropout2d``, ``Dropout3d`` (PyTorch's semantics).

In training mode each channel of each sample is zeroed whole with probability ``p`` and the
kept ones are scaled by 1/(1-p); in evaluation mode the layer is the identity. Draws follow
``fg.manual_seed``.

>>> import flowgrad as fg
>>> drop = fg.nn.Dropout2d(0.5)
>>> y = drop(fg.ones(4, 8, 3, 3))
>>> bool(((y == 0).all((2, 3)) | (y == 2).all((2, 3))).all())   # whole channels, scaled by 2
True
>>> bool((drop.eval()(fg.ones(4, 8, 3, 3)) == 1).all())
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flowgrad as fg
from flowgrad.errors import ArgumentError, check_number

from . import functional as F
from .module import Module

__all__ = ["Dropout1d", "Dropout2d", "Dropout3d"]


class _ChannelDropout(Module):
    _fn: Callable[..., fg.Tensor]

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        where = type(self).__name__
        if not 0 <= check_number(p, where, "p") <= 1:  # checked here, not first at forward
            raise ArgumentError(f"{where}: p must be in [0, 1], got {p}")
        self.p, self.inplace = float(p), bool(inplace)

    def forward(self, x: Any) -> fg.Tensor:
        return type(self)._fn(x, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(_ChannelDropout):
    """Zero whole channels of (N, C, L) or (C, L) inputs with probability ``p`` (training only).

    >>> import flowgrad as fg
    >>> fg.nn.Dropout1d(0.2)
    Dropout1d(p=0.2, inplace=False)
    """

    _fn = staticmethod(F.dropout1d)


class Dropout2d(_ChannelDropout):
    """Zero whole channels of (N, C, H, W) inputs; a 3-D input is (N, C, L), as PyTorch, with a warning.

    >>> import flowgrad as fg
    >>> fg.nn.Dropout2d()(fg.ones(2, 3, 4, 4)).shape
    (2, 3, 4, 4)
    """

    _fn = staticmethod(F.dropout2d)


class Dropout3d(_ChannelDropout):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs with probability ``p``.

    >>> import flowgrad as fg
    >>> fg.nn.Dropout3d(0.0)(fg.ones(3, 2, 2, 2)).sum().item()
    24.0
    """

    _fn = staticmethod(F.dropout3d)
