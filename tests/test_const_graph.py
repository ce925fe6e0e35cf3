"""flowgrad.misc.const_graph: one trace per argument shape and dtype, replays equal to eager."""

from __future__ import annotations

import numpy as onp

import flowgrad as fg
import flowgrad.numpy as np
from flowgrad.misc import const_graph


def test_replays_gradients_taken_inside_without_running_python_again() -> None:
    calls: list = []

    def f(x: object, y: object) -> object:
        calls.append(1)
        return fg.grad(lambda v: np.sum(np.sin(v) * v))(x * y)

    g = const_graph(f)
    rng = onp.random.default_rng(0)
    for _ in range(4):
        x, y = rng.standard_normal(3), rng.standard_normal(3)
        eager = fg.grad(lambda v: np.sum(np.sin(v) * v))(x * y)
        onp.testing.assert_array_equal(g(x, y), eager)  # the same NumPy calls in the same order
    assert len(calls) == 1


def test_bound_arguments_are_fixed_and_new_shapes_trace_again() -> None:
    calls: list = []

    def f(a: object, x: object, scale: float = 1.0) -> object:
        calls.append(1)
        return np.tanh(a * x) * scale

    g = const_graph(f, 2.0, scale=3.0)
    onp.testing.assert_allclose(g(onp.array([0.1, 0.2])), 3 * onp.tanh(2 * onp.array([0.1, 0.2])), rtol=1e-15)
    onp.testing.assert_allclose(g(onp.array([0.5, -0.2])), 3 * onp.tanh(2 * onp.array([0.5, -0.2])), rtol=1e-15)
    assert len(calls) == 1
    onp.testing.assert_allclose(g(onp.ones((2, 2))), 3 * onp.tanh(2 * onp.ones((2, 2))), rtol=1e-15)
    assert len(calls) == 2
    assert isinstance(g(1.5), onp.floating)  # numbers in, NumPy numbers out (autograd's)
    assert g.__name__ == "f"
