"""``fixed_point(f, a, x0, distance, tol)``: iterate ``x = f(a)(x)`` until ``distance(x, x_prev)
<= tol``, differentiable in ``a`` by the implicit function theorem: the gradient solves
``w = g + (df/dx)' w`` by the same iteration, then ``a``'s gradient is ``(df/da)' w``. That
iteration is a fixed point too, so derivatives of every order come from the same rule.

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
from .flatten import flatten


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
    def vjp(g: Any) -> Any:
        # w = g + (df/dx)' w is itself a fixed point, in the parameters (a, x*, g): solving it with
        # fixed_point makes the gradient differentiable again (second and higher derivatives).
        params, unflatten = flatten((a, ans, g))

        def reverse_step(p: Any) -> Callable[[Any], Any]:
            a_, x_star, g_ = unflatten(p)
            vjp_x, _ = make_vjp(f(a_))(x_star)
            return lambda w: vjp_x(w) + g_

        w = fixed_point(reverse_step, params, np.zeros(np.shape(ans)), distance, tol)
        vjp_a, _ = make_vjp(lambda a_: f(a_)(ans))(a)
        return vjp_a(w)

    return vjp


defvjp(fixed_point, None, _fixed_point_vjp, None, None, None)
