"""The op table, part 3: ``flowgrad.numpy.linalg`` (det, slogdet, inv, solve, pinv, cholesky,
eigh, eig with real eigenvalues, svd,
    qr). Samplers keep each input where its function is smooth: well-conditioned
matrices, symmetric positive definite ones for cholesky, well-separated eigenvalues and singular
values (a repeated one has no derivative for the vectors), full rank for pinv and qr."""

from __future__ import annotations

import numpy as np

import flowgrad.numpy as fnp

from .opcases import OpCase, Shape, T

SQUARE = [(1, 1), (2, 2), (3, 3), (4, 4), (2, 2, 2), (3, 2, 2), (1, 3, 3), (2, 1, 2, 2), (5, 5), (2, 4, 4)]
TALL = [(1, 1), (2, 2), (3, 2), (4, 2), (4, 3), (2, 3, 2), (3, 3, 1), (2, 1, 3, 3), (5, 3), (2, 4, 2)]
ANY = TALL[:6] + [(2, 3), (2, 4), (1, 3), (2, 2, 3)]


def one(shapes: list) -> list[tuple[Shape, ...]]:
    return [(s,) for s in shapes]


def _conditioned(rng: np.random.Generator, s: Shape) -> np.ndarray:
    """A square matrix (stack) with singular values in [0.5, 2.5] and random signs of det."""
    n = s[-1]
    q1 = np.linalg.qr(rng.standard_normal(s))[0]
    q2 = np.linalg.qr(rng.standard_normal(s))[0]
    sv = 0.5 + 2.0 * np.sort(rng.uniform(0, 1, s[:-1]))[..., ::-1] if n else np.zeros(s[:-1])
    return (q1 * sv[..., None, :]) @ q2


def _separated(rng: np.random.Generator, s: Shape) -> np.ndarray:
    """A matrix (stack) whose singular values are at least 0.4 apart and at least 0.5."""
    m, n = s[-2], s[-1]
    k = min(m, n)
    u = np.linalg.qr(rng.standard_normal(s[:-2] + (m, k)))[0]
    v = np.linalg.qr(rng.standard_normal(s[:-2] + (n, k)))[0]
    sv = 0.5 + 0.6 * np.arange(k)[::-1] + rng.uniform(0, 0.2, s[:-2] + (k,))
    return (u * sv[..., None, :]) @ np.swapaxes(v, -1, -2)


def _symmetric(rng: np.random.Generator, s: Shape) -> np.ndarray:
    """A symmetric matrix (stack) with eigenvalues at least 0.4 apart, of both signs."""
    n = s[-1]
    q = np.linalg.qr(rng.standard_normal(s))[0]
    w = 0.6 * (np.arange(n) - n / 2) + rng.uniform(0, 0.2, s[:-1])
    return (q * w[..., None, :]) @ np.swapaxes(q, -1, -2)


def _real_spectrum(rng: np.random.Generator, s: Shape) -> np.ndarray:
    """A non-symmetric matrix (stack) S W S^-1 with real eigenvalues W at least 0.4 apart."""
    n = s[-1]
    basis = np.eye(n) + 0.3 * rng.standard_normal(s)
    w = 0.6 * (np.arange(n) - n / 2) + rng.uniform(0, 0.2, s[:-1])
    return (basis * w[..., None, :]) @ np.linalg.inv(basis)


def _spd(rng: np.random.Generator, s: Shape) -> np.ndarray:
    x = rng.standard_normal(s)
    return x @ np.swapaxes(x, -1, -2) + s[-1] * np.eye(s[-1])


def _solve_pair(rng: np.random.Generator, shapes: tuple) -> list[np.ndarray]:
    return [_conditioned(rng, shapes[0]), rng.standard_normal(shapes[1])]


def each(dist):  # noqa: ANN001, ANN201 - a sampler of single-input cases
    return lambda rng, shapes: [dist(rng, s) for s in shapes]


