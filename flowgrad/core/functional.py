"""Functional gradients, as in HIPS autograd and JAX.

``grad(f, argnum)`` returns a function computing the gradient of scalar ``f``
with respect to argument ``argnum`` (an int or a tuple). Called with NumPy
arrays it returns NumPy arrays in their dtype; called with tensors it returns
tensors. Nesting works: ``grad(grad(f))``, ``hessian(f)``.

>>> import flowgrad.numpy as np
>>> from flowgrad import grad, hessian
>>> f = lambda x: np.sum(x ** 3)
>>> grad(f)(np.array([1.0, 2.0]))
array([ 3., 12.])
>>> hessian(f)(np.array([1.0, 2.0]))
array([[ 6.,  0.],
       [ 0., 12.]])
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..backend import is_array
from ..errors import DTypeError, ShapeError, check_int, given
from . import engine, mode
from .ops import apply
from .tensor import Tensor

__all__ = ["grad", "value_and_grad", "vjp", "jacobian", "hessian", "hvp", "elementwise_grad"]


# Complex arguments follow autograd's convention (ops/complexops.py): the gradient of a real
# result with respect to z = x + iy is dL/dx - i dL/dy. A complex result has no gradient (grad,
# jacobian: autograd's meaning there is a convention few expect); vjp takes one.
_COMPLEX = "{fname}: cannot differentiate {what}; use fg.vjp, or take np.real / np.abs of it first"


def _as_leaf(x: Any, fname: str) -> tuple[Tensor, bool]:
    """A fresh tensor to differentiate with respect to, and whether ``x`` was a tensor.

    If ``x`` is itself being differentiated by an outer ``grad``, the new leaf
    is an identity op on it, so the outer pass can see through this one.
    """
    if np.iscomplexobj(x._data if isinstance(x, Tensor) else x):
        mode.COMPLEX_TRACED = True  # apply checks every input's dtype from now on
    if isinstance(x, Tensor):
        if x._data.dtype.kind not in "fc":
            raise DTypeError(f"{fname}: cannot differentiate with respect to an integer tensor ({x.dtype})")
        if x.requires_grad and mode.state.grad_enabled:
            from ..ops.shape import COPY

            leaf = apply(COPY, (x,))
            return leaf, True
        return Tensor._wrap(x._data, True), True
    arr = np.asarray(x)
    if arr.dtype.kind not in "fc":
        if arr.dtype.kind in "iub":
            raise DTypeError(
                f"{fname}: cannot differentiate with respect to an integer or boolean value "
                f"({arr.dtype}); pass a float, e.g. 2.0 instead of 2"
            )
        raise DTypeError(f"{fname}: cannot differentiate with respect to {type(x).__name__}")
    return Tensor._wrap(arr, True), False


@contextlib.contextmanager
def _evaluating() -> Iterator[None]:
    """Evaluate a transform's function with grad on, counted as one more transform level."""
    state = mode.state
    state.transform_depth += 1
    try:
        with mode.enable_grad():
            yield
    finally:
        state.transform_depth -= 1


def _keep_graph(leaves: Any) -> bool:
    """Whether results must stay tensors in the graph: inside an outer transform's function, or
    when an input is itself being differentiated by an eager graph."""
    return mode.state.transform_depth > 0 or any(leaf.grad_fn is not None for leaf in leaves)


def _argnums(argnum: Any, fname: str = "grad") -> tuple[tuple[int, ...], bool]:
    if isinstance(argnum, (tuple, list)):
        return tuple(check_int(a, fname, "argnum") for a in argnum), True
    return (check_int(argnum, fname, "argnum"),), False


def _check_fun(fun: Any, fname: str) -> None:
    # Checked when the transform is made: calling a non-function later gave "'int' object is not callable".
    if not callable(fun):
        raise DTypeError(f"{fname}: expected a function to differentiate, got {given(fun)}")


def _check_argnum(argnum: int, args: list, fname: str) -> None:
    if argnum >= len(args):  # a TypeError, as Python's for missing arguments
        raise DTypeError(f"{fname}: argnum {argnum} given, but the function was called with {len(args)} arguments")


def _check_output(out: Any, fname: str, complex_ok: bool = False) -> None:
    # A string, None, a bool (np.allclose) or an int has no derivative: zeros would be a lie.
    kind = (out._data if isinstance(out, Tensor) else np.asarray(out)).dtype.kind
    if kind == "c" and complex_ok:
        return
    if kind == "c":
        raise DTypeError(_COMPLEX.format(fname=fname, what="a function with a complex result"))
    if kind != "f":
        raise DTypeError(
            f"{fname}: the function must return a floating-point value to differentiate, got {given(out)}"
            + (f" of dtype {out.dtype}" if isinstance(out, Tensor) else "")
        )


