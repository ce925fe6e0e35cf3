"""The tutorials' toy data sets and small generators (all seeded, all NumPy arrays).

>>> from flowgrad import datasets
>>> X, y = datasets.and_gate()
>>> X.tolist(), y.tolist()
([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0], [1.0, 1.0]], [-1.0, -1.0, -1.0, 1.0])
>>> x, y = datasets.make_linear(5, seed=0)
>>> x.shape, y.shape, x.dtype
((5, 1), (5, 1), dtype('float32'))
"""

from __future__ import annotations

import numpy as np

__all__ = ["and_gate", "gender", "make_linear", "make_moons", "make_blobs"]


def and_gate() -> tuple[np.ndarray, np.ndarray]:
    """Seed 001's AND gate: inputs (x1, x2) and targets -1 (false) / 1 (true)."""
    data = np.array([[1, 0, -1], [0, 1, -1], [0, 0, -1], [1, 1, 1]], dtype=np.float64)
    return data[:, :2].copy(), data[:, 2].copy()


def gender() -> tuple[np.ndarray, np.ndarray]:
    """Seed 004's four people: (weight - 135 lb, height - 66 in) and 1 for female, 0 for male
    (Alice, Bob, Charlie, Diana)."""
    X = np.array([[-2, -1], [25, 6], [17, 4], [-15, -6]], dtype=np.float64)  # noqa: N806
    return X, np.array([1, 0, 0, 1], dtype=np.float64)


def make_linear(
    n: int = 100, w: float = 3.0, b: float = 1.0, noise: float = 0.1, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Seed 003's data: ``y = w x + b + noise * N(0, 1)`` with x standard normal, as float32
    columns of shape (n, 1)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 1))
    y = w * x + b + noise * rng.standard_normal((n, 1))
    return x.astype(np.float32), y.astype(np.float32)


def make_moons(n: int = 200, noise: float = 0.1, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (labels 0 and 1), as scikit-learn's ``make_moons``."""
    rng = np.random.default_rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    X = np.vstack([np.c_[np.cos(t_out), np.sin(t_out)], np.c_[1 - np.cos(t_in), 0.5 - np.sin(t_in)]])  # noqa: N806
    y = np.r_[np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)]
    X += noise * rng.standard_normal(X.shape)  # noqa: N806
    order = rng.permutation(n)
    return X[order].astype(np.float32), y[order]


def make_blobs(
    n: int = 300,
    centers: int | np.ndarray = 3,
    n_features: int = 2,
    std: float = 1.0,
    box: tuple = (-10.0, 10.0),
    seed: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian clusters around ``centers`` (a count, drawn in ``box``, or an array of points)."""
    rng = np.random.default_rng(seed)
    if isinstance(centers, (int, np.integer)):
        centers = rng.uniform(box[0], box[1], (int(centers), n_features))
    centers = np.asarray(centers, dtype=np.float64)
    y = np.arange(n) % len(centers)
    rng.shuffle(y)
    X = centers[y] + std * rng.standard_normal((n, centers.shape[1]))  # noqa: N806
    return X.astype(np.float32), y.astype(np.int64)
