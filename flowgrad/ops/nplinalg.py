"""``numpy.linalg``, differentiable: det, slogdet, inv, solve, pinv, cholesky, eigh, svd, qr, norm.

Each decomposition output is its own primitive (``eigh``'s values and vectors, ``svd``'s three
factors, ``qr``'s two): a primitive has one output, and a vector-Jacobian rule is linear in the
output cotangents, so the rules of the parts add up to the rule of the whole. Each part
recomputes the factorisation in its forward (LAPACK gives the same factors for the same input).

Rules are written for stacks of matrices (``...``) with ``xp``, so second derivatives come from
the same rules. Where NumPy reads one triangle of the input (``cholesky`` and ``eigh`` read the
lower one), the gradient is the derivative of what NumPy computes: zero on the triangle it
ignores, so it agrees with central differences on any input; for a symmetric input built from
other values (``A = X @ X.T``) the chain rule gives the usual symmetric result.

>>> import flowgrad as fg, flowgrad.numpy as np
>>> A = np.array([[2.0, 1.0], [1.0, 3.0]])
>>> fg.grad(np.linalg.det)(A)             # the cofactor matrix: det(A) * inv(A).T
array([[ 3., -1.],
       [-1.,  2.]])
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from ..core.exports import export
from ..core.ops import apply, defop
from ..core.tensor import Tensor
from ..errors import ArgumentError, DTypeError, ShapeError

SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])
EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])
QRResult = namedtuple("QRResult", ["Q", "R"])


def _t(xp: Any, a: Any) -> Any:
    return xp.swapaxes(a, -1, -2)


def _col(a: Any) -> Any:
    """A stack of scalars as (..., 1, 1), to scale a stack of matrices."""
    return a[..., None, None]


def _square(x: Any, where: str) -> None:
    shape = np.shape(x._data if isinstance(x, Tensor) else x)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ShapeError(f"{where}: expected a square matrix or a stack of them (..., M, M), got shape {shape}")


def _matrix(x: Any, where: str) -> None:
    shape = np.shape(x._data if isinstance(x, Tensor) else x)
    if len(shape) < 2:
        raise ShapeError(f"{where}: expected a matrix or a stack of them (..., M, N), got shape {shape}")


def _lower_gradient(xp: Any, s: Any) -> Any:
    """The gradient with respect to an input of which only the lower triangle is read, from
    ``s``, the gradient with respect to the symmetric matrix that triangle stands for."""
    n = s.shape[-1]
    strict = np.tri(n, n, -1, dtype=bool)
    return xp.where(strict, s + _t(xp, s), 0) + s * np.eye(n)


# ----- det, slogdet, inv, solve, pinv ------------------------------------------------------------
DET = defop(
    "det",
    np.linalg.det,
    lambda xp, g, ans, x: _col(g * ans) * _t(xp, xp.linalg.inv(x)),
)
LOGABSDET = defop(
    "logabsdet",
    lambda x: np.linalg.slogdet(x)[1],
    lambda xp, g, ans, x: _col(g) * _t(xp, xp.linalg.inv(x)),
)
INV = defop(
    "inv",
    np.linalg.inv,
    lambda xp, g, ans, x: -(_t(xp, ans) @ g @ _t(xp, ans)),
)


def _solve_forward(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.solve(a, b)


def _solve_grad_b(xp: Any, g: Any, ans: Any, a: Any, b: Any) -> Any:
    if b.ndim == 1:  # NumPy 2: a 1-D b is one vector for every matrix of the stack
        return xp.linalg.solve(_t(xp, a), g[..., None])[..., 0]
    return xp.linalg.solve(_t(xp, a), g)


def _solve_grad_a(xp: Any, g: Any, ans: Any, a: Any, b: Any) -> Any:
    gb = _solve_grad_b(xp, g, ans, a, b)
    if b.ndim == 1:
        return -(gb[..., :, None] * ans[..., None, :])
    return -(gb @ _t(xp, ans))


SOLVE = defop("solve", _solve_forward, _solve_grad_a, _solve_grad_b)


def _pinv_rule(xp: Any, g: Any, ans: Any, a: Any, rcond: Any) -> Any:
    # The derivative of the pseudo-inverse where the rank does not change (Golub and Pereyra):
    # -A+' G A+' + (I - A A+) G' A+ A+' + A+' A+ G' (I - A+ A), with ' the transpose.
    pt, gt = _t(xp, ans), _t(xp, g)
    m, n = a.shape[-2], a.shape[-1]
    left = np.eye(m) - a @ ans
    right = np.eye(n) - ans @ a
    return -(pt @ g @ pt) + left @ gt @ ans @ pt + pt @ ans @ gt @ right


PINV = defop("pinv", lambda a, rcond: np.linalg.pinv(a, rcond=rcond), _pinv_rule)


@export(numpy="linalg.det")
def det(a: Any) -> Tensor:
    """Determinant of a square matrix (or of each in a stack)."""
    _square(a, "linalg.det")
    return apply(DET, (a,))


@export(numpy="linalg.slogdet")
def slogdet(a: Any) -> SlogdetResult:
    """``(sign, log|det|)``; the sign has no gradient (it is constant where det is not 0)."""
    _square(a, "linalg.slogdet")
    sign = np.linalg.slogdet(a._data if isinstance(a, Tensor) else a)[0]
    return SlogdetResult(Tensor._wrap(np.asarray(sign)), apply(LOGABSDET, (a,)))


@export(numpy="linalg.inv")
def inv(a: Any) -> Tensor:
    """Inverse of a square matrix (or of each in a stack)."""
    _square(a, "linalg.inv")
    return apply(INV, (a,))


@export(numpy="linalg.solve")
def solve(a: Any, b: Any) -> Tensor:
    """``x`` with ``a @ x = b``; a 1-D ``b`` is a vector, else a stack of matrices (NumPy 2)."""
    _square(a, "linalg.solve")
    return apply(SOLVE, (a, b))


@export(numpy="linalg.pinv")
def pinv(a: Any, rcond: Any = None, hermitian: bool = False, *, rtol: Any = None) -> Tensor:
    """Moore-Penrose pseudo-inverse; differentiable where the rank is locally constant."""
    _matrix(a, "linalg.pinv")
    if hermitian:
        raise ArgumentError("linalg.pinv: hermitian=True is not supported for tensors")
    cut = rcond if rcond is not None else (rtol if rtol is not None else 1e-15)
    return apply(PINV, (a,), {"rcond": cut})


@export(numpy="linalg.matrix_power")
def matrix_power(a: Any, n: int) -> Tensor:
    """``a`` multiplied by itself ``n`` times (``n < 0``: of its inverse; 0: the identity)."""
    _square(a, "linalg.matrix_power")
    if n < 0:
        a, n = inv(a), -n
    size = np.shape(a._data if isinstance(a, Tensor) else a)
    result: Any = None
    base: Any = a
    while n:  # binary powering: log2(n) products
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    if result is None:
        from .shape import broadcast_to

        return broadcast_to(np.eye(size[-1], dtype=a.dtype), size) * 1
    return result


# ----- cholesky, eigh ------------------------------------------------------------------------------
def _cholesky_rule(xp: Any, g: Any, ans: Any, x: Any) -> Any:
    # Murray (2016): with L the factor, P = Phi(L' G) (the lower triangle, diagonal halved), the
    # gradient with respect to the symmetric matrix is sym(L^-T P L^-1).
    n = ans.shape[-1]
    phi = xp.where(np.tri(n, n, -1, dtype=bool), _t(xp, ans) @ g, 0) + (_t(xp, ans) @ g) * (np.eye(n) / 2)
    linv = xp.linalg.inv(ans)
    s = _t(xp, linv) @ phi @ linv
    return _lower_gradient(xp, (s + _t(xp, s)) / 2)


CHOLESKY = defop("cholesky", np.linalg.cholesky, _cholesky_rule)


def _triangle_gradient(xp: Any, s: Any, uplo: str) -> Any:
    """``_lower_gradient`` for the triangle ``uplo`` names ("L" or "U") that eigh reads."""
    return _lower_gradient(xp, s) if uplo == "L" else _t(xp, _lower_gradient(xp, _t(xp, s)))


def _eigh_values_rule(xp: Any, g: Any, ans: Any, x: Any, UPLO: str) -> Any:  # noqa: N803
    _, v = xp.linalg.eigh(x, UPLO)
    return _triangle_gradient(xp, (v * g[..., None, :]) @ _t(xp, v), UPLO)


def _eigh_vectors_rule(xp: Any, g: Any, ans: Any, x: Any, UPLO: str) -> Any:  # noqa: N803
    # dV = V (F o (V' dA V)) with F_ij = 1 / (w_j - w_i) off the diagonal: the vectors' gradient
    # is V (F o (V' G)) V'. Repeated eigenvalues make it infinite, as in every framework. The
    # vectors are recomputed from the same triangle, so their signs are the forward's.
    w, v = xp.linalg.eigh(x, UPLO)
    n = w.shape[-1]
    off = 1 - np.eye(n)
    f = off / (w[..., None, :] - w[..., :, None] + np.eye(n))
    return _triangle_gradient(xp, v @ (f * (_t(xp, v) @ g)) @ _t(xp, v), UPLO)


# LAPACK picks each eigenvector's sign, and from the upper triangle it may pick other signs than
# from the lower one of the transpose: the triangle NumPy was asked for is the one read, so a
# traced call gives exactly the vectors NumPy gives on plain arrays.
EIGH_VALUES = defop("eigh_values", lambda x, UPLO: np.linalg.eigh(x, UPLO)[0], _eigh_values_rule)  # noqa: N803
EIGH_VECTORS = defop("eigh_vectors", lambda x, UPLO: np.linalg.eigh(x, UPLO)[1], _eigh_vectors_rule)  # noqa: N803


@export(numpy="linalg.cholesky")
def cholesky(a: Any, upper: bool = False) -> Tensor:
    """Lower Cholesky factor ``L`` with ``a = L @ L.T`` (``upper=True``: ``L.T``)."""
    _square(a, "linalg.cholesky")
    lower = apply(CHOLESKY, (a,))
    return lower.swapaxes(-1, -2) if upper else lower


@export(numpy="linalg.eigh")
def eigh(a: Any, UPLO: str = "L") -> EighResult:  # noqa: N803 - NumPy's name
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix, read from its lower
    triangle (``UPLO="U"``: its upper one)."""
    _square(a, "linalg.eigh")
    if UPLO not in ("L", "U"):
        raise ArgumentError(f"linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    return EighResult(apply(EIGH_VALUES, (a,), {"UPLO": UPLO}), apply(EIGH_VECTORS, (a,), {"UPLO": UPLO}))


@export(numpy="linalg.eigvalsh")
def eigvalsh(a: Any, UPLO: str = "L") -> Tensor:  # noqa: N803
    """Eigenvalues of a symmetric matrix (ascending)."""
    return eigh(a, UPLO)[0]


# ----- eig (real eigenvalues) -------------------------------------------------------------------
EigResult = namedtuple("EigResult", ["eigenvalues", "eigenvectors"])


def _eig_forward(a: Any, part: int) -> Any:
    w, v = np.linalg.eig(a)
    if np.iscomplexobj(w):  # NumPy gives real arrays exactly when every eigenvalue is real
        raise DTypeError(
            "linalg.eig: this matrix has complex eigenvalues; flowgrad differentiates real numbers "
            "only (a symmetric matrix has real ones: use linalg.eigh)"
        )
    return (w, v)[part]


def _eig_rule(xp: Any, g_values: Any, g_vectors: Any, a: Any) -> Any:
    # A V = V W with unit columns. With P = V^-1 dA V: dw = diag(P), dV = V C where
    # C_ij = P_ij / (w_j - w_i) off the diagonal and C_jj = -sum_i (V'V)_ji C_ij keeps |v_j| = 1.
    # So the gradient is V^-T R V' with R = diag(gw) + F o (H - (V'V) diag(H)), H = V' G_V.
    w, v = xp.linalg.eig(a)
    n = w.shape[-1]
    off = 1 - np.eye(n)
    f = off / (w[..., None, :] - w[..., :, None] + np.eye(n))
    r = 0
    if g_values is not None:
        r = g_values[..., :, None] * np.eye(n)
    if g_vectors is not None:
        h = _t(xp, v) @ g_vectors
        h_diag = (h * np.eye(n)) @ np.ones((n, 1)) * np.eye(n)  # diag(H) as a diagonal matrix
        r = r + f * (h - (_t(xp, v) @ v) @ h_diag)
    return xp.linalg.solve(_t(xp, v), r @ _t(xp, v))


EIG_VALUES = defop("eig_values", lambda a: _eig_forward(a, 0), lambda xp, g, ans, a: _eig_rule(xp, g, None, a))
EIG_VECTORS = defop("eig_vectors", lambda a: _eig_forward(a, 1), lambda xp, g, ans, a: _eig_rule(xp, None, g, a))


@export(numpy="linalg.eig")
def eig(a: Any) -> EigResult:
    """Eigenvalues and unit eigenvectors of a square matrix whose eigenvalues are all real (NumPy's
    order and signs); complex eigenvalues are refused. Repeated eigenvalues have no derivative for
    the vectors (infinite, as in every framework)."""
    _square(a, "linalg.eig")
    return EigResult(apply(EIG_VALUES, (a,)), apply(EIG_VECTORS, (a,)))


@export(numpy="linalg.eigvals")
def eigvals(a: Any) -> Tensor:
    """The eigenvalues of a square matrix whose eigenvalues are all real."""
    return eig(a)[0]


# ----- svd, qr -------------------------------------------------------------------------------------
def _svd_parts(xp: Any, a: Any) -> tuple:
    u, s, vh = xp.linalg.svd(a, full_matrices=False)
    k = s.shape[-1]
    eye = np.eye(k)
    f = (1 - eye) / (s[..., None, :] ** 2 - s[..., :, None] ** 2 + eye)  # 1/(s_j^2 - s_i^2), 0 diagonal
    return u, s, _t(xp, vh), f


def _svd_u_rule(xp: Any, g: Any, ans: Any, a: Any) -> Any:
    u, s, v, f = _svd_parts(xp, a)
    utg = _t(xp, u) @ g
    inner = (f * (utg - _t(xp, utg))) * s[..., None, :]
    grad = u @ inner @ _t(xp, v)
    if a.shape[-2] > a.shape[-1]:  # the part of G outside U's span
        grad = grad + (g - u @ utg) / s[..., None, :] @ _t(xp, v)
    return grad


def _svd_s_rule(xp: Any, g: Any, ans: Any, a: Any) -> Any:
    u, _, vh = xp.linalg.svd(a, full_matrices=False)
    return (u * g[..., None, :]) @ vh


def _svd_vh_rule(xp: Any, g: Any, ans: Any, a: Any) -> Any:
    u, s, v, f = _svd_parts(xp, a)
    gv = _t(xp, g)
    vtg = _t(xp, v) @ gv
    inner = s[..., :, None] * (f * (vtg - _t(xp, vtg)))
    grad = u @ inner @ _t(xp, v)
    if a.shape[-1] > a.shape[-2]:  # the part of G outside V's span
        grad = grad + (u / s[..., None, :]) @ _t(xp, gv - v @ vtg)
    return grad


SVD_U = defop("svd_u", lambda a: np.linalg.svd(a, full_matrices=False)[0], _svd_u_rule)
SVD_S = defop("svd_s", lambda a: np.linalg.svd(a, compute_uv=False), _svd_s_rule)
SVD_VH = defop("svd_vh", lambda a: np.linalg.svd(a, full_matrices=False)[2], _svd_vh_rule)


@export(numpy="linalg.svd")
def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False) -> Any:
    """``(U, S, Vh)`` with ``a = U @ diag(S) @ Vh``; ``compute_uv=False``: ``S`` alone.

    The factors' gradients need ``full_matrices=False`` (the extra columns of a full ``U`` or
    ``Vh`` are not determined by ``a``, so no gradient exists for them).
    """
    _matrix(a, "linalg.svd")
    if not compute_uv:
        return apply(SVD_S, (a,))
    shape = np.shape(a._data if isinstance(a, Tensor) else a)
    if full_matrices and shape[-1] != shape[-2]:
        raise ArgumentError(
            f"linalg.svd: the gradient of full U and Vh is not defined for a non-square matrix (shape {shape}); "
            "pass full_matrices=False"
        )
    return SVDResult(apply(SVD_U, (a,)), apply(SVD_S, (a,)), apply(SVD_VH, (a,)))


