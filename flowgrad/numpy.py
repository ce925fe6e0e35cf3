"""``import flowgrad.numpy as np``: NumPy that ``fg.grad`` can differentiate.

On plain arrays every function here returns exactly what NumPy returns (it
*is* NumPy's function); when an argument is a flowgrad tensor - as inside
``fg.grad`` - it runs the differentiable primitive instead. Programs written
for HIPS autograd run with only their import lines changed.

>>> import flowgrad.numpy as np
>>> from flowgrad import grad
>>> def f(x):
...     return np.sum(np.tanh(x) ** 2)
>>> np.exp(np.array([0.0]))          # plain NumPy on plain arrays
array([1.])
>>> grad(f)(np.array([0.5, 1.0])).round(6)
array([0.726862, 0.6397  ])
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

import numpy as _np

from .core.tensor import Tensor as _Tensor
from .ops import elementwise as _ew
from .ops import linalg as _la
from .ops import reduce as _red
from .ops import shape as _sh


def _any_tensor(args: Any, kwargs: dict) -> bool:
    for a in args:
        if isinstance(a, _Tensor):
            return True
        if isinstance(a, (list, tuple)) and builtins.any(isinstance(b, _Tensor) for b in a):
            return True
    return builtins.any(isinstance(v, _Tensor) for v in kwargs.values())


def _dispatch(np_fn: Callable[..., Any], fg_fn: Callable[..., Any]) -> Callable[..., Any]:
    def fn(*args: Any, **kwargs: Any) -> Any:
        if _any_tensor(args, kwargs):
            return fg_fn(*args, **kwargs)
        return np_fn(*args, **kwargs)

    fn.__name__ = np_fn.__name__
    fn.__doc__ = f"NumPy's ``{np_fn.__name__}``; differentiable when given flowgrad tensors."
    fn.__wrapped__ = np_fn  # type: ignore[attr-defined]
    return fn


def _no_out(name: str, kwargs: dict) -> None:
    if kwargs.get("out") is not None:
        raise TypeError(f"flowgrad.numpy.{name}: out= is not supported for tensors")


def _reduction(fg_fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    def on_tensor(
        a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kw: Any
    ) -> Any:
        _no_out(name, {"out": out})
        if dtype is not None:
            a = _sh.astype(a, dtype)
        return fg_fn(a, axis=axis, keepdims=keepdims)

    return on_tensor


def _var_like(fg_fn: Callable[..., Any]) -> Callable[..., Any]:
    def on_tensor(
        a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: int = 0, keepdims: bool = False
    ) -> Any:
        if dtype is not None:
            a = _sh.astype(a, dtype)
        return fg_fn(a, axis=axis, ddof=ddof, keepdims=keepdims)

    return on_tensor


def _array_on_tensor(obj: Any, dtype: Any = None, **kwargs: Any) -> Any:
    if isinstance(obj, _Tensor):
        out = _sh.copy(obj)
    else:
        out = _sh.stack([_array_on_tensor(o) if isinstance(o, (list, tuple)) else o for o in obj])
    return out if dtype is None else _sh.astype(out, dtype)


def _clip_on_tensor(a: Any, a_min: Any = None, a_max: Any = None, **kwargs: Any) -> Any:
    return _ew.clip(a, kwargs.get("min", a_min), kwargs.get("max", a_max))


# ----- differentiable functions ---------------------------------------------------------
array = _dispatch(_np.array, _array_on_tensor)
asarray = _dispatch(_np.asarray, lambda a, dtype=None, **kw: a if dtype is None else _sh.astype(a, dtype))
add = _dispatch(_np.add, _ew.add)
subtract = _dispatch(_np.subtract, _ew.subtract)
multiply = _dispatch(_np.multiply, _ew.multiply)
divide = _dispatch(_np.divide, _ew.divide)
true_divide = _dispatch(_np.true_divide, _ew.true_divide)
power = _dispatch(_np.power, _ew.power)
floor_divide = _dispatch(_np.floor_divide, _ew.floor_divide)
remainder = mod = _dispatch(_np.remainder, _ew.remainder)
negative = _dispatch(_np.negative, _ew.negative)
maximum = _dispatch(_np.maximum, _ew.maximum)
minimum = _dispatch(_np.minimum, _ew.minimum)
where = _dispatch(_np.where, _ew.where)
clip = _dispatch(_np.clip, _clip_on_tensor)
exp = _dispatch(_np.exp, _ew.exp)
expm1 = _dispatch(_np.expm1, _ew.expm1)
log = _dispatch(_np.log, _ew.log)
log2 = _dispatch(_np.log2, _ew.log2)
log10 = _dispatch(_np.log10, _ew.log10)
log1p = _dispatch(_np.log1p, _ew.log1p)
sqrt = _dispatch(_np.sqrt, _ew.sqrt)
square = _dispatch(_np.square, _ew.square)
reciprocal = _dispatch(_np.reciprocal, _ew.reciprocal)
abs = absolute = _dispatch(_np.abs, _ew.abs)  # noqa: A001
sin = _dispatch(_np.sin, _ew.sin)
cos = _dispatch(_np.cos, _ew.cos)
tan = _dispatch(_np.tan, _ew.tan)
tanh = _dispatch(_np.tanh, _ew.tanh)
sinh = _dispatch(_np.sinh, _ew.sinh)
cosh = _dispatch(_np.cosh, _ew.cosh)
arctan = _dispatch(_np.arctan, _ew.arctan)
arcsin = _dispatch(_np.arcsin, _ew.arcsin)
arccos = _dispatch(_np.arccos, _ew.arccos)
sign = _dispatch(_np.sign, _ew.sign)
floor = _dispatch(_np.floor, _ew.floor)
ceil = _dispatch(_np.ceil, _ew.ceil)
round = _dispatch(_np.round, _ew.round)  # noqa: A001
isnan = _dispatch(_np.isnan, _ew.isnan)
isfinite = _dispatch(_np.isfinite, _ew.isfinite)
equal = _dispatch(_np.equal, _ew.equal)
not_equal = _dispatch(_np.not_equal, _ew.not_equal)
less = _dispatch(_np.less, _ew.less)
less_equal = _dispatch(_np.less_equal, _ew.less_equal)
greater = _dispatch(_np.greater, _ew.greater)
greater_equal = _dispatch(_np.greater_equal, _ew.greater_equal)
logical_and = _dispatch(_np.logical_and, _ew.logical_and)
logical_or = _dispatch(_np.logical_or, _ew.logical_or)
logical_not = _dispatch(_np.logical_not, _ew.logical_not)
logical_xor = _dispatch(_np.logical_xor, _ew.logical_xor)
logaddexp = _dispatch(_np.logaddexp, lambda a, b: _red.logsumexp(_sh.stack(_sh_broadcast(a, b)), axis=0))

sum = _dispatch(_np.sum, _reduction(_red.sum, "sum"))  # noqa: A001
mean = _dispatch(_np.mean, _reduction(_red.mean, "mean"))
prod = _dispatch(_np.prod, _reduction(_red.prod, "prod"))
max = amax = _dispatch(_np.max, _reduction(_red.max, "max"))  # noqa: A001
min = amin = _dispatch(_np.min, _reduction(_red.min, "min"))  # noqa: A001
var = _dispatch(_np.var, _var_like(_red.var))
std = _dispatch(_np.std, _var_like(_red.std))
argmax = _dispatch(_np.argmax, lambda a, axis=None, out=None, keepdims=False: _red.argmax(a, axis, keepdims))
argmin = _dispatch(_np.argmin, lambda a, axis=None, out=None, keepdims=False: _red.argmin(a, axis, keepdims))
cumsum = _dispatch(_np.cumsum, lambda a, axis=None, dtype=None, out=None: _red.cumsum(a, axis))

dot = _dispatch(_np.dot, _la.dot)
matmul = _dispatch(_np.matmul, _la.matmul)
outer = _dispatch(_np.outer, _la.outer)
einsum = _dispatch(_np.einsum, lambda subscripts, *ops, **kw: _la.einsum(subscripts, *ops))
inner = _dispatch(_np.inner, lambda a, b: _red.sum(_ew.multiply(a, b), axis=-1))

reshape = _dispatch(
    _np.reshape,
    lambda a, shape=None, order="C", newshape=None: _sh.reshape(a, shape if shape is not None else newshape),
)
transpose = _dispatch(_np.transpose, _sh.transpose)
swapaxes = _dispatch(_np.swapaxes, _sh.swapaxes)
moveaxis = _dispatch(_np.moveaxis, _sh.moveaxis)
broadcast_to = _dispatch(_np.broadcast_to, _sh.broadcast_to)
expand_dims = _dispatch(_np.expand_dims, _sh.expand_dims)
squeeze = _dispatch(_np.squeeze, _sh.squeeze)
flip = _dispatch(_np.flip, _sh.flip)
ravel = _dispatch(_np.ravel, _sh.ravel)
concatenate = _dispatch(_np.concatenate, _sh.concatenate)
stack = _dispatch(_np.stack, _sh.stack)
split = _dispatch(_np.split, _sh.split)
pad = _dispatch(_np.pad, _sh.pad)
copy = _dispatch(_np.copy, _sh.copy)
hstack = _dispatch(
    _np.hstack,
    lambda tup, **kw: _sh.concatenate(list(tup), axis=0 if builtins.all(_np.ndim(t) == 1 for t in tup) else 1),
)
vstack = _dispatch(
    _np.vstack,
    lambda tup, **kw: _sh.concatenate([_sh.reshape(t, (1, -1)) if _np.ndim(t) == 1 else t for t in tup], axis=0),
)


def _sh_broadcast(a: Any, b: Any) -> list:
    shape = _np.broadcast_shapes(_np.shape(a), _np.shape(b))
    return [_sh.broadcast_to(a, shape), _sh.broadcast_to(b, shape)]


def erf(x: Any) -> Any:
    """The error function (not in NumPy), differentiable."""
    return _ew.erf(x)


def sigmoid(x: Any) -> Any:
    """The logistic function (not in NumPy; an overflow-free ``1 / (1 + exp(-x))``)."""
    return _ew.sigmoid(x)


def sum_to(x: Any, shape: Any) -> Any:
    """Sum ``x`` down to ``shape`` (the inverse of broadcasting)."""
    return _sh.sum_to(x, shape)


def unfold2d(x: Any, kernel: Any, stride: Any, padding: Any, dilation: Any, pad_value: float = 0.0) -> Any:
    """Sliding windows of an (N, C, H, W) array (see ``flowgrad.ops.conv``)."""
    from .ops import conv

    return conv.unfold2d(x, kernel, stride, padding, dilation, pad_value)


def fold2d(cols: Any, shape: Any, kernel: Any, stride: Any, padding: Any, dilation: Any) -> Any:
    """The adjoint of ``unfold2d``."""
    from .ops import conv

    return conv.fold2d(cols, shape, kernel, stride, padding, dilation)


def index_scatter(g: Any, shape: Any, index: Any) -> Any:
    """Zeros of ``shape`` with ``g`` added at ``index``."""
    return _sh.index_scatter(g, shape, index)


# NumPy functions with no gradient (integer or boolean results, shapes, tests):
# tensors are unwrapped and NumPy answers.
_NO_GRADIENT = {
    "shape", "ndim", "size", "argsort", "allclose", "isclose", "array_equal", "isinf",
    "nonzero", "count_nonzero", "searchsorted", "unique", "any", "all", "result_type",
    "zeros_like", "ones_like", "empty_like", "full_like", "iscomplexobj", "isscalar",
}  # fmt: skip


def _unwrap(x: Any) -> Any:
    if isinstance(x, _Tensor):
        return x.data
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(v) for v in x)
    return x


def _plain(name: str, np_fn: Callable[..., Any]) -> Callable[..., Any]:
    strict = name not in _NO_GRADIENT

    def fn(*args: Any, **kwargs: Any) -> Any:
        if strict and _any_tensor(args, kwargs):
            for a in list(args) + list(kwargs.values()):
                if isinstance(a, _Tensor) and a.requires_grad:
                    raise TypeError(
                        f"flowgrad.numpy.{name} is not differentiable: it was given a tensor that "
                        "requires grad; use a differentiable function or .detach() the input"
                    )
        return np_fn(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()})

    fn.__name__ = name
    fn.__doc__ = getattr(np_fn, "__doc__", None)
    return fn


def __getattr__(name: str) -> Any:
    """Everything else comes from NumPy: constants and modules as they are, functions
    unwrapping tensors (refusing ones that require grad where a gradient would be lost)."""
    value = getattr(_np, name)
    if callable(value) and not isinstance(value, type) and not name.startswith("_"):
        value = _plain(name, value)
    globals()[name] = value
    return value


def _install_as_gradient_namespace() -> None:
    # Gradient rules run with this module as ``xp`` when building higher-order graphs.
    import sys

    from .core.ops import DIFF

    DIFF._base = sys.modules[__name__]


_install_as_gradient_namespace()
