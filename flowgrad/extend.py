"""Define a function's gradient yourself, the HIPS autograd way: ``primitive`` and ``defvjp``.

``@primitive`` makes a NumPy function an op that flowgrad records without looking inside;
``defvjp`` gives one vector-Jacobian maker per argument, ``vjpmaker(ans, *args, **kwargs)``
returning ``g -> gradient``. Write the makers with ``flowgrad.numpy`` and second derivatives
follow. ``defjvp`` gives forward rules instead (``jvpmaker(g, ans, *args, **kwargs)``); an
argument with only a forward rule gets its gradient by applying the rule to each basis vector
(exact, one call per element). An argument with neither raises when its gradient is asked for:
never zeros. PyTorch's way, ``fg.autograd.Function``, is the other door to the same engine.

>>> import flowgrad as fg, flowgrad.numpy as np
>>> from flowgrad.extend import primitive, defvjp
>>> @primitive
... def logsumexp(x):
...     m = np.max(x)
...     return m + np.log(np.sum(np.exp(x - m)))
>>> defvjp(logsumexp, lambda ans, x: lambda g: g * np.exp(x - ans))
>>> fg.grad(logsumexp)(np.array([0.0, 0.0]))
array([0.5, 0.5])
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from .core import mode
from .core.ops import Op, apply
from .core.tensor import Tensor
from .errors import FlowgradError, NoDerivativeError, ShapeError

__all__ = [
    "primitive",
    "notrace_primitive",
    "defvjp",
    "defvjp_argnum",
    "defvjp_argnums",
    "defjvp",
    "defjvp_argnum",
    "Primitive",
]


def _merge(datas: tuple, positions: tuple, rest: tuple) -> list:
    full = list(rest)
    for p, d in zip(positions, datas):
        full[p] = d
    return full


class Primitive:
    """A function flowgrad records as one op, with user-given derivative rules."""

    def __init__(self, fun: Callable[..., Any]) -> None:
        self.fun = fun
        self.vjps: dict[int, Callable[..., Any]] = {}
        self.jvps: dict[int, Callable[..., Any]] = {}
        self.vjp_argnum: Callable[..., Any] | None = None
        self.vjp_argnums: Callable[..., Any] | None = None
        self.jvp_argnum: Callable[..., Any] | None = None
        self._ops: dict[tuple, Op] = {}
        functools.update_wrapper(self, fun)

    def __repr__(self) -> str:
        return f"<primitive {getattr(self.fun, '__name__', 'fun')}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        traced = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor))
        for k, v in kwargs.items():
            if isinstance(v, Tensor) and v.requires_grad:
                raise FlowgradError(
                    f"{self}: keyword argument {k!r} requires grad; pass values to differentiate positionally "
                    "(as autograd does)"
                )
        if not traced:
            return self.fun(*args, **kwargs)
        rest = tuple(None if i in traced else a for i, a in enumerate(args))
        kw = {k: (v._data if isinstance(v, Tensor) else v) for k, v in kwargs.items()}
        return apply(self._op(traced), tuple(args[i] for i in traced), {"rest": rest, "kw": kw})

    def _op(self, traced: tuple) -> Op:
        op = self._ops.get(traced)
        if op is None:
            name = getattr(self.fun, "__name__", "primitive")

            def forward(*datas: Any, rest: tuple, kw: dict) -> Any:
                # A primitive is opaque: transforms its function uses inside (fixed_point's
                # make_vjp) are top-level ones there, whatever transform is evaluating outside.
                state = mode.state
                depth, state.transform_depth = state.transform_depth, 0
                try:
                    return np.asarray(self.fun(*_merge(datas, traced, rest), **kw))
                finally:
                    state.transform_depth = depth

            if self.vjp_argnums is not None and not self.vjps and self.vjp_argnum is None:
                # One call for every argument that needs a gradient (odeint's adjoint solves once)
                op = Op(name, forward, vjp_all=self._rule_all(traced))
            else:
                op = Op(name, forward, tuple(self._rule(p, traced) for p in traced))
            self._ops[traced] = op
        return op

    def _rule_all(self, traced: tuple) -> Callable[..., Any]:
        def rule(xp: Any, g: Any, ans: Any, needs: list, *datas: Any, rest: tuple, kw: dict) -> list:
            positions = tuple(p for p, need in zip(traced, needs) if need)
            assert self.vjp_argnums is not None
            grads = iter(self.vjp_argnums(positions, ans, _merge(datas, traced, rest), kw)(g))
            out: list = []
            for p, need, data in zip(traced, needs, datas):
                out.append(self._shaped(p, next(grads), data) if need else None)
            return out

        return rule

    def _shaped(self, position: int, grad: Any, data: Any) -> Any:
        given, expected = np.shape(getattr(grad, "_data", grad)), np.shape(data)
        if given != expected:  # the engine would broadcast or fail far from the cause
            raise ShapeError(
                f"{self}: the derivative rule for argument {position} gave shape {given}, "
                f"but the argument has shape {expected}"
            )
        return grad

    def _rule(self, position: int, traced: tuple) -> Callable[..., Any]:
        def rule(xp: Any, g: Any, ans: Any, *datas: Any, rest: tuple, kw: dict) -> Any:
            return self._shaped(
                position, derivative(xp, g, ans, *datas, rest=rest, kw=kw), datas[traced.index(position)]
            )

        def derivative(xp: Any, g: Any, ans: Any, *datas: Any, rest: tuple, kw: dict) -> Any:
            args = _merge(datas, traced, rest)
            if position in self.vjps:
                return self.vjps[position](ans, *args, **kw)(g)
            if self.vjp_argnum is not None:
                return self.vjp_argnum(position, ans, args, kw)(g)
            if self.vjp_argnums is not None:
                return self.vjp_argnums((position,), ans, args, kw)(g)[0]
            if position in self.jvps or self.jvp_argnum is not None:
                return self._transposed_jvp(xp, position, g, ans, args, kw)
            raise NoDerivativeError(
                f"{self}: no derivative rule for argument {position}; give one with flowgrad.extend.defvjp (or defjvp)"
            )

        return rule

    def _transposed_jvp(self, xp: Any, position: int, g: Any, ans: Any, args: list, kw: dict) -> Any:
        """``J' g`` from the forward rule: one JVP per element of the argument."""
        x = args[position]
        shape = np.shape(x._data if isinstance(x, Tensor) else x)
        flat = []
        for k in range(int(np.prod(shape))):
            basis = np.zeros(int(np.prod(shape)))
            basis[k] = 1.0
            tangent = basis.reshape(shape)
            if position in self.jvps:
                column = self.jvps[position](tangent, ans, *args, **kw)
            else:
                column = self.jvp_argnum(position, tangent, ans, args, kw)  # type: ignore[misc]
            flat.append(xp.sum(g * column))
        if not flat:
            return xp.zeros(shape)
        return xp.reshape(xp.stack(flat), shape)