SOLVE_SHAPES = [
    ((2, 2), (2,)),
    ((3, 3), (3,)),
    ((2, 2), (2, 1)),
    ((3, 3), (3, 2)),
    ((2, 3, 3), (2, 3, 1)),
    ((2, 3, 3), (3,)),
    ((1, 1), (1,)),
    ((4, 4), (4, 3)),
    ((2, 2, 2), (2, 2, 2)),
    ((3, 2, 2), (2,)),
]


def _eigh_values(a):  # noqa: ANN001, ANN201
    return fnp.linalg.eigh(a)[0]


def _eigh_vectors(a):  # noqa: ANN001, ANN201
    return fnp.linalg.eigh(a)[1]


def lower(a):  # noqa: ANN001, ANN201
    """The symmetric matrix of ``a``'s lower triangle: flowgrad, like NumPy, reads only that triangle
    (its gradient is lower triangular), where torch symmetrises the gradient over both."""
    return a.tril() + a.tril(-1).mT


# no twins for eigenvectors and singular vectors (their signs are each LAPACK build's choice), nor eig's
# values (complex in torch)
CASES = [
    OpCase("det", fnp.linalg.det, np.linalg.det, one(SQUARE), each(_conditioned), torch=T.linalg.det),
    OpCase("logabsdet", lambda a: fnp.linalg.slogdet(a)[1], lambda a: np.linalg.slogdet(a)[1], one(SQUARE),
        each(_conditioned), torch=lambda a: T.linalg.slogdet(a)[1]),
    OpCase("inv", fnp.linalg.inv, np.linalg.inv, one(SQUARE), each(_conditioned), torch=T.linalg.inv),
    OpCase("solve", fnp.linalg.solve, np.linalg.solve, SOLVE_SHAPES, _solve_pair, torch=T.linalg.solve),
    OpCase("pinv", fnp.linalg.pinv, np.linalg.pinv, one(ANY), each(_separated), torch=T.linalg.pinv),
    OpCase("cholesky", fnp.linalg.cholesky, np.linalg.cholesky, one(SQUARE), each(_spd),
        torch=lambda a: T.linalg.cholesky(lower(a))),
    OpCase("eigh_values", _eigh_values, lambda a: np.linalg.eigh(a)[0], one(SQUARE), each(_symmetric),
        torch=lambda a: T.linalg.eigvalsh(lower(a))),
    OpCase("eigh_vectors", _eigh_vectors, lambda a: np.linalg.eigh(a)[1], one(SQUARE), each(_symmetric)),
    OpCase("eig_values", lambda a: fnp.linalg.eig(a)[0], lambda a: np.linalg.eig(a)[0], one(SQUARE),
        each(_real_spectrum)),
    OpCase("eig_vectors", lambda a: fnp.linalg.eig(a)[1], lambda a: np.linalg.eig(a)[1], one(SQUARE),
        each(_real_spectrum)),
    OpCase("svd_u", lambda a: fnp.linalg.svd(a, full_matrices=False)[0],
        lambda a: np.linalg.svd(a, full_matrices=False)[0], one(ANY), each(_separated)),
    OpCase("svd_s", lambda a: fnp.linalg.svd(a, compute_uv=False),
        lambda a: np.linalg.svd(a, compute_uv=False), one(ANY), each(_separated), torch=T.linalg.svdvals),
    OpCase("svd_vh", lambda a: fnp.linalg.svd(a, full_matrices=False)[2],
        lambda a: np.linalg.svd(a, full_matrices=False)[2], one(ANY), each(_separated)),
    OpCase("qr_q", lambda a: fnp.linalg.qr(a)[0], lambda a: np.linalg.qr(a)[0], one(TALL), each(_separated),
        torch=lambda a: T.linalg.qr(a)[0]),
    OpCase("qr_r", lambda a: fnp.linalg.qr(a)[1], lambda a: np.linalg.qr(a)[1], one(TALL), each(_separated),
        torch=lambda a: T.linalg.qr(a)[1]),
]  # fmt: skip
