"""odeint's backward pass solves one augmented adjoint ODE for all its arguments at once, and
primitives with ``defvjp_argnums`` get one rule call for every argument that needs a gradient."""

from __future__ import annotations

import numpy as onp
import pytest

import flowgrad as fg
import flowgrad.numpy as np
from flowgrad.extend import defvjp_argnums, primitive

pytest.importorskip("scipy")

import scipy.integrate as si  # noqa: E402

import flowgrad.scipy.integrate as fi  # noqa: E402


def _counting_solves(monkeypatch: pytest.MonkeyPatch) -> list:
    calls: list = []
    real = si.odeint

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(fi._si, "odeint", counted)
    return calls


def test_odeint_backward_solves_once_per_interval_for_every_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _counting_solves(monkeypatch)

    def end(y0: object, t: object, k: object, c: object) -> object:
        ys = fi.odeint(lambda y, t, k, c: -k * y + c, y0, t, (k, c), rtol=1e-10, atol=1e-12)
        return np.sum(ys[-1])

    t = onp.array([0.0, 0.5, 1.0])
    grads = fg.grad(end, (0, 1, 2, 3))(onp.array([1.0, 2.0]), t, 0.7, 0.3)
    # one forward solve and one backward solve per interval (2), whatever the number of arguments
    assert len(calls) == 1 + 2
    # closed forms: y(1) = c/k + (y0 - c/k) e^{-k}
    k, c, y0 = 0.7, 0.3, onp.array([1.0, 2.0])
    e = onp.exp(-k)
    onp.testing.assert_allclose(grads[0], [e, e], rtol=1e-7)
    dk = onp.sum(-c / k**2 + c / k**2 * e - (y0 - c / k) * e)
    onp.testing.assert_allclose(grads[2], dk, rtol=1e-6)
    onp.testing.assert_allclose(grads[3], 2 * (1 - e) / k, rtol=1e-6)
    y_end = c / k + (y0 - c / k) * e
    onp.testing.assert_allclose(grads[1][-1], onp.sum(-k * y_end + c), rtol=1e-6)


def test_defvjp_argnums_rule_runs_once_for_all_arguments() -> None:
    seen: list = []

    @primitive
    def f(x: object, y: object, z: object) -> object:
        return x * y + z

    def maker(argnums: tuple, ans: object, args: tuple, kwargs: dict) -> object:
        seen.append(argnums)
        x, y, _ = args
        table = {0: lambda g: g * y, 1: lambda g: g * x, 2: lambda g: g}
        return lambda g: tuple(table[n](g) for n in argnums)

    defvjp_argnums(f, maker)
    g = fg.grad(lambda a, b, c: np.sum(f(a, b, c)), (0, 2))(onp.array([1.0, 2.0]), onp.array([3.0, 4.0]), onp.ones(2))
    assert seen == [(0, 2)]
    onp.testing.assert_array_equal(g[0], [3.0, 4.0])
    onp.testing.assert_array_equal(g[1], [1.0, 1.0])
