"""``scipy.integrate.odeint``, differentiable in the initial state, the times and the arguments
of the dynamics, by the adjoint method (Pontryagin; Chen et al., "Neural ordinary differential
equations", 2018): one extra ODE solved backwards in time, memory independent of the number of
solver steps. The adjoint ODE is solved by odeint itself, with dynamics written in flowgrad ops,
so second and higher derivatives follow (the adjoint of the adjoint).

>>> import flowgrad as fg, flowgrad.numpy as np
>>> from flowgrad.scipy.integrate import odeint
>>> decay = lambda y, t, k: -k * y
>>> end = lambda k: odeint(decay, np.array([1.0]), np.array([0.0, 2.0]), (k,), rtol=1e-10, atol=1e-12)[-1, 0]
>>> round(float(fg.grad(end)(0.5)), 6)  # d/dk exp(-2k) = -2 exp(-1)
-0.735759
>>> round(float(fg.grad(fg.grad(end))(0.5)), 6)  # 4 exp(-1)
1.471518
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as onp
import scipy.integrate as _si

from .. import numpy as np
from ..core.tensor import Tensor
from ..core.transforms import make_vjp
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


def _odeint_vjp(argnums: tuple, yt: Any, args: tuple, kwargs: dict) -> Callable[[Any], tuple]:
    # Written with flowgrad ops throughout, and the adjoint ODE solved by this same primitive: on
    # plain arrays (a first derivative) it is the adjoint method; when the gradient is itself
    # differentiated (create_graph), the backward solve is differentiated by its own adjoint, as
    # HIPS autograd does, so second and higher derivatives come from the same rule.
    y0, t, flat_args = args
    func, unflatten, options = kwargs["func"], kwargs["unflatten"], kwargs["options"]
    d = onp.size(_data(y0))

    def f(y: Any, time: Any, fa: Any) -> Any:
        return func(y, time, *unflatten(fa))

    def augmented(state: Any, time: Any, fa: Any) -> Any:
        # state = (y, a, a_args): dy/dt = f, da/dt = -a' df/dy, da_args/dt = -a' df/dargs
        y, a = state[:d], state[d : 2 * d]
        vjp_fn, dy = make_vjp(lambda pair: f(pair[0], time, pair[1]))((y, fa))
        gy, gargs = vjp_fn(-a)
        return _joined(dy, gy, gargs)

    def vjp(g: Any) -> tuple:
        n = len(_data(t))
        grad_t: list[Any] = [None] * n
        a, a_args = g[-1], np.zeros_like(flat_args)
        for i in range(n - 1, 0, -1):
            # Moving an observation time only moves where y is read: dL/dt_i = g_i . f(y_i, t_i)
            grad_t[i] = np.sum(g[i] * f(yt[i], t[i], flat_args))
            state = np.concatenate([yt[i], a, a_args])
            times = np.stack([t[i], t[i - 1]])
            state = _odeint(state, times, flat_args, func=augmented, unflatten=_alone, options=options)[-1]
            a, a_args = state[d : 2 * d], state[2 * d :]
            if i == 1:
                # Moving t_0 moves the trajectory's start (y(t_0) = y0 itself does not move), so
                # only what comes after it counts: dL/dt_0 = -a(t_0) . f(y0, t_0), before g_0
                grad_t[0] = -np.sum(a * f(y0, t[0], flat_args))
            a = a + g[i - 1]
        if n == 1:  # no interval: y(t_0) is y0
            grad_t[0] = np.zeros(())
        grads = {0: np.reshape(a, np.shape(y0)), 1: np.stack(grad_t), 2: a_args}
        return tuple(grads[k] for k in argnums)

    return vjp


def _data(value: Any) -> Any:
    return getattr(value, "_data", value)


def _joined(*parts: Any) -> Any:
    """The parts flattened and joined: NumPy's own functions on the plain arrays of a solve (this
    runs at every solver step), flowgrad's on tensors."""
    if any(isinstance(p, Tensor) for p in parts):
        return np.concatenate([np.ravel(p) for p in parts])
    return onp.concatenate([onp.ravel(p) for p in parts])


def _alone(fa: Any) -> tuple:
    """The unflatten of the augmented dynamics: its flat arguments are one argument."""
    return (fa,)


defvjp_argnums(_odeint, _odeint_vjp)


def odeint(func: Callable[..., Any], y0: Any, t: Any, args: tuple = (), **options: Any) -> Any:
    """SciPy's ``odeint(func, y0, t, args)``: the solution of ``dy/dt = func(y, t, *args)`` at the
    times ``t`` (one row per time), differentiable in ``y0``, ``t`` and ``args`` (arrays and
    nests of them). ``options`` (``rtol``, ``atol``, ``mxstep``, ...) go to SciPy for both the
    forward solve and the backward one. ``func`` is called on plain arrays during the solves,
    and on tensors when a gradient is itself differentiated: write it with ``flowgrad.numpy``.
    """
    flat_args, unflatten = flatten(tuple(args))
    return _odeint(y0, t, flat_args, func=func, unflatten=unflatten, options=options)