def _copyltu(xp: Any, m: Any) -> Any:
    """The lower triangle of ``m`` mirrored onto the upper one."""
    n = m.shape[-1]
    lower = xp.where(np.tri(n, n, -1, dtype=bool), m, 0)
    return lower + _t(xp, lower) + m * np.eye(n)


def _qr_grad(xp: Any, a: Any, gq: Any, gr: Any) -> Any:
    # A = QR with m >= n: dA-bar = (Gq + Q copyltu(M)) R^-T, M = R Gr' - Gq' Q (Seeger et al.).
    q, r = xp.linalg.qr(a)
    m = 0
    if gr is not None:
        m = m + r @ _t(xp, gr)
    if gq is not None:
        m = m - _t(xp, gq) @ q
    b = q @ _copyltu(xp, m)
    if gq is not None:
        b = b + gq
    return _t(xp, xp.linalg.solve(r, _t(xp, b)))


QR_Q = defop("qr_q", lambda a: np.linalg.qr(a)[0], lambda xp, g, ans, a: _qr_grad(xp, a, g, None))
QR_R = defop("qr_r", lambda a: np.linalg.qr(a)[1], lambda xp, g, ans, a: _qr_grad(xp, a, None, g))


@export(numpy="linalg.qr")
def qr(a: Any, mode: str = "reduced") -> QRResult:
    """Reduced QR of a tall or square matrix (``m >= n``), differentiable."""
    _matrix(a, "linalg.qr")
    shape = np.shape(a._data if isinstance(a, Tensor) else a)
    if mode != "reduced":
        raise ArgumentError(f"linalg.qr: only mode='reduced' is differentiable, got mode={mode!r}")
    if shape[-2] < shape[-1]:
        raise ShapeError(f"linalg.qr: the gradient needs a tall or square matrix (m >= n), got shape {shape}")
    return QRResult(apply(QR_Q, (a,)), apply(QR_R, (a,)))


