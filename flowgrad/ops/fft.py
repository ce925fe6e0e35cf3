"""``flowgrad.numpy.fft``: NumPy's discrete Fourier transforms, differentiable.

Four primitives carry every transform: ``fftn`` and ``ifftn`` (complex to complex), ``rfftn``
(real to half-spectrum) and ``irfftn`` (half-spectrum to real), each over given axes with
NumPy's ``s`` (zero-padding or truncation) and ``norm``. The 1-D and 2-D forms, ``hfft`` and
``ihfft`` are these with other arguments. Gradients follow autograd's convention for complex
values (``ops/complexops.py``); a real input's gradient is real.

>>> import flowgrad.numpy as np, flowgrad as fg
>>> x = np.array([1.0, 2.0, 0.5, -1.0])
>>> fg.grad(lambda x: np.sum(np.abs(np.fft.rfft(x)) ** 2))(x).round(6)
array([ 7., 10.,  5., -2.])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.exports import export
from ..core.ops import allow_complex, apply, defop
from ..core.tensor import Tensor
from ..errors import DTypeError, check_axis, check_int
from . import complexops as cx

_NORMS = ("backward", "ortho", "forward")
# The norm whose transform is the adjoint's scale: a forward transform scaled by 1/n has an
# adjoint scaled by 1/n, which the inverse transform has under "backward".
_DUAL = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


def _fit(xp: Any, g: Any, shape: tuple) -> Any:
    """``g`` truncated or zero-padded at the end of each axis to ``shape`` (its own adjoint's
    transpose: padding's gradient is truncation, and truncation's is padding)."""
    if tuple(g.shape) == tuple(shape):
        return g
    g = g[tuple(slice(0, n) for n in shape)]
    widths = [(0, max(0, n - m)) for n, m in zip(shape, g.shape)]
    return xp.pad(g, widths) if any(w for _, w in widths) else g


def _c2c_rule(inverse: bool) -> Any:
    # Complex-linear with a symmetric matrix: the rule is the same transform of g, over the same
    # axes (g already has the padded lengths), then undoing the padding or truncation.
    def rule(xp: Any, g: Any, ans: Any, x: Any, s: tuple, axes: tuple, norm: str) -> Any:
        fn = xp.fft.ifftn if inverse else xp.fft.fftn
        return _fit(xp, fn(g, axes=axes, norm=norm), x.shape)

    return rule


def _half_weights(n: int, length: int, axis: int, ndim: int, edge: float, inner: float) -> np.ndarray:
    """Weights along a half-spectrum axis of ``length`` for a full length ``n``: ``edge`` at the
    zero frequency (and at n/2 for even n), ``inner`` at the frequencies paired with a mirror."""
    w = np.full(length, inner)
    w[0] = edge
    if n % 2 == 0 and n // 2 < length:
        w[n // 2] = edge
    shape = [1] * ndim
    shape[axis] = length
    return w.reshape(shape)


def _rfftn_rule(xp: Any, g: Any, ans: Any, x: Any, s: tuple, axes: tuple, norm: str) -> Any:
    # d L/d x_k = Re sum_j G_j e^{-i t_jk} over the half spectrum = Re sum_j conj(G_j) e^{+i t_jk}:
    # an unscaled irfftn of conj(G), the paired frequencies halved (irfftn counts them twice).
    w = _half_weights(s[-1], g.shape[axes[-1]], axes[-1], g.ndim, 1.0, 0.5)
    back = xp.fft.irfftn(xp.conj(g) * w, s=s, axes=axes, norm=_DUAL[norm])
    return _fit(xp, back, x.shape)


def _irfftn_rule(xp: Any, g: Any, ans: Any, x: Any, s: tuple, axes: tuple, norm: str) -> Any:
    # y = Re sum_j c_j x_j e^{+i t_jk} / N with c_j = 2 at paired frequencies, 1 at the edges, so
    # the gradient is c_j conj(rfftn(g))_j / N (the imaginary parts irfftn ignores get zero).
    spec = xp.fft.rfftn(g, axes=axes, norm=_DUAL[norm])
    w = _half_weights(s[-1], spec.shape[axes[-1]], axes[-1], spec.ndim, 1.0, 2.0)
    return _fit(xp, xp.conj(spec) * w, x.shape)


def _forward(name: str) -> Any:
    # numpy.fft looked up when first called: ``import flowgrad`` does not load it
    def forward(x: np.ndarray, s: tuple, axes: tuple, norm: str) -> np.ndarray:
        return getattr(np.fft, name)(x, s=s, axes=axes, norm=norm)

    forward.__name__ = name
    return forward


FFTN = defop("fftn", _forward("fftn"), _c2c_rule(False))
IFFTN = defop("ifftn", _forward("ifftn"), _c2c_rule(True))
RFFTN = defop("rfftn", _forward("rfftn"), _rfftn_rule)
IRFFTN = defop("irfftn", _forward("irfftn"), _irfftn_rule)
allow_complex("fftn", "ifftn", "rfftn", "irfftn")


def _args(name: str, x: Any, s: Any, axes: Any, norm: Any, half_input: bool = False) -> tuple:
    """NumPy's (s, axes, norm) made explicit: axes non-negative and distinct, s one int per axis."""
    ndim = np.ndim(x._data if isinstance(x, Tensor) else x)
    if axes is None:
        axes = range(ndim) if s is None else range(ndim - len(s), ndim)
    axes = tuple(check_axis(a, ndim, f"fft.{name}", "axes") for a in axes)
    if len(set(axes)) != len(axes):
        raise NotImplementedError(f"fft.{name}: the gradient over a repeated axis is not implemented, got axes {axes}")
    if not axes:
        raise ValueError(f"fft.{name}: expected at least one axis to transform")
    shape = np.shape(x._data if isinstance(x, Tensor) else x)
    if s is None:
        s = [shape[a] for a in axes]
        if half_input:  # irfft: the full length of a half spectrum
            s[-1] = 2 * (s[-1] - 1)
    else:
        s = [check_int(n, f"fft.{name}", "s") for n in s]
        if len(s) != len(axes):
            raise ValueError(f"fft.{name}: s has {len(s)} lengths but {len(axes)} axes are transformed")
    if any(n < 1 for n in s):
        raise ValueError(f"fft.{name}: every transform length must be at least 1, got {tuple(s)}")
    norm = "backward" if norm is None else norm
    if norm not in _NORMS:
        raise ValueError(f"fft.{name}: norm must be one of None, 'backward', 'ortho', 'forward'; got {norm!r}")
    return tuple(s), axes, norm


