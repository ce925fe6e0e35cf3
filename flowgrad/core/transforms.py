"""HIPS autograd's other transforms, built on ``grad``/``vjp``/``jacobian``: make_vjp, make_jvp,
make_hvp, hessian_tensor_product, tensor_jacobian_product, make_ggnvp, grad_and_aux,
grad_named, multigrad_dict, deriv, checkpoint and holomorphic_grad. They nest like the core ones
(see ``core/functional.py``).

>>> import flowgrad as fg, flowgrad.numpy as np
>>> f = lambda x: np.sum(np.sin(x))
>>> ans, jv = fg.make_jvp(f)(np.array([0.0, 1.0]))(np.array([1.0, 0.0]))
>>> float(jv)
1.0
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import DTypeError
from .functional import _check_fun, elementwise_grad, grad, jacobian, vjp
from .tensor import Tensor

__all__ = [
    "make_vjp",
    "make_jvp",
    "make_hvp",
    "hessian_tensor_product",
    "hessian_vector_product",
    "tensor_jacobian_product",
    "vector_jacobian_product",
    "make_ggnvp",
    "grad_and_aux",
    "grad_named",
    "multigrad_dict",
    "deriv",
    "checkpoint",
    "holomorphic_grad",
]

deriv = elementwise_grad  # autograd's name for the derivative of a scalar function, pointwise


def holomorphic_grad(fun: Callable[..., Any], argnum: int = 0) -> Callable[..., Any]:
    """The complex derivative ``f'(z)`` of a holomorphic ``fun`` (autograd's): the gradient of
    ``Re f``, which in autograd's convention (``dL/dx - i dL/dy``) is ``f'`` by Cauchy-Riemann.

    >>> import flowgrad as fg, flowgrad.numpy as np
    >>> complex(fg.holomorphic_grad(lambda z: z ** 3)(1.0 + 1.0j))  # 3 z**2
    6j
    """
    _check_fun(fun, "holomorphic_grad")

    def real_part(*args: Any, **kwargs: Any) -> Any:
        from ..ops.complexops import real

        return real(fun(*args, **kwargs))

    return grad(real_part, argnum)


def _at(fun: Callable[..., Any], argnum: int, args: tuple, kwargs: dict) -> Callable[[Any], Any]:
    """``fun`` as a function of its argument ``argnum`` alone, the others fixed."""

    def f(x: Any) -> Any:
        full = list(args)
        full[argnum] = x
        return fun(*full, **kwargs)

    return f


_CONTAINERS = (tuple, list, dict)


def _flat_problem(f: Callable[[Any], Any], x: Any) -> tuple:
    """``f`` and ``x`` with tuples, lists and dicts (in the argument and in the result) flattened
    into vectors, as autograd's transforms accept them: ``(flat_f, flat_x, unflatten_x, box,
    flatten)``; after ``flat_f`` has run, ``box.get("out")`` rebuilds a container result."""
    from ..misc.flatten import flatten

    flat_x, unflatten_x = flatten(x) if isinstance(x, _CONTAINERS) else (x, None)
    box: dict = {}

    def flat_f(v: Any) -> Any:
        out = f(unflatten_x(v) if unflatten_x is not None else v)
        if isinstance(out, _CONTAINERS):
            flat_out, box["out"] = flatten(out)
            return flat_out
        return out

    return flat_f, flat_x, unflatten_x, box, flatten


def make_vjp(fun: Callable[..., Any], argnum: int = 0) -> Callable[..., tuple]:
    """autograd's ``make_vjp``: ``make_vjp(f)(x)`` is ``(vjp_fn, f(x))`` (JAX's order reversed).

    >>> import flowgrad as fg, flowgrad.numpy as np
    >>> vjp_fn, ans = fg.make_vjp(lambda x: x * 3)(np.array([1.0, 2.0]))
    >>> vjp_fn(np.array([1.0, 1.0]))
    array([3., 3.])
    """
    _check_fun(fun, "make_vjp")

    def at_point(*args: Any, **kwargs: Any) -> tuple:
        flat_f, flat_x, unflatten_x, box, flatten = _flat_problem(_at(fun, argnum, args, kwargs), args[argnum])
        ans, f_vjp = vjp(flat_f, flat_x)
        unflatten_out = box.get("out")

        def vjp_fn(g: Any) -> Any:
            gx = f_vjp(flatten(g)[0] if unflatten_out is not None else g)[0]
            return unflatten_x(gx) if unflatten_x is not None else gx

        return vjp_fn, (unflatten_out(ans) if unflatten_out is not None else ans)

    return at_point


def make_jvp(fun: Callable[..., Any], argnum: int = 0) -> Callable[..., Callable[[Any], tuple]]:
    """Forward-mode product: ``make_jvp(f)(x)(v)`` is ``(f(x), J v)``, the directional derivative.

    Computed as the derivative of the (linear) vector-Jacobian map ``u -> J' u`` against ``v``:
    two reverse passes, exact, and nestable like every transform here.
    """
    _check_fun(fun, "make_jvp")

    def at_point(*args: Any, **kwargs: Any) -> Callable[[Any], tuple]:
        f, x, unflatten_x, box, flatten = _flat_problem(_at(fun, argnum, args, kwargs), args[argnum])

        def jvp(v: Any) -> tuple:
            if unflatten_x is not None:
                v = flatten(v)[0]
            ans, tangent = _jvp(v)
            unflatten_out = box.get("out")
            if unflatten_out is not None:
                return unflatten_out(ans), unflatten_out(tangent)
            return ans, tangent

        def _jvp(v: Any) -> tuple:
            ans, f_vjp = vjp(f, x)
            ans_data = ans._data if isinstance(ans, Tensor) else np.asarray(ans)
            u0 = np.zeros(np.shape(ans), dtype=ans_data.dtype if ans_data.dtype.kind == "c" else np.float64)
            complex_case = u0.dtype.kind == "c" or np.iscomplexobj(getattr(v, "_data", v))

            def pairing(u: Any) -> Any:
                from ..ops.complexops import conj, real
                from ..ops.reduce import sum as total

                if not complex_case:
                    return total(f_vjp(u)[0] * v)
                # <u, J v> over the reals; vjp_fn(g) is conj(J' conj(g)) in autograd's convention,
                # and the gradient this pairing gets is conj(J v).
                return total(real(f_vjp(conj(u))[0] * v))

            tangent = elementwise_grad(pairing)(u0) if np.ndim(u0) else grad(pairing)(u0)
            if complex_case:
                from ..ops.complexops import conj

                tangent = conj(tangent) if isinstance(tangent, Tensor) else np.conj(tangent)
            return ans, tangent

        return jvp

    return at_point


def make_hvp(fun: Callable[..., Any], argnum: int = 0) -> Callable[..., tuple]:
    """``make_hvp(f)(x)`` is ``(hvp_fn, grad f(x))``, with ``hvp_fn(v)`` the Hessian times ``v``
    (the gradient's forward pass done once for many products)."""
    return make_vjp(grad(fun, argnum), argnum)


def hessian_tensor_product(fun: Callable[..., Any], argnum: int = 0) -> Callable[..., Any]:
    """``h(*args, v)``: the Hessian of scalar ``fun`` contracted with ``v`` over all of ``v``'s axes.

    >>> import flowgrad as fg, flowgrad.numpy as np
    >>> fg.hessian_tensor_product(lambda x: np.sum(x ** 3))(np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    array([ 6., 12.])
    """
    fun_grad = grad(fun, argnum)

    def vector_dot_grad(*args: Any, **kwargs: Any) -> Any:
        from ..ops.compose import tensordot

        *fargs, vector = args
        return tensordot(fun_grad(*fargs, **kwargs), vector, np.ndim(vector))

    return grad(vector_dot_grad, argnum)


hessian_vector_product = hessian_tensor_product


def tensor_jacobian_product(fun: Callable[..., Any], argnum: int = 0) -> Callable[..., Any]:
    """``t(*args, v)``: ``v`` contracted with the Jacobian of ``fun`` over ``v``'s axes (``v' J``)."""

    def vector_dot_fun(*args: Any, **kwargs: Any) -> Any:
        from ..ops.compose import tensordot

        *fargs, vector = args
        return tensordot(vector, fun(*fargs, **kwargs), axes=np.ndim(vector))

    return jacobian(vector_dot_fun, argnum)


vector_jacobian_product = tensor_jacobian_product


def make_ggnvp(
    f: Callable[..., Any], g: Callable[..., Any] | None = None, f_argnum: int = 0
) -> Callable[..., Callable[[Any], Any]]:
    """Generalised Gauss-Newton products ``v -> J' H_g J v`` at a point, with ``J`` the Jacobian of
    ``f`` and ``H_g`` the Hessian of ``g`` at ``f(x)`` (default ``g``: half the squared norm over
    the last axis)."""
    from ..ops.reduce import sum as total

    g = g if g is not None else (lambda y: 0.5 * total(y**2, axis=-1))

    def at_point(*args: Any, **kwargs: Any) -> Callable[[Any], Any]:
        f_vjp, f_x = make_vjp(f, f_argnum)(*args, **kwargs)
        g_hvp, grad_g_x = make_vjp(grad(g))(f_x)
        zeros = np.zeros(np.shape(grad_g_x))
        f_jvp, _ = make_vjp(f_vjp)(zeros)  # J v as the vjp of the linear map u -> J' u

        def ggnvp(v: Any) -> Any:
            return f_vjp(g_hvp(f_jvp(v)))

        return ggnvp

    return at_point


def grad_and_aux(fun: Callable[..., Any], argnum: int = 0) -> Callable[..., tuple]:
    """For ``fun`` returning ``(value, aux)``: ``(gradient of value, aux)``.

    >>> import flowgrad as fg, flowgrad.numpy as np
    >>> fg.grad_and_aux(lambda x: (x ** 2, "note"))(3.0)
    (np.float64(6.0), 'note')
    """
    _check_fun(fun, "grad_and_aux")
    box: dict = {}

    def value_only(*args: Any, **kwargs: Any) -> Any:
        out = fun(*args, **kwargs)
        if not isinstance(out, tuple) or len(out) != 2:
            raise DTypeError(f"grad_and_aux: the function must return (value, aux), got {type(out).__name__}")
        box["aux"] = out[1]
        return out[0]

    def wrapped(*args: Any, **kwargs: Any) -> tuple:
        gradient = grad(value_only, argnum)(*args, **kwargs)
        return gradient, box.pop("aux")

    return wrapped


def grad_named(fun: Callable[..., Any], argname: str) -> Callable[..., Any]:
    """The gradient with respect to the argument called ``argname``."""
    names = list(inspect.signature(fun).parameters)
    if argname not in names:
        raise DTypeError(f"grad_named: {getattr(fun, '__name__', 'the function')} has no argument {argname!r}")
    return grad(fun, names.index(argname))


def multigrad_dict(fun: Callable[..., Any]) -> Callable[..., OrderedDict]:
    """Gradients with respect to every argument at once, as ``{argument name: gradient}``."""
    sig = inspect.signature(fun)

    def gradfun(*args: Any, **kwargs: Any) -> OrderedDict:
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        names = list(bound.arguments)

        def by_name(values: dict) -> Any:
            return fun(**values)

        grads = grad(by_name)(dict(bound.arguments))
        return OrderedDict((name, grads[name]) for name in names)

    return gradfun


def checkpoint(fun: Callable[..., Any]) -> Callable[..., Any]:
    """autograd's rematerialisation hint: the same function (flowgrad keeps what backward needs)."""
    return fun