# ----- norm: built from differentiable ops --------------------------------------------------------
def _vector_norm(x: Any, ord: Any, axis: Any, keepdims: bool) -> Any:  # noqa: A002
    from . import elementwise as ew
    from . import reduce as red

    if ord is None or ord == 2:
        return ew.sqrt(red.sum(x * x, axis, keepdims))
    if ord == np.inf:
        return red.max(ew.abs(x), axis, keepdims)
    if ord == -np.inf:
        return red.min(ew.abs(x), axis, keepdims)
    if ord == 1:
        return red.sum(ew.abs(x), axis, keepdims)
    if ord == 0:  # a count: no gradient
        return red.sum(ew.not_equal(x, 0) * 1.0, axis, keepdims)
    if isinstance(ord, str):
        raise ArgumentError(f"linalg.norm: ord={ord!r} is for matrices; a vector takes a number")
    return red.sum(ew.abs(x) ** ord, axis, keepdims) ** (1.0 / ord)


def _matrix_norm(x: Any, ord: Any, axes: tuple, keepdims: bool) -> Any:  # noqa: A002
    from . import elementwise as ew
    from . import reduce as red
    from . import shape as sh

    row, col = axes
    if ord in (None, "fro"):
        return ew.sqrt(red.sum(x * x, axes, keepdims))
    if ord in (1, -1, np.inf, -np.inf):
        sums_axis, pick_axis = (row, col) if ord in (1, -1) else (col, row)
        sums = red.sum(ew.abs(x), sums_axis, True)
        pick = red.max if ord in (1, np.inf) else red.min
        out = pick(sums, pick_axis, True)
        return out if keepdims else sh.squeeze(out, axes)
    if ord in ("nuc", 2, -2):
        moved = sh.moveaxis(x, axes, (-2, -1))
        s = svd(moved, compute_uv=False)
        out = red.sum(s, -1) if ord == "nuc" else (red.max(s, -1) if ord == 2 else red.min(s, -1))
        if keepdims:
            out = sh.expand_dims(sh.expand_dims(out, min(axes) % x.ndim), max(axes) % x.ndim)
        return out
    raise ArgumentError(f"linalg.norm: ord={ord!r} is not a matrix norm (None, 'fro', 'nuc', 1, -1, 2, -2, inf, -inf)")


