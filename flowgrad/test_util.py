"""Gradient checks for functions of arrays, with autograd's ``test_util`` contract.

``check_grads(f)(*args)`` compares the reverse-mode product (``make_vjp``) and the forward-mode
product (``make_jvp``) of ``f`` with central differences along random directions, then does the
same to the derivative functions themselves up to ``order``. Arguments and results may be
arrays, numbers, and tuples, lists and dicts of them (nested). For tensors with
``requires_grad`` and PyTorch's conventions, see :mod:`flowgrad.testing` (``gradcheck``).

>>> import flowgrad.numpy as np
>>> from flowgrad.test_util import check_grads
>>> check_grads(lambda x, y: np.sin(x) * y, modes=["rev"])(np.array([0.5, 1.0]), 2.0)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .core.tensor import Tensor
from .core.transforms import make_jvp, make_vjp
from .errors import FlowgradError

__all__ = ["check_grads", "combo_check", "check_equivalent", "scalar_close", "check_vjp", "check_jvp"]

# Central differences in float64 with a step of 1e-6 carry an error of about
# eps**2 * f''' + ulp(f) / eps, so 1e-6 relative (or absolute, near zero) is what
# a correct derivative of a smooth function reliably meets; autograd uses the same.
EPS = 1e-6
TOL = 1e-6
RTOL = 1e-6


class GradientCheckError(FlowgradError, AssertionError):
    """An analytic derivative disagrees with central differences (an ``AssertionError``)."""


def scalar_close(a: Any, b: Any, atol: float = TOL, rtol: float = RTOL) -> bool:
    """True when ``a`` and ``b`` agree to ``atol`` absolutely or ``rtol`` relatively."""
    a, b = float(_plain(a)), float(_plain(b))
    return abs(a - b) < atol or abs(a - b) / abs(a + b) < rtol


def _plain(value: Any) -> Any:
    return value._data if isinstance(value, Tensor) else value


def _structure(value: Any) -> Any:
    """The container layout and every leaf's shape: what must match between a result and its
    expected counterpart (autograd compares vector spaces)."""
    if isinstance(value, dict):
        return {k: _structure(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_structure(v) for v in value)
    return np.shape(_plain(value))


def _leaves(value: Any) -> list:
    """The arrays of a (nested) dict/list/tuple, in a fixed order (dicts by sorted key)."""
    if isinstance(value, dict):
        return [leaf for k in sorted(value) for leaf in _leaves(value[k])]
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in _leaves(v)]
    return [np.asarray(_plain(value))]


def _map(fn: Callable[..., Any], value: Any, *others: Any) -> Any:
    """``fn`` applied to matching leaves of ``value`` and ``others``, in ``value``'s layout."""
    if isinstance(value, dict):
        return {k: _map(fn, value[k], *(o[k] for o in others)) for k in value}
    if isinstance(value, (list, tuple)):
        return type(value)(_map(fn, *parts) for parts in zip(value, *others))
    return fn(np.asarray(_plain(value)), *(np.asarray(_plain(o)) for o in others))


def _vector(value: Any) -> np.ndarray:
    """Every number of ``value`` as float64, a complex one as its real and imaginary parts: the
    real vector space autograd's inner products live in (Re sum conj(a) b)."""
    parts = []
    for leaf in _leaves(value):
        leaf = np.asarray(leaf)
        if leaf.dtype.kind == "c":
            parts += [leaf.real.astype(np.float64).ravel(), leaf.imag.astype(np.float64).ravel()]
        else:
            parts.append(leaf.astype(np.float64).ravel())
    return np.concatenate(parts) if parts else np.zeros(0)


def _random_like(value: Any, rng: np.random.Generator) -> Any:
    """A standard normal direction in ``value``'s space (complex leaves: both parts)."""

    def draw(leaf: np.ndarray) -> np.ndarray:
        if leaf.dtype.kind == "c":
            return rng.standard_normal(leaf.shape) + 1j * rng.standard_normal(leaf.shape)
        return np.asarray(rng.standard_normal(leaf.shape))

    return _map(draw, value)


def _conj(value: Any) -> Any:
    return _map(np.conj, value)


def _shifted(x: Any, v: Any, step: float) -> Any:
    def shift(a: np.ndarray, d: np.ndarray) -> np.ndarray:
        kind = np.complex128 if a.dtype.kind == "c" else np.float64
        return np.asarray(a.astype(kind) + step * d)

    return _map(shift, x, v)


def numerical_jvp(f: Callable[[Any], Any], x: Any, v: Any, eps: float = EPS) -> np.ndarray:
    """The directional derivative of ``f`` at ``x`` along ``v`` by central differences (flat)."""
    return (_vector(f(_shifted(x, v, eps / 2))) - _vector(f(_shifted(x, v, -eps / 2)))) / eps


def _name(f: Callable[..., Any]) -> str:
    return getattr(f, "__name__", repr(f))


