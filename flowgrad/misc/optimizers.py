"""autograd's optimizers: ``sgd``, ``rmsprop`` and ``adam`` on nested parameters.

Each takes ``grad(x, i)`` (the gradient at ``x`` in iteration ``i``, ``x`` in the form of
``x0``), ``x0``, an optional ``callback(x, i, g)`` and autograd's defaults, and returns the
final ``x`` in the form of ``x0``.

>>> import flowgrad as fg, flowgrad.numpy as np
>>> from flowgrad.misc.optimizers import adam
>>> x = adam(lambda x, i: fg.grad(lambda x: np.sum((x - 3.0) ** 2))(x), np.zeros(2), step_size=0.1, num_iters=300)
>>> np.round(x, 3)
array([3., 3.])
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from .flatten import flatten

Grad = Callable[[Any, int], Any]


def _on_flat(step: Callable[..., np.ndarray]) -> Callable[..., Any]:
    """Run ``step`` on a flat vector while the caller sees ``x0``'s nested form."""

    @functools.wraps(step)
    def optimize(grad: Grad, x0: Any, callback: Callable[..., Any] | None = None, *args: Any, **kwargs: Any) -> Any:
        flat0, unflatten = flatten(x0)

        def flat_grad(x: np.ndarray, i: int) -> np.ndarray:
            return np.asarray(flatten(grad(unflatten(x), i))[0], dtype=float)

        flat_callback = None
        if callback is not None:

            def flat_callback(x: np.ndarray, i: int, g: np.ndarray) -> Any:
                return callback(unflatten(x), i, unflatten(g))

        return unflatten(step(flat_grad, np.asarray(flat0, dtype=float), flat_callback, *args, **kwargs))

    return optimize


@_on_flat
def sgd(
    grad: Grad, x: np.ndarray, callback: Any = None, num_iters: int = 200, step_size: float = 0.1, mass: float = 0.9
) -> np.ndarray:
    """Gradient descent with momentum: ``v = mass v - (1 - mass) g``, ``x += step_size v``."""
    velocity = np.zeros(len(x))
    for i in range(num_iters):
        g = grad(x, i)
        if callback:
            callback(x, i, g)
        velocity = mass * velocity - (1.0 - mass) * g
        x = x + step_size * velocity
    return x


@_on_flat
def rmsprop(
    grad: Grad,
    x: np.ndarray,
    callback: Any = None,
    num_iters: int = 100,
    step_size: float = 0.1,
    gamma: float = 0.9,
    eps: float = 1e-8,
) -> np.ndarray:
    """Steps scaled by a running average of squared gradients (started at one)."""
    mean_square = np.ones(len(x))
    for i in range(num_iters):
        g = grad(x, i)
        if callback:
            callback(x, i, g)
        mean_square = mean_square * gamma + g**2 * (1 - gamma)
        x = x - step_size * g / (np.sqrt(mean_square) + eps)
    return x


@_on_flat
def adam(
    grad: Grad,
    x: np.ndarray,
    callback: Any = None,
    num_iters: int = 100,
    step_size: float = 0.001,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
) -> np.ndarray:
    """Adam (Kingma and Ba) with bias-corrected moment estimates."""
    first, second = np.zeros(len(x)), np.zeros(len(x))
    for i in range(num_iters):
        g = grad(x, i)
        if callback:
            callback(x, i, g)
        first = (1 - b1) * g + b1 * first
        second = (1 - b2) * (g**2) + b2 * second
        corrected_first = first / (1 - b1 ** (i + 1))
        corrected_second = second / (1 - b2 ** (i + 1))
        x = x - step_size * corrected_first / (np.sqrt(corrected_second) + eps)
    return x