def _output(x: Any, was_tensor: bool, like: Any, keep: bool = False) -> Any:
    """A gradient as the caller gets it: a tensor for tensor inputs or inside an outer transform
    (``keep``), else NumPy data in the input's form."""
    if x is None:
        z = np.zeros_like(np.asarray(like._data if isinstance(like, Tensor) else like))
        return Tensor._wrap(z) if (was_tensor or keep) else (z if z.ndim else z[()])
    if was_tensor or keep:
        return x
    data = x._data
    if data.ndim == 0 and not is_array(like):
        return data[()]
    return data


def _leaves_of(x: Any, fname: str, leaves: list) -> Any:
    """Replace every array in a (nested) dict/list/tuple by a fresh leaf tensor."""
    if isinstance(x, dict):
        return type(x)((k, _leaves_of(v, fname, leaves)) for k, v in x.items())
    if isinstance(x, (list, tuple)) and not isinstance(x, Tensor):
        return type(x)(_leaves_of(v, fname, leaves) for v in x)
    leaf, was_tensor = _as_leaf(x, fname)
    leaves.append((leaf, was_tensor, x))
    return leaf


def _rebuild(x: Any, grads: Any) -> Any:
    """The gradients in the structure of the original argument ``x``."""
    if isinstance(x, dict):
        return type(x)((k, _rebuild(v, grads)) for k, v in x.items())
    if isinstance(x, (list, tuple)) and not isinstance(x, Tensor):
        return type(x)(_rebuild(v, grads) for v in x)
    return next(grads)


def value_and_grad(fun: Callable[..., Any], argnum: Any = 0) -> Callable[..., tuple]:
    """Like :func:`grad`, but the function returns ``(value, gradient)``.

    >>> import flowgrad.numpy as np, flowgrad as fg
    >>> fg.value_and_grad(lambda x: x ** 2)(3.0)
    (np.float64(9.0), np.float64(6.0))
    """
    _check_fun(fun, "grad")
    nums, multiple = _argnums(argnum)

    def wrapped(*positional: Any, **kwargs: Any) -> tuple:
        args = list(positional)
        for i in nums:
            _check_argnum(i, args, "grad")
        originals = {i: args[i] for i in nums}
        leaves: list = []
        for i in nums:
            args[i] = _leaves_of(args[i], "grad", leaves)
        tensors = [leaf for leaf, _, _ in leaves]
        kinds = [k for _, k, _ in leaves]
        with _evaluating():
            out = fun(*args, **kwargs)
        _check_output(out, "grad")
        keep = _keep_graph(tensors)
        if not isinstance(out, Tensor):
            out_arr = np.asarray(out)
            if out_arr.size != 1:
                raise ShapeError(f"grad: the function must return a scalar, got shape {out_arr.shape}")
            grads = [None] * len(tensors)
            value = out
        else:
            if out._data.size != 1:
                raise ShapeError(
                    f"grad: the function must return a scalar, got shape {out.shape}; "
                    "use fg.jacobian or fg.vjp for non-scalar outputs"
                )
            if out.requires_grad:
                grads = list(engine.grad(out, tensors, create_graph=keep, allow_unused=True))
            else:
                grads = [None] * len(tensors)
            value = out if (any(kinds) or keep) else _value(out)
        flat = iter([_output(g, k, orig, keep) for g, (_, k, orig) in zip(grads, leaves)])
        results = [_rebuild(originals[i], flat) for i in nums]
        return value, (tuple(results) if multiple else results[0])

    return wrapped


def _value(out: Tensor) -> Any:
    data = out._data
    return data[()] if data.ndim == 0 else data


def grad(fun: Callable[..., Any], argnum: Any = 0) -> Callable[..., Any]:
    """The gradient of scalar ``fun`` with respect to argument ``argnum``.

    >>> import flowgrad.numpy as np, flowgrad as fg
    >>> def mse(x, W, y):
    ...     return np.sum(np.square(y - np.dot(x, W)))
    >>> fg.grad(mse, 1)(np.ones(2), np.eye(2), np.zeros(2))
    array([[2., 2.],
           [2., 2.]])
    """
    vg = value_and_grad(fun, argnum)

    def gradfun(*args: Any, **kwargs: Any) -> Any:
        return vg(*args, **kwargs)[1]

    gradfun.__name__ = f"grad_{getattr(fun, '__name__', 'fun')}"
    gradfun.__doc__ = f"Gradient of {getattr(fun, '__name__', 'fun')} with respect to argument {argnum}."
    return gradfun


