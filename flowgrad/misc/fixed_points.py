"""``fixed_point(f, a, x0, distance, tol)``: iterate ``x = f(a)(x)`` until ``distance(x, x_prev)
<= tol``, differentiable in ``a`` by the implicit function theorem: the gradient solves
``w = g + (df/dx)' w`` by the same iteration, then ``a``'s gradient is ``(df/da)' w``.

>>> import flowgrad as fg, flowgrad.numpy as np
>>> from flowgrad.misc.fixed_points import fixed_point
>>> sqrt = lambda a: fixed_point(lambda a: lambda x: 0.5 * (x + a / x), a, 1.0, lambda x, y: abs(x - y), 1e-12)
>>> round(float(sqrt(2.0)), 12), round(float(fg.grad(sqrt)(2.0)), 9)
(1.414213562373, 0.353553391)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..core.transforms import make_vjp
from ..extend import defvjp, primitive


def _iterate(step: Callable[[Any], Any], x0: Any, distance: Callable[[Any, Any], Any], tol: float) -> Any:
    x, previous = step(x0), x0
    while distance(x, previous) > tol:
        x, previous = step(x), x
    return x


@primitive
def fixed_point(
    f: Callable[[Any], Callable[[Any], Any]], a: Any, x0: Any, distance: Callable[[Any, Any], Any], tol: float
) -> Any:
    """The fixed point of ``f(a)`` reached from ``x0``."""
    return _iterate(f(a), x0, distance, tol)


def _fixed_point_vjp(ans: Any, f: Any, a: Any, x0: Any, distance: Any, tol: float) -> Callable[[Any], Any]:
    vjp_x, _ = make_vjp(f(a))(ans)
    vjp_a, _ = make_vjp(lambda a_: f(a_)(ans))(a)

    def vjp(g: Any) -> Any:
        w = _iterate(lambda w: np.asarray(g) + vjp_x(w), np.zeros(np.shape(ans)), distance, tol)
        return vjp_a(w)

    return vjp


defvjp(fixed_point, None, _fixed_point_vjp, None, None, None)
