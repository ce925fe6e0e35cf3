"""``scipy.special``, differentiable: gammaln, gamma, rgamma, gammasgn, digamma/psi, polygamma,
gammainc, gammaincc, beta/betaln, betainc, erfc, erfinv, erfcinv, expit, logit, i0, i1, iv, ive,
j0, j1, jn, y0, y1, yn, ndtr, log_ndtr, multigammaln, logsumexp; erf is flowgrad's.

Each is a primitive with SciPy's forward and its derivative from the same family (gammaln' is
digamma, digamma' is polygamma(1), i0' is i1, jn' = (jn-1 - jn+1) / 2, ...), declared as an
``xp`` helper so second and higher derivatives come from the same rules. Derivatives in an
integer order or index (``n`` of polygamma, jn and yn, ``v`` of iv and ive) do not exist and
raise, and so do those in the shape parameters of the incomplete gamma and beta functions (a
series with no closed form; HIPS autograd has none either): ``NoDerivativeError``, never zeros.

>>> import flowgrad as fg
>>> from flowgrad.scipy.special import gammainc, j0, j1
>>> round(float(fg.grad(lambda x: gammainc(1.0, x))(0.5)), 10)  # d/dx (1 - e^-x) = e^-x
0.6065306597
>>> bool(abs(fg.grad(j0)(2.0) + j1(2.0)) < 1e-15)  # j0' = -j1
True
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import scipy.special as sc

from ..backend import is_array
from ..core.exports import xp_helper
from ..core.ops import apply, defop
from ..core.tensor import Tensor
from ..errors import NoDerivativeError
from ..ops import elementwise as ew
from ..ops import reduce as red

_SQRT_PI = math.sqrt(math.pi)
_SQRT_2PI = math.sqrt(2 * math.pi)


_ORDER = "it is an integer order or index"
_SHAPE = "a shape parameter: its derivative is a series with no closed form here; only x's is given"


def _no_gradient(what: str, why: str = _ORDER) -> Any:
    def rule(xp: Any, g: Any, ans: Any, *args: Any, **kw: Any) -> Any:
        raise NoDerivativeError(f"{what} has no derivative ({why})")

    return rule


GAMMALN = defop("gammaln", sc.gammaln, lambda xp, g, ans, x: g * xp.digamma(x))
DIGAMMA = defop("digamma", sc.digamma, lambda xp, g, ans, x: g * xp.polygamma(1, x))


def _in_dtype_of(fn: Any) -> Any:
    """SciPy's (order, x) functions compute in float64 for an integer order: keep x's dtype."""

    def forward(order: Any, x: Any) -> Any:
        out = fn(order, x)
        dtype = np.result_type(x, np.float32) if np.asarray(x).dtype.kind == "f" else out.dtype
        return np.asarray(out).astype(dtype, copy=False)

    return forward


def _weak_scalars(fn: Any) -> Any:
    """SciPy's gammainc(1.7, float32 array) computes in float64: keep the arrays' float dtype, a
    Python number beside them being weak as in NumPy's own arithmetic (and flowgrad's)."""

    def forward(*args: Any) -> Any:
        out = np.asarray(fn(*args))
        floats = [a for a in args if (is_array(a) or isinstance(a, np.generic)) and a.dtype.kind == "f"]
        if floats and out.dtype.kind == "f":
            return out.astype(np.result_type(*floats), copy=False)
        return out

    return forward


POLYGAMMA = defop(
    "polygamma",
    _in_dtype_of(sc.polygamma),
    _no_gradient("polygamma's order n"),
    lambda xp, g, ans, n, x: g * xp.polygamma(n + 1, x),
)
ERFC = defop("erfc", sc.erfc, lambda xp, g, ans, x: -g * (2 / _SQRT_PI) * xp.exp(-(x * x)))
ERFINV = defop("erfinv", sc.erfinv, lambda xp, g, ans, x: g * (_SQRT_PI / 2) * xp.exp(ans * ans))
ERFCINV = defop("erfcinv", sc.erfcinv, lambda xp, g, ans, x: -g * (_SQRT_PI / 2) * xp.exp(ans * ans))
EXPIT = defop("expit", sc.expit, lambda xp, g, ans, x: g * ans * (1 - ans))
LOGIT = defop("logit", sc.logit, lambda xp, g, ans, x: g / (x * (1 - x)))
IV = defop(
    "iv",
    _in_dtype_of(sc.iv),
    _no_gradient("iv's order v"),
    lambda xp, g, ans, v, x: g * (xp.iv(v - 1, x) + xp.iv(v + 1, x)) / 2,
)
NDTR = defop("ndtr", sc.ndtr, lambda xp, g, ans, x: g * xp.exp(-(x * x) / 2) / _SQRT_2PI)
LOG_NDTR = defop("log_ndtr", sc.log_ndtr, lambda xp, g, ans, x: g * xp.exp(-(x * x) / 2 - ans) / _SQRT_2PI)


def _xlogy(xp: Any, c: Any, x: Any) -> Any:
    """c * log(x), 0 where c == 0 (also at x == 0, where the density x^0 is 1). The log reads a
    safe 1 there, so a second derivative does not meet 0 * log(0)'s nan in the unused branch."""
    zero = c == 0
    return xp.where(zero, 0.0, c * xp.log(xp.where(zero, 1.0, x)))


