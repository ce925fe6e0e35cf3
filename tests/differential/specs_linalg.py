"""Differential steps for ``flowgrad.numpy.linalg`` against ``torch.linalg``.

Only in float64 programs and on small matrices made well-conditioned from the value ``h``:
``M = h h' / n + D`` with ``D = diag(1, 1.6, 2.2, ...)`` (symmetric, eigenvalues >= 1 and
mostly apart) for the square functions, ``h`` itself for
svd, qr and pinv where its singular values are apart and away from 0. Decomposition factors are
squared: their signs are LAPACK's choice, which both frameworks make, but a sign-free quantity
keeps the comparison about the derivative. Steps are skipped where eigenvalues or singular
values come within 0.1 of each other, where the vectors' derivatives blow up in both.
"""

from __future__ import annotations

import numpy as np
import torch

import flowgrad.numpy as fnp

from .programs import Program, Step, Val, spec

SQUARE = ["det", "logabsdet", "inv", "solve", "cholesky", "eigvalsh", "eigvecs2", "eigvals", "eigvecs_general2"]
RECT = ["svdvals", "svd_u2", "svd_vh2", "qr_q2", "qr_r2", "pinv"]


def _spread(n: int) -> np.ndarray:
    """diag(1, 1.6, 2.2, ...): eigenvalues >= 1 and, for small h, apart."""
    return np.diag(1.0 + 0.6 * np.arange(n))


def _gram(S, h):  # noqa: ANN001, ANN202 - S: a Side; h (..., m, n) gives an (m, m) matrix
    return h @ h.transpose(-1, -2) / h.shape[-1] + S.c(_spread(h.shape[-2]))


def _real(S, z):  # noqa: ANN001, ANN202
    return z.real if S.T else z


def _lin(S):  # noqa: ANN001, ANN202
    return torch.linalg if S.T else fnp.linalg


def _square_step(name: str, y):  # noqa: ANN001, ANN202
    fns = {
        "det": lambda S, h: _lin(S).det(_gram(S, h)),
        "logabsdet": lambda S, h: _lin(S).slogdet(_gram(S, h))[1],
        "inv": lambda S, h: _lin(S).inv(_gram(S, h)),
        "solve": lambda S, h, y: _lin(S).solve(_gram(S, h), y),
        "cholesky": lambda S, h: _lin(S).cholesky(_gram(S, h)),
        "eigvalsh": lambda S, h: _lin(S).eigh(_gram(S, h))[0],
        "eigvecs2": lambda S, h: _lin(S).eigh(_gram(S, h))[1] ** 2,
        # (h h'/n + D) D is not symmetric, but similar to D^1/2 (h h'/n + D) D^1/2: real eigenvalues;
        # torch gives them as complex numbers with no imaginary part
        "eigvals": lambda S, h: _real(S, _lin(S).eig(_gram(S, h) @ S.c(_spread(h.shape[-2])))[0]),
        "eigvecs_general2": lambda S, h: _real(S, _lin(S).eig(_gram(S, h) @ S.c(_spread(h.shape[-2])))[1]) ** 2,
    }
    return fns[name]


def _rect_step(name: str):  # noqa: ANN202
    def svd(S, h):  # noqa: ANN001, ANN202
        return _lin(S).svd(h, full_matrices=False)

    fns = {
        "svdvals": lambda S, h: svd(S, h)[1],
        "svd_u2": lambda S, h: svd(S, h)[0] ** 2,
        "svd_vh2": lambda S, h: svd(S, h)[2] ** 2,
        "qr_q2": lambda S, h: _lin(S).qr(h)[0] ** 2,
        "qr_r2": lambda S, h: _lin(S).qr(h)[1] ** 2,
        "pinv": lambda S, h: _lin(S).pinv(h),
    }
    return fns[name]


def _apart(values: np.ndarray, gap: float) -> bool:
    v = np.sort(values, axis=-1)
    return bool(np.all(np.diff(v, axis=-1) > gap)) if v.shape[-1] > 1 else True


