"""Complex values under differentiation: real, imag, conj, angle and abs of complex arrays.

flowgrad follows HIPS autograd's convention for complex gradients: the gradient of a real loss
``L`` with respect to ``z = x + iy`` is ``dL/dx - i dL/dy``. A holomorphic op's rule is then its
real formula ``g * f'(z)`` unchanged (``core/ops.py`` lists the ops allowed complex values); the
ops here are not holomorphic and carry their own rules. A real input's gradient is the real part.

>>> import flowgrad.numpy as np, flowgrad as fg
>>> fg.grad(lambda z: np.abs(z) ** 2)(3.0 + 4.0j)   # d|z|^2/dx - i d|z|^2/dy = 2x - 2iy
np.complex128(6-8j)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.ops import allow_complex, apply, defop
from ..core.tensor import Tensor

__all__ = ["is_complex", "real", "imag", "conj", "angle", "abs"]


def is_complex(x: Any) -> bool:
    """Whether ``x`` (a tensor, array or number) holds complex values."""
    return np.iscomplexobj(x._data if isinstance(x, Tensor) else x)


# Rules (autograd's convention, g the gradient of the result):
#   real:  L(x)          -> g                 imag: L(y) -> -i g
#   conj:  z -> conj z   -> conj(g)           abs:  |z|  -> g conj(z) / |z|  (0 at 0)
#   angle: atan2(y, x)   -> g conj(i z) / |z|^2
REAL = defop("real", np.real, lambda xp, g, ans, x: g)
IMAG = defop("imag", np.imag, lambda xp, g, ans, x: g * -1j)
CONJ = defop("conj", np.conj, lambda xp, g, ans, x: xp.conj(g))
ANGLE = defop("angle", np.angle, lambda xp, g, ans, x: g * xp.conj(x * 1j) / xp.abs(x) ** 2)
ABS_COMPLEX = defop("abs_complex", np.abs, lambda xp, g, ans, x: g * xp.conj(x) / (ans + (ans == 0)))
allow_complex("real", "imag", "conj", "angle", "abs_complex")


def real(x: Any) -> Any:
    """The real part of a complex value (differentiable); a real value itself."""
    return apply(REAL, (x,)) if is_complex(x) else x


def imag(x: Any) -> Any:
    """The imaginary part of a complex value (differentiable); zeros for a real value."""
    return apply(IMAG, (x,))


def conj(x: Any) -> Any:
    """The complex conjugate (differentiable); a real value itself."""
    return apply(CONJ, (x,)) if is_complex(x) else x


def angle(x: Any, deg: bool = False) -> Any:
    """The argument of a complex value, in radians (or degrees), differentiable away from 0."""
    out = apply(ANGLE, (x,))
    return out * (180 / np.pi) if deg else out


def abs(x: Any) -> Any:  # noqa: A001 - NumPy's name
    """The modulus of a complex value, differentiable away from 0 (0 there, as autograd)."""
    return apply(ABS_COMPLEX, (x,))
