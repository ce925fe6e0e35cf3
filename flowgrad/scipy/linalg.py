"""``scipy.linalg``'s functions that HIPS autograd differentiates: sqrtm, solve_triangular,
solve_sylvester, cholesky (SciPy's, upper by default) and solve_banded, as primitives whose rules are written
with differentiable functions, so second derivatives come from the same rules.

>>> import flowgrad as fg, flowgrad.numpy as np
>>> from flowgrad.scipy.linalg import sqrtm
>>> a = np.array([[4.0, 1.0], [1.0, 3.0]])
>>> g = fg.grad(lambda m: np.trace(sqrtm(m)))(a)  # d tr(sqrt(A)) = tr(A^-1/2 dA) / 2
>>> bool(np.allclose(g, np.linalg.inv(sqrtm(a)).T / 2))
True
"""

from __future__ import annotations

from typing import Any

import numpy as onp
import scipy.linalg as _sl

from .. import numpy as np
from ..errors import DTypeError
from ..extend import defvjp, primitive

__all__ = ["sqrtm", "solve_triangular", "solve_sylvester", "cholesky", "solve_banded"]


def _t(x: Any) -> Any:
    return np.swapaxes(x, -1, -2)


def _triangle(x: Any, lower: bool, strict: bool = False) -> Any:
    """The part of a gradient that reaches the triangle a solver reads (the rest is never read)."""
    return np.tril(x, -1 if strict else 0) if lower else np.triu(x, 1 if strict else 0)


# ----- solve_sylvester: A X + X B = Q --------------------------------------------------------------
@primitive
def solve_sylvester(a: Any, b: Any, q: Any) -> Any:
    """``X`` with ``a @ X + X @ b = q``."""
    return _sl.solve_sylvester(a, b, q)


def _sylvester_q(ans: Any, a: Any, b: Any, q: Any) -> Any:
    return lambda g: solve_sylvester(_t(a), _t(b), g)


defvjp(
    solve_sylvester,
    lambda ans, a, b, q: lambda g: -(_sylvester_q(ans, a, b, q)(g) @ _t(ans)),
    lambda ans, a, b, q: lambda g: -(_t(ans) @ _sylvester_q(ans, a, b, q)(g)),
    _sylvester_q,
)


# ----- sqrtm --------------------------------------------------------------------------------------
@primitive
def _sqrtm(a: Any) -> Any:
    root = _sl.sqrtm(a)
    if onp.iscomplexobj(root):
        raise DTypeError(
            "sqrtm: this matrix's square root is complex (a negative eigenvalue); "
            "flowgrad differentiates real numbers only"
        )
    return root


# X X = A, so dA = dX X + X dX: the gradient G_A solves X' G_A + G_A X' = G
defvjp(_sqrtm, lambda ans, a: lambda g: solve_sylvester(_t(ans), _t(ans), g))


def sqrtm(a: Any) -> Any:
    """The principal square root ``X`` of a matrix (``X @ X = a``), real matrices with real roots."""
    return _sqrtm(a)


# ----- solve_triangular ---------------------------------------------------------------------------
def _transposed(trans: Any) -> bool:
    if trans in (0, "N"):
        return False
    if trans in (1, 2, "T", "C"):  # real matrices: the conjugate transpose is the transpose
        return True
    raise ValueError(f"solve_triangular: trans must be 0, 1, 2, 'N', 'T' or 'C', got {trans!r}")


@primitive
def _solve_triangular(a: Any, b: Any, trans: Any, lower: bool, unit_diagonal: bool) -> Any:
    return _sl.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit_diagonal)


def _b_rule(ans: Any, a: Any, b: Any, trans: Any, lower: bool, unit_diagonal: bool) -> Any:
    # x = op(a)^-1 b, so b's gradient is op(a)^-T g: the solve with the other transpose
    flipped = 0 if _transposed(trans) else 1
    return lambda g: _solve_triangular(a, g, flipped, lower, unit_diagonal)


def _a_rule(ans: Any, a: Any, b: Any, trans: Any, lower: bool, unit_diagonal: bool) -> Any:
    def vjp(g: Any) -> Any:
        gb = _b_rule(ans, a, b, trans, lower, unit_diagonal)(g)
        g_op = -(np.outer(gb, ans) if onp.ndim(getattr(ans, "_data", ans)) == 1 else gb @ _t(ans))
        return _triangle(_t(g_op) if _transposed(trans) else g_op, lower, strict=unit_diagonal)

    return vjp


defvjp(_solve_triangular, _a_rule, _b_rule)


def solve_triangular(
    a: Any, b: Any, trans: Any = 0, lower: bool = False, unit_diagonal: bool = False, **options: Any
) -> Any:
    """``x`` with ``op(a) @ x = b`` for triangular ``a`` (its upper triangle unless ``lower``;
    ``op`` transposes for ``trans`` 1/'T'/'C'; ``unit_diagonal`` takes the diagonal as ones).
    SciPy's ``overwrite_b``/``check_finite`` are accepted and ignored."""
    _transposed(trans)
    return _solve_triangular(a, b, trans, bool(lower), bool(unit_diagonal))


# ----- cholesky (SciPy's: upper by default) ----------------------------------------------------------
@primitive
def _cholesky(a: Any, lower: bool) -> Any:
    return _sl.cholesky(a, lower=lower)