def check_vjp(f: Callable[[Any], Any], x: Any, rng: np.random.Generator | None = None) -> None:
    """``<v, J' u>`` from ``make_vjp`` equals ``<u, J v>`` from central differences."""
    rng = rng or np.random.default_rng()
    vjp_fn, y = make_vjp(f)(x)
    v, u = _random_like(x, rng), _random_like(y, rng)
    back = vjp_fn(_conj(u))  # autograd's convention: conj(J' conj(u)) is the real adjoint J' u
    if _structure(back) != _structure(x):
        raise GradientCheckError(
            f"check_grads: the vjp of {_name(f)} has layout {_structure(back)}, but its input has {_structure(x)}"
        )
    exact = float(np.dot(_vector(v), _vector(_conj(back))))
    numeric = float(np.dot(_vector(u), numerical_jvp(f, x, v)))
    if not scalar_close(exact, numeric):
        raise GradientCheckError(
            f"check_grads: reverse-mode derivative of {_name(f)} at {x!r} is wrong:\n"
            f"  analytic <v, J'u> = {exact!r}\n  numeric  <u, Jv>  = {numeric!r}"
        )


def check_jvp(f: Callable[[Any], Any], x: Any, rng: np.random.Generator | None = None) -> None:
    """The forward-mode product from ``make_jvp`` equals central differences."""
    rng = rng or np.random.default_rng()
    v = _random_like(x, rng)
    _, tangent = make_jvp(f)(x)(v)
    numeric = numerical_jvp(f, x, v)
    exact = _vector(tangent)
    if exact.shape != numeric.shape:
        raise GradientCheckError(
            f"check_grads: the jvp of {_name(f)} has {exact.size} numbers, its output {numeric.size}"
        )
    w = rng.standard_normal(exact.shape)
    if not scalar_close(float(np.dot(w, exact)), float(np.dot(w, numeric))):
        raise GradientCheckError(
            f"check_grads: forward-mode derivative of {_name(f)} at {x!r} is wrong:\n"
            f"  analytic J v = {exact!r}\n  numeric  J v = {numeric!r}"
        )


def check_equivalent(x: Any, y: Any) -> None:
    """``x`` and ``y`` have the same layout and agree along a random direction."""
    if _structure(x) != _structure(y):
        raise GradientCheckError(f"check_equivalent: layouts differ: {_structure(x)} vs {_structure(y)}")
    w = np.random.default_rng().standard_normal(_vector(x).shape)
    a, b = float(np.dot(w, _vector(x))), float(np.dot(w, _vector(y)))
    if not scalar_close(a, b):
        raise GradientCheckError(f"check_equivalent: values differ:\n  {x!r}\n  {y!r}")


def _check(f: Callable[[Any], Any], x: Any, modes: Sequence[str], order: int) -> None:
    if "fwd" in modes:
        check_jvp(f, x)
        if order > 1:

            def jvp_of(x_and_v: tuple) -> Any:
                return make_jvp(f)(x_and_v[0])(x_and_v[1])[1]

            jvp_of.__name__ = f"jvp_{_name(f)}"
            _check(jvp_of, (x, _random_like(x, np.random.default_rng())), modes, order - 1)
    if "rev" in modes:
        check_vjp(f, x)
        if order > 1:

            def vjp_of(x_and_u: tuple) -> Any:
                return make_vjp(f)(x_and_u[0])[0](x_and_u[1])

            vjp_of.__name__ = f"vjp_{_name(f)}"
            _check(vjp_of, (x, _random_like(f(x), np.random.default_rng())), modes, order - 1)


def check_grads(
    fun: Callable[..., Any], argnum: int | tuple[int, ...] = 0, modes: Sequence[str] | None = None, order: int = 2
) -> Callable[..., None]:
    """``check_grads(fun, argnum, modes, order)(*args, **kwargs)`` checks the derivatives of
    ``fun`` with respect to argument ``argnum`` (or a tuple of them) at ``args``, in reverse
    (``"rev"``) and forward (``"fwd"``) mode, up to ``order``; raises ``AssertionError`` on a
    disagreement with central differences.

    >>> import flowgrad.numpy as np
    >>> check_grads(np.tanh)(np.array([0.1, -0.7]))
    """
    modes = ["fwd", "rev"] if modes is None else list(modes)
    if not set(modes) <= {"fwd", "rev"}:
        raise ValueError(f"check_grads: modes must be among 'fwd' and 'rev', got {modes!r}")

    def checker(*args: Any, **kwargs: Any) -> None:
        nums = argnum if isinstance(argnum, (tuple, list)) else (argnum,)

        def unary(x: Any) -> Any:
            full = list(args)
            for i, value in zip(nums, x if isinstance(argnum, (tuple, list)) else (x,)):
                full[i] = value
            return fun(*full, **kwargs)

        unary.__name__ = _name(fun)
        x = tuple(args[i] for i in nums) if isinstance(argnum, (tuple, list)) else args[argnum]
        _check(unary, x, modes, order)

    return checker


def combo_check(fun: Callable[..., Any], *check_args: Any, **check_kwargs: Any) -> Callable[..., None]:
    """``combo_check(fun, argnum, ...)(args_options, kw=options, ...)`` runs ``check_grads`` on
    every combination of the given argument values and keyword values.

    >>> import flowgrad.numpy as np
    >>> combo_check(np.sum, (0,), modes=["rev"])([np.ones((2, 3))], axis=[0, 1, None])
    """

    def run(*arg_options: Sequence[Any], **kwarg_options: Sequence[Any]) -> None:
        keyed = [[(k, v) for v in values] for k, values in kwarg_options.items()]
        for args in itertools.product(*arg_options):
            for kwargs in itertools.product(*keyed):
                check_grads(fun, *check_args, **check_kwargs)(*args, **dict(kwargs))

    return run
