"""``scipy.integrate.odeint``, differentiable in the initial state, the times and the arguments
of the dynamics, by the adjoint method (Pontryagin; Chen et al., "Neural ordinary differential
equations", 2018): one extra ODE solved backwards in time, memory independent of the number of
solver steps.

>>> import flowgrad as fg, flowgrad.numpy as np
>>> from flowgrad.scipy.integrate import odeint
>>> decay = lambda y, t, k: -k * y
>>> end = lambda k: odeint(decay, np.array([1.0]), np.array([0.0, 2.0]), (k,), rtol=1e-10, atol=1e-12)[-1, 0]
>>> round(float(fg.grad(end)(0.5)), 6)  # d/dk exp(-2k) = -2 exp(-1)
-0.735759
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as onp
import scipy.integrate as _si

from ..core.transforms import make_vjp
from ..errors import NoDerivativeError
from ..extend import defvjp_argnums, primitive
from ..misc.flatten import flatten

__all__ = ["odeint"]


def _plain(value: Any) -> onp.ndarray:
    return onp.asarray(getattr(value, "_data", value), dtype=onp.float64)


@primitive
def _odeint(y0: Any, t: Any, flat_args: Any, func: Callable[..., Any], unflatten: Any, options: dict) -> Any:
    def rhs(y: onp.ndarray, time: float) -> onp.ndarray:
        return _plain(func(y, time, *unflatten(flat_args)))

    return _si.odeint(rhs, y0, t, **options)


def _refuse_traced(*values: Any) -> None:
    if any(getattr(v, "requires_grad", False) for v in values):
        raise NoDerivativeError(
            "odeint: second derivatives are not available (the adjoint ODE is solved on plain "
            "arrays); differentiate odeint once"
        )


def _odeint_vjp(argnums: tuple, yt: Any, args: tuple, kwargs: dict) -> Callable[[Any], tuple]:
    _refuse_traced(yt, *args)
    y0, t, flat_args = (_plain(a) for a in args)
    func, unflatten, options = kwargs["func"], kwargs["unflatten"], kwargs["options"]
    d, p = y0.size, flat_args.size

    def f(y: Any, time: float, fa: Any) -> Any:
        return func(y, time, *unflatten(fa))

    def augmented(state: onp.ndarray, time: float) -> onp.ndarray:
        # state = (y, a, a_args): dy/dt = f, da/dt = -a' df/dy, da_args/dt = -a' df/dargs
        y, a = state[:d], state[d : 2 * d]
        vjp_fn, dy = make_vjp(lambda pair: f(pair[0], time, pair[1]))((y, flat_args))
        gy, gargs = vjp_fn(-a)
        return onp.concatenate([_plain(dy).ravel(), _plain(gy).ravel(), _plain(gargs).ravel()])

    def vjp(g: Any) -> tuple:
        _refuse_traced(g)
        g = _plain(g)
        n = len(t)
        grad_t = onp.zeros(n)
        a, a_args = g[-1].copy(), onp.zeros(p)
        for i in range(n - 1, 0, -1):
            # Moving an observation time only moves where y is read: dL/dt_i = g_i . f(y_i, t_i)
            grad_t[i] = g[i] @ _plain(f(yt[i], t[i], flat_args))
            state = onp.concatenate([yt[i], a, a_args])
            state = _si.odeint(augmented, state, onp.array([t[i], t[i - 1]]), **options)[-1]
            a, a_args = state[d : 2 * d], state[2 * d :]
            if i == 1:
                # Moving t_0 moves the trajectory's start (y(t_0) = y0 itself does not move), so
                # only what comes after it counts: dL/dt_0 = -a(t_0) . f(y0, t_0), before g_0
                grad_t[0] = -(a @ _plain(f(y0, t[0], flat_args)))
            a = a + g[i - 1]
        grads = {0: a, 1: grad_t, 2: a_args}
        return tuple(grads[k] for k in argnums)

    return vjp


defvjp_argnums(_odeint, _odeint_vjp)


def odeint(func: Callable[..., Any], y0: Any, t: Any, args: tuple = (), **options: Any) -> Any:
    """SciPy's ``odeint(func, y0, t, args)``: the solution of ``dy/dt = func(y, t, *args)`` at the
    times ``t`` (one row per time), differentiable in ``y0``, ``t`` and ``args`` (arrays and
    nests of them). ``options`` (``rtol``, ``atol``, ``mxstep``, ...) go to SciPy for both the
    forward solve and the backward one. ``func`` is called on plain arrays during the solves.
    """
    flat_args, unflatten = flatten(tuple(args))
    return _odeint(y0, t, flat_args, func=func, unflatten=unflatten, options=options)
