"""``scipy.special``, differentiable: gammaln, gamma, digamma/psi, polygamma, beta/betaln,
erfc, erfinv, erfcinv, expit, logit, i0, i1, iv, ndtr, log_ndtr, logsumexp; erf is flowgrad's.

Each is a primitive with SciPy's forward and its derivative from the same family (gammaln' is
digamma, digamma' is polygamma(1), i0' is i1, ...), declared as an ``xp`` helper so second and
higher derivatives come from the same rules. Derivatives in an integer order or index (``n`` of
polygamma, ``v`` of iv) do not exist and raise.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import scipy.special as sc

from ..core.exports import xp_helper
from ..core.ops import apply, defop
from ..core.tensor import Tensor
from ..errors import NoDerivativeError
from ..ops import elementwise as ew
from ..ops import reduce as red

_SQRT_PI = math.sqrt(math.pi)
_SQRT_2PI = math.sqrt(2 * math.pi)


def _no_gradient(what: str) -> Any:
    def rule(xp: Any, g: Any, ans: Any, *args: Any, **kw: Any) -> Any:
        raise NoDerivativeError(f"{what} has no derivative (it is an integer order or index)")

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
    ("digamma", sc.digamma, digamma),
    ("polygamma", sc.polygamma, polygamma),
    ("iv", sc.iv, iv),
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
    "polygamma", "iv", "i0", "i1", "gamma", "betaln", "beta", "multigammaln", "logsumexp",
]:  # fmt: skip
    globals()[_name] = _plain_when_plain(globals()[_name])
