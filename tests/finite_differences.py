"""Central differences, the referee of the gradient tests."""

import numpy as onp


def central(f, x, eps=1e-6):
    """d f(x) / d x by central differences, one element at a time (x made a float64 array)."""
    x = onp.array(x, dtype=onp.float64)
    g = onp.zeros_like(x)
    for i in onp.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        g[i] = (f(xp) - f(xm)) / (2 * eps)
    return g