def _many(fns: list):  # noqa: ANN202
    """One step giving several outputs: every function of the list on the same arguments."""
    return lambda S, *args: tuple(f(S, *args) for f in fns)


@spec("linalg", weight=0.5)
def _linalg(p: Program, h: Val):
    if p.dt.name != "float64" or h.ndim < 2 or not 1 <= h.shape[-1] <= 4 or not 1 <= h.shape[-2] <= 4:
        return None
    x = h.data.astype(np.float64)
    if p.chance(0.6):
        m = x @ np.swapaxes(x, -1, -2) / x.shape[-1] + _spread(x.shape[-2])
        if p.chance(0.25):
            y = p.fresh(x.shape[:-1] + (p.ri(1, 2),))
            return Step(_square_step("solve", y), (h, y), f"linalg.solve(h h'/n + D, y{list(y.shape)})")
        names = [q for q in SQUARE if q != "solve"]
        general = np.linalg.eigvals(m @ _spread(x.shape[-2]))
        if not _apart(np.linalg.eigvalsh(m), 0.1) or np.iscomplexobj(general) or not _apart(general, 0.1):
            names = [q for q in names if not q.startswith("eig")]
        return Step(_many([_square_step(q, None) for q in names]), (h,), f"linalg.{{{', '.join(names)}}}(h h'/n + D)")
    s = np.linalg.svd(x, compute_uv=False)
    if s.size and (s.min() < 0.2 or not _apart(s, 0.1)):
        return None
    names = [q for q in RECT if not (q.startswith("qr") and h.shape[-2] < h.shape[-1])]
    if x.shape[-1] != x.shape[-2] and np.any(s < 0.3):
        names = [q for q in names if not q.startswith("svd_")]
    return Step(_many([_rect_step(q) for q in names]), (h,), f"linalg.{{{', '.join(names)}}}(h)")


# ----- the elementwise math of flowgrad/ops/elementwise_more.py -------------------------------------
def _unary_math(name: str):  # noqa: ANN202
    torch_name = {"arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh"}.get(name, name)
    return lambda S, h: getattr(torch, torch_name)(h) if S.T else getattr(fnp, name)(h)


def _binary_math(name: str):  # noqa: ANN202
    torch_name = {"arctan2": "atan2"}.get(name, name)
    return lambda S, a, b: getattr(torch, torch_name)(a, b) if S.T else getattr(fnp, name)(a, b)


@spec("math_more")
def _math_more(p: Program, h: Val):
    x = h.data.astype(np.float64)
    # The unary functions run together, so that each runs whenever the spec is drawn.
    name = p.choice(["unary", "arctan2", "hypot", "logaddexp2", "fmax", "fmin"])
    if name == "unary":
        inside = [  # arccosh's domain is x > 1 (1.5 + h * h), arctanh's |x| < 1 (tanh(h) / 2)
            ("arccosh(h*h + 1.5)", lambda S, h: _unary_math("arccosh")(S, h * h + 1.5)),
            ("arctanh(tanh(h) / 2)", lambda S, h: _unary_math("arctanh")(S, h.tanh() / 2)),
        ]
        if not (x.size and np.abs(x).max() > 10):  # exp2 and arcsinh of moderate values only
            inside += [("exp2(h)", _unary_math("exp2")), ("arcsinh(h)", _unary_math("arcsinh"))]
        return Step(lambda S, h: tuple(f(S, h) for _, f in inside), (h,), ", ".join(label for label, _ in inside))
    y = p.fresh(p.bshape(h.shape))
    ya = y.arr if hasattr(y, "arr") else y.data
    both = np.broadcast_arrays(x, np.asarray(ya, dtype=np.float64))
    if name in ("fmax", "fmin") and p.near(both[0] - both[1]):
        return None  # ties split the gradient; away from them the result is one side
    if name in ("arctan2", "hypot") and (p.near(both[0]) or p.near(both[1])):
        return None  # arctan2's branch cut and hypot's kink at the origin
    return Step(_binary_math(name), (h, y), f"{name}(h, y)")