@export(numpy="linalg.norm")
def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A002
    """NumPy's vector and matrix norms, every ``ord`` and ``axis`` form, differentiable.

    >>> import flowgrad as fg, flowgrad.numpy as np
    >>> fg.grad(np.linalg.norm)(np.array([3.0, 4.0]))
    array([0.6, 0.8])
    """
    ndim = np.ndim(x._data if isinstance(x, Tensor) else x)
    if np.iscomplexobj(x._data if isinstance(x, Tensor) else x):
        two_axes = (axis is None and ndim == 2 and ord is not None) or (
            isinstance(axis, (tuple, list)) and len(axis) == 2
        )
        if two_axes and ord in ("nuc", 2, -2):
            raise DTypeError(
                f"linalg.norm: ord={ord!r} of a complex matrix (its singular values) is defined for "
                "real numbers only in flowgrad"
            )
        # Every other norm is a function of the moduli alone: the norm of |x| (complex abs's rule).
        from .complexops import abs as modulus

        x = modulus(x)
    if axis is None:
        if ord is None:  # the 2-norm of all elements, whatever the shape
            from . import elementwise as ew
            from . import reduce as red

            out = ew.sqrt(red.sum(x * x))
            return out.reshape((1,) * ndim) if keepdims else out
        axis = tuple(range(ndim))
    if isinstance(axis, (tuple, list)) and len(axis) == 2:
        return _matrix_norm(x, ord, (axis[0] % ndim, axis[1] % ndim), keepdims)
    if isinstance(axis, (tuple, list)):
        if len(axis) != 1:
            raise ShapeError(f"linalg.norm: axis must be an int or a pair, got {axis}")
        axis = axis[0]
    return _vector_norm(x, ord, axis, keepdims)
