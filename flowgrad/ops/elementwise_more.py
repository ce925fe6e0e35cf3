"""More elementwise math with NumPy's names: exp2, inverse hyperbolic functions, arctan2, hypot,
logaddexp2, fmax/fmin (NaN-ignoring), angle conversions, and real/imag/conj of real values.

>>> import flowgrad as fg, flowgrad.numpy as np
>>> float(fg.grad(np.arcsinh)(0.0)), float(fg.grad(lambda y: np.arctan2(y, 1.0))(0.0))
(1.0, 1.0)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core.exports import export
from ..core.ops import defop
from ..core.tensor import Tensor
from . import complexops as cx
from . import elementwise as ew

_LN2 = math.log(2.0)

EXP2 = defop("exp2", np.exp2, lambda xp, g, ans, x: g * ans * _LN2)
ARCSINH = defop("arcsinh", np.arcsinh, lambda xp, g, ans, x: g / xp.sqrt(x * x + 1))
ARCCOSH = defop("arccosh", np.arccosh, lambda xp, g, ans, x: g / xp.sqrt(x * x - 1))
ARCTANH = defop("arctanh", np.arctanh, lambda xp, g, ans, x: g / (1 - x * x))
ARCTAN2 = defop(
    "arctan2",
    np.arctan2,
    lambda xp, g, ans, y, x: g * x / (x * x + y * y),
    lambda xp, g, ans, y, x: -g * y / (x * x + y * y),
)
HYPOT = defop("hypot", np.hypot, lambda xp, g, ans, a, b: g * a / ans, lambda xp, g, ans, a, b: g * b / ans)
LOGADDEXP2 = defop(
    "logaddexp2",
    np.logaddexp2,
    lambda xp, g, ans, a, b: g * xp.exp2(a - ans),
    lambda xp, g, ans, a, b: g * xp.exp2(b - ans),
)
# NaN-ignoring maximum/minimum: where one side is NaN the other is the result and takes the
# gradient; ties split it in half, as maximum's do.
FMAX = defop("fmax", np.fmax, ew._max_rule(True), ew._max_rule(False))
FMIN = defop("fmin", np.fmin, ew._max_rule(True), ew._max_rule(False))


_unary, _binary = ew._unary, ew._binary  # the same wrappers as the other elementwise ops

exp2 = _unary(EXP2)
arcsinh = _unary(ARCSINH)
arccosh = _unary(ARCCOSH)
arctanh = _unary(ARCTANH)
arctan2 = _binary(ARCTAN2)
hypot = _binary(HYPOT)
logaddexp2 = _binary(LOGADDEXP2)
fmax = _binary(FMAX)
fmin = _binary(FMIN)


def deg2rad(x: Any) -> Tensor:
    """Degrees to radians (``x * pi / 180``)."""
    return ew.multiply(x, math.pi / 180)


def rad2deg(x: Any) -> Tensor:
    """Radians to degrees (``x * 180 / pi``)."""
    return ew.multiply(x, 180 / math.pi)


def _complex(x: Any) -> bool:
    return np.iscomplexobj(x._data if isinstance(x, Tensor) else x)


def real(x: Any) -> Any:
    """The real part (differentiable, complex values too: see ``ops/complexops.py``)."""
    return cx.real(x) if _complex(x) else x


def imag(x: Any) -> Tensor:
    """The imaginary part; of a real value, zeros (a constant, so its gradient is zero)."""
    if _complex(x):
        return cx.imag(x)
    return Tensor._wrap(np.zeros_like(x._data if isinstance(x, Tensor) else np.asarray(x)))


def angle(x: Any, deg: bool = False) -> Tensor:
    """The argument. Of a real value: 0 where x >= 0, pi (or 180) where x < 0, a constant on each
    side of 0, so its gradient is zero."""
    if _complex(x):
        return cx.angle(x, deg)
    return Tensor._wrap(np.angle(x._data if isinstance(x, Tensor) else np.asarray(x), deg=deg))


def conj(x: Any) -> Any:
    """The complex conjugate (differentiable); of a real value, the value itself."""
    return cx.conj(x) if _complex(x) else x


# ----- public names (core/exports.py): flowgrad.numpy's, the Tensor method's, flowgrad's ------------
for _fn, _numpy, _method, _top in [
    (exp2, "exp2", "exp2", "exp2"),
    (arcsinh, "arcsinh", "arcsinh asinh", "arcsinh asinh"),
    (arccosh, "arccosh", "arccosh acosh", "arccosh acosh"),
    (arctanh, "arctanh", "arctanh atanh", "arctanh atanh"),
    (arctan2, "arctan2", "arctan2 atan2", "arctan2 atan2"),
    (hypot, "hypot", "hypot", "hypot"),
    (logaddexp2, "logaddexp2", "logaddexp2", "logaddexp2"),
    (fmax, "fmax", "fmax", "fmax"),
    (fmin, "fmin", "fmin", "fmin"),
    (deg2rad, "deg2rad radians", "deg2rad", "deg2rad"),
    (rad2deg, "rad2deg degrees", "rad2deg", "rad2deg"),
    (real, "real", "", "real"),
    (imag, "imag", "", "imag"),
    (angle, "angle", "angle", "angle"),
    (conj, "conj conjugate", "conj", "conj"),
    (ew.abs, "fabs", "", ""),
]:
    export(_numpy, _method, _top)(_fn)