def _real_input(name: str, x: Any) -> None:
    if cx.is_complex(x):
        raise DTypeError(f"fft.{name}: expects a real input, got a complex one (use fft.{name[1:]} for complex values)")


# ----- NumPy's functions --------------------------------------------------------------------
@export(numpy="fft.fftn")
def fftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Tensor:
    """The N-D discrete Fourier transform (over ``axes``; ``s`` pads or truncates)."""
    return apply(FFTN, (a,), dict(zip(("s", "axes", "norm"), _args("fftn", a, s, axes, norm))))


@export(numpy="fft.ifftn")
def ifftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Tensor:
    """The N-D inverse discrete Fourier transform."""
    return apply(IFFTN, (a,), dict(zip(("s", "axes", "norm"), _args("ifftn", a, s, axes, norm))))


@export(numpy="fft.rfftn")
def rfftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Tensor:
    """The N-D transform of a real input: the half spectrum along the last axis."""
    _real_input("rfftn", a)
    return apply(RFFTN, (a,), dict(zip(("s", "axes", "norm"), _args("rfftn", a, s, axes, norm))))


@export(numpy="fft.irfftn")
def irfftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Tensor:
    """The inverse of rfftn: a real result from a half spectrum."""
    return apply(IRFFTN, (a,), dict(zip(("s", "axes", "norm"), _args("irfftn", a, s, axes, norm, True))))


@export(numpy="fft.fft")
def fft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Tensor:
    """The 1-D discrete Fourier transform along ``axis``."""
    return fftn(a, None if n is None else [n], [axis], norm)


@export(numpy="fft.ifft")
def ifft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Tensor:
    """The 1-D inverse discrete Fourier transform."""
    return ifftn(a, None if n is None else [n], [axis], norm)


@export(numpy="fft.rfft")
def rfft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Tensor:
    """The 1-D transform of a real input (the half spectrum)."""
    return rfftn(a, None if n is None else [n], [axis], norm)


@export(numpy="fft.irfft")
def irfft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Tensor:
    """The inverse of rfft (``n``: the real result's length, 2 * (m - 1) by default)."""
    return irfftn(a, None if n is None else [n], [axis], norm)


@export(numpy="fft.fft2")
def fft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: Any = None, out: Any = None) -> Tensor:
    """The 2-D discrete Fourier transform."""
    return fftn(a, s, axes, norm)


@export(numpy="fft.ifft2")
def ifft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: Any = None, out: Any = None) -> Tensor:
    """The 2-D inverse discrete Fourier transform."""
    return ifftn(a, s, axes, norm)


@export(numpy="fft.rfft2")
def rfft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: Any = None, out: Any = None) -> Tensor:
    """The 2-D transform of a real input."""
    return rfftn(a, s, axes, norm)


@export(numpy="fft.irfft2")
def irfft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: Any = None, out: Any = None) -> Tensor:
    """The inverse of rfft2."""
    return irfftn(a, s, axes, norm)


def _swap(norm: Any) -> str:
    return _DUAL[_args("hfft", np.zeros(1), None, None, norm)[2]]


@export(numpy="fft.hfft")
def hfft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Tensor:
    """The transform of a Hermitian-symmetric signal given by its first half: a real spectrum."""
    return irfft(cx.conj(a), n, axis, _swap(norm))


@export(numpy="fft.ihfft")
def ihfft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Tensor:
    """The inverse of hfft: the half spectrum of a real input, conjugated."""
    return cx.conj(rfft(a, n, axis, _swap(norm)))