def _cholesky_rule(ans: Any, a: Any, lower: bool) -> Any:
    # Murray (2016), for the lower factor L: P = Phi(L' G) (lower triangle, diagonal halved),
    # S = L^-T P L^-1; the gradient is S symmetrised, on the triangle the factorisation reads.
    def vjp(g: Any) -> Any:
        fac, gl = (ans, g) if lower else (_t(ans), _t(g))
        m = _t(fac) @ gl
        phi = np.tril(m, -1) + np.diag(np.diag(m)) / 2
        linv = np.linalg.inv(fac)
        s = _t(linv) @ phi @ linv
        sym = (s + _t(s)) / 2
        whole = _triangle(sym, True, strict=True) * 2 + np.diag(np.diag(sym))
        return whole if lower else _t(whole)

    return vjp


defvjp(_cholesky, _cholesky_rule)


def cholesky(a: Any, lower: bool = False, **options: Any) -> Any:
    """SciPy's Cholesky factor of a symmetric positive-definite matrix: upper ``U`` with
    ``a = U' U`` (from a's upper triangle), or lower ``L`` with ``a = L L'`` when ``lower``."""
    return _cholesky(a, bool(lower))


# ----- solve_banded: A x = b, A given by its diagonals --------------------------------------------
# SciPy's banded form: ab[nu + i - j, j] = A[i, j] for the nl diagonals below the main one and the
# nu above it (SciPy's l and u); the entries of ab outside the matrix are never read (their gradient is 0).
def _band_gather(nl: int, nu: int, n: int, shift: int) -> tuple[Any, Any]:
    """Column indices ``j + k - shift`` for each (row k, column j) of a band of nl + nu + 1 rows,
    clipped into range, and where they are in range."""
    k = onp.arange(nl + nu + 1)[:, None]
    cols = onp.arange(n)[None, :] + k - shift
    return onp.clip(cols, 0, max(n - 1, 0)), (cols >= 0) & (cols < n)


def _band_transpose(ab: Any, nl: int, nu: int) -> Any:
    """The banded form of A' (nl and nu swapped): abT[k, q] = A[q, q + k - nl] = ab[nu + nl - k, q + k - nl]."""
    n = onp.shape(getattr(ab, "_data", ab))[1]
    cols, inside = _band_gather(nl, nu, n, nl)
    rows = onp.broadcast_to((nu + nl - onp.arange(nl + nu + 1))[:, None], cols.shape)
    return np.where(inside, ab[rows, cols], 0.0)


@primitive
def _solve_banded(ab: Any, b: Any, nl: int, nu: int) -> Any:
    return _sl.solve_banded((nl, nu), ab, b)


def _banded_b_rule(ans: Any, ab: Any, b: Any, nl: int, nu: int) -> Any:
    # b's gradient is A^-T g: the banded solve with A' (its lower and upper bands swapped)
    return lambda g: _solve_banded(_band_transpose(ab, nl, nu), g, nu, nl)


def _banded_ab_rule(ans: Any, ab: Any, b: Any, nl: int, nu: int) -> Any:
    def vjp(g: Any) -> Any:
        # A's gradient is -gb x' on the band: ab[k, j] stands for A[j + k - nu, j]
        gb = _banded_b_rule(ans, ab, b, nl, nu)(g)
        rows, inside = _band_gather(nl, nu, onp.shape(getattr(ab, "_data", ab))[1], nu)
        if onp.ndim(getattr(ans, "_data", ans)) == 1:
            prod = gb[rows] * ans[None, :]
        else:
            prod = np.sum(gb[rows] * ans[None, :, :], axis=-1)
        return np.where(inside, -prod, 0.0)

    return vjp


defvjp(_solve_banded, _banded_ab_rule, _banded_b_rule)


def solve_banded(l_and_u: Any, ab: Any, b: Any, **options: Any) -> Any:
    """``x`` with ``A @ x = b`` for the banded matrix ``A`` with ``l`` diagonals below the main
    one and ``u`` above (``l_and_u = (l, u)``), given in SciPy's form ``ab`` (``ab[u + i - j, j] =
    A[i, j]``, shape ``(l + u + 1, n)``); ``b`` of shape ``(n,)`` or ``(n, k)``. Differentiable in
    ``ab`` and ``b``.
    SciPy's ``overwrite_ab``/``overwrite_b``/``check_finite`` are accepted and ignored.

    >>> import flowgrad as fg, flowgrad.numpy as np
    >>> ab = np.array([[0.0, 1.0, 1.0], [4.0, 4.0, 4.0], [1.0, 1.0, 0.0]])  # tridiagonal (1, 4, 1)
    >>> dense = np.array([[4.0, 1.0, 0.0], [1.0, 4.0, 1.0], [0.0, 1.0, 4.0]])
    >>> b = np.array([1.0, 2.0, 3.0])
    >>> bool(np.allclose(fg.grad(lambda b: np.sum(solve_banded((1, 1), ab, b)))(b),
    ...                  fg.grad(lambda b: np.sum(np.linalg.solve(dense, b)))(b)))
    True
    """
    try:
        nl, nu = (int(v) for v in l_and_u)
    except (TypeError, ValueError):
        raise ValueError(f"solve_banded: l_and_u must be a pair of integers (l, u), got {l_and_u!r}") from None
    if nl < 0 or nu < 0:
        raise ValueError(f"solve_banded: l_and_u must be non-negative, got {(nl, nu)}")
    shape = onp.shape(getattr(ab, "_data", ab))
    if len(shape) != 2 or shape[0] != nl + nu + 1:
        raise ValueError(
            f"solve_banded: ab must have shape (l + u + 1, n) = ({nl + nu + 1}, n) for l_and_u {(nl, nu)}, got {shape}"
        )
    return _solve_banded(ab, b, nl, nu)