def vjp(fun: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[[Any], tuple]]:
    """``(fun(*primals), vjp_fn)`` where ``vjp_fn(g)`` gives one cotangent per primal (JAX).

    >>> import flowgrad.numpy as np, flowgrad as fg
    >>> out, f_vjp = fg.vjp(lambda x: x * 2, np.array([1.0, 2.0]))
    >>> f_vjp(np.array([1.0, 10.0]))
    (array([ 2., 20.]),)
    """
    _check_fun(fun, "vjp")
    leaves, kinds = zip(*[_as_leaf(p, "vjp") for p in primals]) if primals else ((), ())
    with _evaluating():
        out = fun(*leaves)
    _check_output(out, "vjp", complex_ok=True)
    keep = _keep_graph(leaves)

    def vjp_fn(g: Any) -> tuple:
        if not isinstance(out, Tensor) or not out.requires_grad:
            return tuple(_output(None, k, leaf, keep) for k, leaf in zip(kinds, leaves))
        keep_now = keep or _keep_graph(()) or (isinstance(g, Tensor) and g.requires_grad)
        gs = engine.grad(out, list(leaves), [g], retain_graph=True, create_graph=keep_now, allow_unused=True)
        return tuple(_output(gi, k, leaf, keep_now) for gi, k, leaf in zip(gs, kinds, leaves))

    value = out if (any(kinds) or keep or not isinstance(out, Tensor)) else _value(out)
    return value, vjp_fn


def jacobian(fun: Callable[..., Any], argnum: int = 0) -> Callable[..., Any]:
    """The Jacobian: shape ``out.shape + in.shape`` (autograd's layout).

    >>> import flowgrad.numpy as np, flowgrad as fg
    >>> fg.jacobian(lambda x: x ** 2)(np.array([1.0, 3.0]))
    array([[2., 0.],
           [0., 6.]])
    """

    _check_fun(fun, "jacobian")
    argnum = check_int(argnum, "jacobian", "argnum")

    def jac(*positional: Any, **kwargs: Any) -> Any:
        args = list(positional)
        _check_argnum(argnum, args, "jacobian")
        leaf, was_tensor = _as_leaf(args[argnum], "jacobian")
        args[argnum] = leaf
        with _evaluating():
            out = fun(*args, **kwargs)
        _check_output(out, "jacobian")
        nested = _keep_graph([leaf])
        out_shape = tuple(np.shape(out._data if isinstance(out, Tensor) else out))
        if not isinstance(out, Tensor) or not out.requires_grad:
            z = np.zeros(out_shape + leaf.shape, dtype=leaf.dtype)
            return Tensor._wrap(z) if (was_tensor or nested) else z
        rows = []
        n = int(np.prod(out_shape))
        for k in range(n):
            seed = np.zeros(n, dtype=out.dtype)
            seed[k] = 1
            (gk,) = engine.grad(
                out, [leaf], [seed.reshape(out_shape)], retain_graph=True, create_graph=nested, allow_unused=True
            )
            rows.append(gk if gk is not None else Tensor._wrap(np.zeros_like(leaf._data)))
        if nested:
            from ..ops.shape import reshape, stack

            return reshape(stack(rows), out_shape + leaf.shape)
        stacked = np.stack([r._data for r in rows]) if rows else np.zeros((0,) + leaf.shape, leaf.dtype)
        result = stacked.reshape(out_shape + leaf.shape)
        return Tensor._wrap(result) if was_tensor else result

    return jac


def hessian(fun: Callable[..., Any], argnum: int = 0) -> Callable[..., Any]:
    """The Hessian of scalar ``fun``: ``jacobian(grad(fun))``.

    >>> import flowgrad.numpy as np, flowgrad as fg
    >>> fg.hessian(lambda x: np.sum(x[0] * x[1] ** 2))(np.array([1.0, 2.0]))
    array([[0., 4.],
           [4., 2.]])
    """
    return jacobian(grad(fun, argnum), argnum)


def hvp(fun: Callable[..., Any], argnum: int = 0) -> Callable[..., Any]:
    """Hessian-vector product without forming the Hessian: ``hvp(f)(*args, v)``.

    >>> import flowgrad.numpy as np, flowgrad as fg
    >>> fg.hvp(lambda x: np.sum(x ** 3))(np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    array([ 6., 12.])
    """

    _check_fun(fun, "hvp")

    def inner(*args: Any) -> Any:
        *fargs, v = args

        def g_dot_v(*xs: Any) -> Any:
            g = grad(fun, argnum)(*xs)  # a tensor: this runs inside the outer grad
            return (g * v).sum()

        return grad(g_dot_v, argnum)(*fargs)

    return inner


def elementwise_grad(fun: Callable[..., Any], argnum: int = 0) -> Callable[..., Any]:
    """Sum of the Jacobian's rows: the derivative of an elementwise function, pointwise.

    >>> import flowgrad.numpy as np, flowgrad as fg
    >>> fg.elementwise_grad(np.tanh)(np.array([0.0, 2.0])).round(4)
    array([1.    , 0.0707])
    """

    _check_fun(fun, "elementwise_grad")
    argnum = check_int(argnum, "elementwise_grad", "argnum")

    def egrad(*positional: Any, **kwargs: Any) -> Any:
        args = list(positional)
        _check_argnum(argnum, args, "elementwise_grad")
        out, f_vjp = vjp(lambda x: fun(*args[:argnum], x, *args[argnum + 1 :], **kwargs), args[argnum])
        return f_vjp(np.ones_like(np.asarray(out._data if isinstance(out, Tensor) else out)))[0]

    return egrad