def _gammainc_dx(xp: Any, a: Any, x: Any) -> Any:
    # d/dx P(a, x) = x^(a-1) e^-x / Gamma(a), in logs so that large a does not overflow x^(a-1)
    return xp.exp(_xlogy(xp, a - 1, x) - x - xp.gammaln(a))


GAMMAINC = defop(
    "gammainc",
    _weak_scalars(sc.gammainc),
    _no_gradient("gammainc's a", _SHAPE),
    lambda xp, g, ans, a, x: g * _gammainc_dx(xp, a, x),
)
GAMMAINCC = defop(
    "gammaincc",
    _weak_scalars(sc.gammaincc),
    _no_gradient("gammaincc's a", _SHAPE),
    lambda xp, g, ans, a, x: -g * _gammainc_dx(xp, a, x),
)
BETAINC = defop(  # d/dx I_x(a, b) = x^(a-1) (1-x)^(b-1) / B(a, b), the beta density
    "betainc",
    _weak_scalars(sc.betainc),
    _no_gradient("betainc's a", _SHAPE),
    _no_gradient("betainc's b", _SHAPE),
    lambda xp, g, ans, a, b, x: g * xp.exp(_xlogy(xp, a - 1, x) + _xlogy(xp, b - 1, 1 - x) - xp.betaln(a, b)),
)
# 1/Gamma(x)' = -digamma(x) / Gamma(x). At the poles of Gamma (x = 0, -1, ...) rgamma is 0 and
# digamma infinite: the product is nan there (the derivative exists, (-1)^n n!, but its own
# derivative would not come from this rule, so nan is given rather than a half-right number).
RGAMMA = defop("rgamma", sc.rgamma, lambda xp, g, ans, x: -g * xp.digamma(x) * ans)
# gammasgn is +1 or -1, constant between the poles of Gamma: its derivative is 0 wherever it has
# one (as sign's), so zeros are the true gradient and not a missing rule (autograd gives zeros).
GAMMASGN = defop("gammasgn", sc.gammasgn, lambda xp, g, ans, x: xp.zeros_like(g))

# Bessel functions of the first (j) and second (y) kind: J0' = -J1, Y0' = -Y1 and, for any order,
# Z_n' = (Z_{n-1} - Z_{n+1}) / 2 (Z_{-1} = -Z_1 for integer orders, which SciPy follows).
J0 = defop("j0", sc.j0, lambda xp, g, ans, x: -g * xp.j1(x))
J1 = defop("j1", sc.j1, lambda xp, g, ans, x: g * (xp.j0(x) - xp.jn(2, x)) / 2)
Y0 = defop("y0", sc.y0, lambda xp, g, ans, x: -g * xp.y1(x))
Y1 = defop("y1", sc.y1, lambda xp, g, ans, x: g * (xp.y0(x) - xp.yn(2, x)) / 2)
JN = defop(
    "jn",
    _in_dtype_of(sc.jn),
    _no_gradient("jn's order n"),
    lambda xp, g, ans, n, x: g * (xp.jn(n - 1, x) - xp.jn(n + 1, x)) / 2,
)
YN = defop(
    "yn",
    _in_dtype_of(sc.yn),
    _no_gradient("yn's order n"),
    lambda xp, g, ans, n, x: g * (xp.yn(n - 1, x) - xp.yn(n + 1, x)) / 2,
)
# ive(v, x) = iv(v, x) e^-|x|: its derivative is iv's, (I_{v-1} + I_{v+1}) / 2, scaled the same
# way, less sign(x) * ive (this form has no v / x, which is 0/0 at x = 0 for v = 0)
IVE = defop(
    "ive",
    _in_dtype_of(sc.ive),
    _no_gradient("ive's order v"),
    lambda xp, g, ans, v, x: g * ((xp.ive(v - 1, x) + xp.ive(v + 1, x)) / 2 - xp.sign(x) * ans),
)


_unary = ew._unary  # the elementwise wrapper: apply the primitive to one input

gammaln = _unary(GAMMALN)
digamma = psi = _unary(DIGAMMA)
erfc = _unary(ERFC)
erfinv = _unary(ERFINV)
erfcinv = _unary(ERFCINV)
expit = _unary(EXPIT)
logit = _unary(LOGIT)
ndtr = _unary(NDTR)
log_ndtr = _unary(LOG_NDTR)
erf = ew.erf
rgamma = _unary(RGAMMA)
gammasgn = _unary(GAMMASGN)
j0 = _unary(J0)
j1 = _unary(J1)
y0 = _unary(Y0)
y1 = _unary(Y1)


def gammainc(a: Any, x: Any) -> Tensor:
    """The regularized lower incomplete gamma function P(a, x), differentiable in ``x``."""
    return apply(GAMMAINC, (a, x))