# ----- flowgrad.scipy.special against torch.special (where SciPy is installed) ---------------------
try:
    from flowgrad.scipy import special as _fs
except ImportError:  # the optional extra is missing: its ops are not registered either
    _fs = None


def _special_steps():  # noqa: ANN202
    ts = torch.special

    def pos(S, h):  # noqa: ANN001, ANN202 - gammaln's family: arguments > 0.3
        return (torch.nn.functional.softplus(h) if S.T else _fsp(h)) + 0.3

    def _fsp(h):  # noqa: ANN001, ANN202
        import flowgrad.nn.functional as fnf

        return fnf.softplus(h)

    def unit(h):  # noqa: ANN001, ANN202 - (-0.8, 0.8)
        return h.tanh() * 0.8

    return {
        "gammaln": lambda S, h: ts.gammaln(pos(S, h)) if S.T else _fs.gammaln(pos(S, h)),
        "digamma": lambda S, h: ts.digamma(pos(S, h)) if S.T else _fs.digamma(pos(S, h)),
        "polygamma": lambda S, h: ts.polygamma(1, pos(S, h)) if S.T else _fs.polygamma(1, pos(S, h)),
        "erfc": lambda S, h: ts.erfc(h) if S.T else _fs.erfc(h),
        "erfinv": lambda S, h: ts.erfinv(unit(h)) if S.T else _fs.erfinv(unit(h)),
        "erfcinv": lambda S, h: ts.erfinv(-unit(h)) if S.T else _fs.erfcinv(1 + unit(h)),
        "expit": lambda S, h: ts.expit(h) if S.T else _fs.expit(h),
        "logit": lambda S, h: ts.logit(h.sigmoid() * 0.8 + 0.1) if S.T else _fs.logit(h.sigmoid() * 0.8 + 0.1),
        "i0": lambda S, h: ts.i0(h) if S.T else _fs.i0(h),
        "i1": lambda S, h: ts.i1(h) if S.T else _fs.i1(h),
        "ndtr": lambda S, h: ts.ndtr(h) if S.T else _fs.ndtr(h),
        "log_ndtr": lambda S, h: ts.log_ndtr(h) if S.T else _fs.log_ndtr(h),
        # torch differentiates gammainc/gammaincc in x only, as flowgrad: a is a constant here
        "gammainc": lambda S, h: (
            ts.gammainc(torch.full_like(h, 1.7), pos(S, h)) if S.T else _fs.gammainc(1.7, pos(S, h))
        ),
        "gammaincc": lambda S, h: (
            ts.gammaincc(torch.full_like(h, 0.8), pos(S, h)) if S.T else _fs.gammaincc(0.8, pos(S, h))
        ),
        "rgamma": lambda S, h: torch.exp(-torch.lgamma(pos(S, h))) if S.T else _fs.rgamma(pos(S, h)),
        "ive0": lambda S, h: ts.i0e(h) if S.T else _fs.ive(0, h),
        "ive1": lambda S, h: ts.i1e(h) if S.T else _fs.ive(1, h),
    }


if _fs is not None:
    _SPECIAL = _special_steps()

    @spec("scipy_special")
    def _scipy_special(p: Program, h: Val):
        # float32 programs only: torch.special's and SciPy's float64 implementations differ by up
        # to ~1e-13 relative (different series and rational approximations), which later steps
        # amplify past the float64 tolerance; the op table checks these against SciPy at 1e-12.
        x = h.data.astype(np.float64)
        if p.dt.name != "float32" or (x.size and np.abs(x).max() > 8):
            return None
        names = sorted(_SPECIAL)
        fns = [_SPECIAL[n] for n in names]
        return Step(_many(fns), (h,), f"special.{{{', '.join(names)}}}(h)")
