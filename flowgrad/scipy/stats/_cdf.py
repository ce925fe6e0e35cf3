"""Cumulative distribution functions as primitives differentiable in x (their derivative is the
density), as HIPS autograd gives them. A derivative in a shape parameter (a, b, df) is an
integral with no closed form here: asking for one raises ``NoDerivativeError``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as onp

from ... import numpy as np
from ...extend import defvjp, primitive


def unbroadcast(g: Any, shape: tuple) -> Any:
    """``g`` summed down to ``shape`` (what broadcasting an argument of that shape spread out)."""
    lead = onp.ndim(getattr(g, "_data", g)) - len(shape)
    if lead > 0:
        g = np.sum(g, axis=tuple(range(lead)))
    ones = tuple(i for i, n in enumerate(shape) if n == 1 and onp.shape(getattr(g, "_data", g))[i] != 1)
    return np.sum(g, axis=ones, keepdims=True) if ones else g


def cdf_in_x(scipy_cdf: Callable[..., Any], density: Callable[..., Any], name: str) -> Any:
    """``scipy_cdf(x, *shape)`` as a primitive whose derivative in x is ``density(x, *shape)``."""

    def forward(x: Any, *shape: Any) -> Any:
        return scipy_cdf(x, *shape)

    forward.__name__ = name
    prim = primitive(forward)
    defvjp(prim, lambda ans, x, *shape: lambda g: unbroadcast(g * density(x, *shape), onp.shape(x)))
    return prim