def gammaincc(a: Any, x: Any) -> Tensor:
    """The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x), differentiable in ``x``."""
    return apply(GAMMAINCC, (a, x))


def betainc(a: Any, b: Any, x: Any) -> Tensor:
    """The regularized incomplete beta function I_x(a, b), differentiable in ``x``."""
    return apply(BETAINC, (a, b, x))


def jn(n: Any, x: Any) -> Tensor:
    """Bessel function of the first kind of integer order ``n``."""
    return apply(JN, (n, x))


def yn(n: Any, x: Any) -> Tensor:
    """Bessel function of the second kind of integer order ``n``."""
    return apply(YN, (n, x))


def ive(v: Any, x: Any) -> Tensor:
    """The exponentially scaled modified Bessel function ``iv(v, x) * exp(-|x|)``."""
    return apply(IVE, (v, x))


def polygamma(n: Any, x: Any) -> Tensor:
    """The ``n``-th derivative of digamma."""
    return apply(POLYGAMMA, (n, x))


def iv(v: Any, x: Any) -> Tensor:
    """Modified Bessel function of the first kind of order ``v``."""
    return apply(IV, (v, x))


def i0(x: Any) -> Tensor:
    """Modified Bessel function of order 0 (its derivative is i1)."""
    return iv(0, x)


def i1(x: Any) -> Tensor:
    """Modified Bessel function of order 1."""
    return iv(1, x)


def gamma(x: Any) -> Tensor:
    """The gamma function: sign * exp(gammaln(x)), the sign constant between poles."""
    sign = sc.gammasgn(x._data if isinstance(x, Tensor) else np.asarray(x))
    return ew.multiply(sign, ew.exp(gammaln(x)))


def betaln(a: Any, b: Any) -> Tensor:
    """log |B(a, b)| = gammaln(a) + gammaln(b) - gammaln(a + b)."""
    return gammaln(a) + gammaln(b) - gammaln(ew.add(a, b))


def beta(a: Any, b: Any) -> Tensor:
    """B(a, b), for positive arguments."""
    return ew.exp(betaln(a, b))


def multigammaln(a: Any, d: int) -> Tensor:
    """The log of the multivariate gamma function of dimension ``d``."""
    total: Any = (d * (d - 1) / 4) * math.log(math.pi)
    for j in range(d):
        total = total + gammaln(ew.subtract(a, j / 2))
    return total


def logsumexp(a: Any, axis: Any = None, b: Any = None, keepdims: bool = False, return_sign: bool = False) -> Any:
    """log(sum(b * exp(a))) over ``axis``, overflow-free; ``b`` weights (positive sums only)."""
    if b is not None:
        a = ew.add(a, ew.log(b))
    out = red.logsumexp(a, axis, keepdims)
    return (out, np.ones(np.shape(out._data))) if return_sign else out


for _name, _raw, _fn in [
    ("gammaln", sc.gammaln, gammaln),
    ("betaln", sc.betaln, betaln),
    ("digamma", sc.digamma, digamma),
    ("polygamma", sc.polygamma, polygamma),
    ("iv", sc.iv, iv),
    ("ive", sc.ive, ive),
    ("j0", sc.j0, j0),
    ("j1", sc.j1, j1),
    ("jn", sc.jn, jn),
    ("y0", sc.y0, y0),
    ("y1", sc.y1, y1),
    ("yn", sc.yn, yn),
    ("log_ndtr", sc.log_ndtr, log_ndtr),
]:
    xp_helper(_name, _raw, _fn)


def _plain_when_plain(fn: Any) -> Any:
    """``fn`` giving plain NumPy values for plain arguments, as SciPy's own functions do (and
    autograd's, outside a gradient); with a tensor among the arguments, the traced result."""

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        out = fn(*args, **kwargs)
        if _holds_tensor(args) or _holds_tensor(tuple(kwargs.values())):
            return out
        return tuple(_unwrap(o) for o in out) if isinstance(out, tuple) else _unwrap(out)

    return wrapped


def _holds_tensor(values: tuple) -> bool:
    return any(isinstance(v, Tensor) or (isinstance(v, (list, tuple)) and _holds_tensor(tuple(v))) for v in values)


def _unwrap(value: Any) -> Any:
    if not isinstance(value, Tensor):
        return value
    return value._data[()] if value._data.ndim == 0 else value._data  # a NumPy scalar for 0-d, as SciPy


for _name in [
    "erf", "gammaln", "digamma", "psi", "erfc", "erfinv", "erfcinv", "expit", "logit", "ndtr", "log_ndtr",
    "polygamma", "iv", "i0", "i1", "gamma", "betaln", "beta", "multigammaln", "logsumexp", "rgamma",
    "gammasgn", "gammainc", "gammaincc", "betainc", "j0", "j1", "y0", "y1", "jn", "yn", "ive",
]:  # fmt: skip
    globals()[_name] = _plain_when_plain(globals()[_name])