def primitive(fun: Callable[..., Any]) -> Primitive:
    """Mark ``fun`` (NumPy code) as a primitive whose derivatives :func:`defvjp` gives."""
    return Primitive(fun)


def notrace_primitive(fun: Callable[..., Any]) -> Callable[..., Any]:
    """``fun`` run on the plain values of its arguments, its result a constant (no gradient)."""

    @functools.wraps(fun)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        plain = [a.detach().numpy() if isinstance(a, Tensor) else a for a in args]
        return fun(*plain, **{k: v.detach().numpy() if isinstance(v, Tensor) else v for k, v in kwargs.items()})

    return wrapped


def _check(prim: Any, where: str) -> Primitive:
    if not isinstance(prim, Primitive):
        raise FlowgradError(f"{where}: expected a function made with @flowgrad.extend.primitive, got {prim!r}")
    return prim


def defvjp(prim: Any, *vjpmakers: Callable[..., Any] | None, argnums: Any = None) -> None:
    """One VJP maker per argument: ``vjpmaker(ans, *args, **kwargs)`` returns ``g -> gradient``
    (None: that argument has no rule)."""
    p = _check(prim, "defvjp")
    for n, maker in zip(argnums if argnums is not None else range(len(vjpmakers)), vjpmakers):
        if maker is not None:
            p.vjps[n] = maker
    p._ops.clear()  # an op made before carries the rules it was made with


def defvjp_argnum(prim: Any, vjpmaker: Callable[..., Any]) -> None:
    """One maker for every argument: ``vjpmaker(argnum, ans, args, kwargs)`` returns ``g -> gradient``."""
    p = _check(prim, "defvjp_argnum")
    p.vjp_argnum = vjpmaker
    p._ops.clear()


def defvjp_argnums(prim: Any, vjpmaker: Callable[..., Any]) -> None:
    """``vjpmaker(argnums, ans, args, kwargs)`` returns ``g -> (gradient per argnum)``."""
    p = _check(prim, "defvjp_argnums")
    p.vjp_argnums = vjpmaker
    p._ops.clear()  # ops made before this rule was given carry per-argument rules


def defjvp(prim: Any, *jvpmakers: Any, argnums: Any = None) -> None:
    """Forward rules: ``jvpmaker(g, ans, *args, **kwargs)`` is the derivative along ``g``;
    ``"same"`` for an argument in which the function is linear."""
    p = _check(prim, "defjvp")
    for n, maker in zip(argnums if argnums is not None else range(len(jvpmakers)), jvpmakers):
        if maker == "same":
            maker = _linear_in(p, n)
        if maker is not None:
            p.jvps[n] = maker


def _linear_in(p: Primitive, n: int) -> Callable[..., Any]:
    def jvp(g: Any, ans: Any, *args: Any, **kwargs: Any) -> Any:
        full = list(args)
        full[n] = g
        return p.fun(*full, **kwargs)

    return jvp


def defjvp_argnum(prim: Any, jvpmaker: Callable[..., Any]) -> None:
    """One forward rule for every argument: ``jvpmaker(argnum, g, ans, args, kwargs)``."""
    _check(prim, "defjvp_argnum").jvp_argnum = jvpmaker
