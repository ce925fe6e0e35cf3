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
import sys as _sys
import types as _types
from collections.abc import Callable
from typing import Any

import numpy as _np

from .core.exports import XP_HELPERS as _XP_HELPERS
from .core.exports import export as _export
from .core.exports import exported as _exported
from .core.tensor import Tensor as _Tensor
from .ops import elementwise as _ew
from .ops import linalg as _la
from .ops import reduce as _red
from .ops import shape as _sh
from .ops.compose import tensordot as _tensordot


def _has_tensor(x: Any) -> bool:
    if isinstance(x, _Tensor):
        return True
    if isinstance(x, (list, tuple)):
        return builtins.any(_has_tensor(v) for v in x)
    return False


def _any_tensor(args: Any, kwargs: dict) -> bool:
    """Whether a tensor is among the arguments, at any depth of lists and tuples."""
    return builtins.any(_has_tensor(a) for a in args) or builtins.any(_has_tensor(v) for v in kwargs.values())


# Functions whose arguments are sequences of arrays by nature; for the others, a list holding
# tensors (np.mean([a, b])) is made one array first, as NumPy would.
_TAKES_SEQUENCES = {"array", "asarray", "concatenate", "stack", "hstack", "vstack", "row_stack", "dstack",
                    "column_stack", "einsum", "append", "where", "select", "linspace"}  # fmt: skip


def _dispatch(np_fn: Callable[..., Any], fg_fn: Callable[..., Any]) -> Callable[..., Any]:
    sequences = np_fn.__name__ in _TAKES_SEQUENCES

    def fn(*args: Any, **kwargs: Any) -> Any:
        if _any_tensor(args, kwargs):
            if not sequences and args and isinstance(args[0], (list, tuple)) and _has_tensor(args[0]):
                args = (_array_on_tensor(args[0]), *args[1:])
            return fg_fn(*args, **kwargs)
        return np_fn(*args, **kwargs)

    fn.__name__ = np_fn.__name__
    fn.__doc__ = f"NumPy's ``{np_fn.__name__}``; differentiable when given flowgrad tensors."
    fn.__wrapped__ = np_fn  # type: ignore[attr-defined]
    return fn


def _reduction(fg_fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    def on_tensor(
        a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kw: Any
    ) -> Any:
        return fg_fn(*_red.reduction_args(f"flowgrad.numpy.{name}", a, axis, None, keepdims, None, dtype, out))

    return on_tensor


def _var_like(fg_fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    def on_tensor(
        a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: int = 0, keepdims: bool = False
    ) -> Any:
        x, ax, keep = _red.reduction_args(f"flowgrad.numpy.{name}", a, axis, None, keepdims, None, dtype, out)
        return fg_fn(x, ax, ddof, keep)

    return on_tensor


def _array_on_tensor(obj: Any, dtype: Any = None, **kwargs: Any) -> Any:
    if isinstance(obj, _Tensor):
        out = _sh.copy(obj)
    else:
        out = _sh.stack([_array_on_tensor(o) if isinstance(o, (list, tuple)) else o for o in obj])
    return out if dtype is None else _sh.astype(out, dtype)


def _full_on_tensor(shape: Any, fill_value: Any, dtype: Any = None, order: str = "C", **kw: Any) -> Any:
    """``full`` with a traced fill value: every element is that value (its gradient is the sum)."""
    value = fill_value if dtype is None else _sh.astype(fill_value, dtype)
    return _sh.copy(_sh.broadcast_to(value, (shape,) if isinstance(shape, int) else tuple(shape)))


def _clip_on_tensor(a: Any, a_min: Any = None, a_max: Any = None, **kwargs: Any) -> Any:
    return _ew.clip(a, kwargs.get("min", a_min), kwargs.get("max", a_max))


# ----- NumPy-signature adapters: functions with no primitive of their own under NumPy's name ------
def _axis_only(fn: Callable[..., Any]) -> Callable[..., Any]:
    return lambda a, axis=None, out=None, keepdims=False: fn(a, axis, keepdims)


for _fn, _names in [
    (_array_on_tensor, "array"),
    (lambda a, dtype=None, **kw: a if dtype is None else _sh.astype(a, dtype), "asarray"),
    (_clip_on_tensor, "clip"),
    (_full_on_tensor, "full"),
    (lambda a, b: _red.logsumexp(_sh.stack(_sh_broadcast(a, b)), axis=0), "logaddexp"),
    (_reduction(_red.sum, "sum"), "sum"),
    (_reduction(_red.mean, "mean"), "mean"),
    (_reduction(_red.prod, "prod"), "prod"),
    (_reduction(_red.max, "max"), "max amax"),
    (_reduction(_red.min, "min"), "min amin"),
    (_var_like(_red.var, "var"), "var"),
    (_var_like(_red.std, "std"), "std"),
    (_axis_only(_red.argmax), "argmax"),
    (_axis_only(_red.argmin), "argmin"),
    (lambda a, axis=None, dtype=None, out=None: _red.cumsum(a, axis), "cumsum"),
    (lambda subscripts, *ops, **kw: _la.einsum(subscripts, *ops), "einsum"),
    (lambda a, b: _ew.multiply(a, b) if 0 in (_np.ndim(a), _np.ndim(b)) else _tensordot(a, b, ([-1], [-1])), "inner"),
    (
        lambda a, shape=None, order="C", newshape=None: _sh.reshape(a, shape if shape is not None else newshape),
        "reshape",
    ),
]:
    _export(numpy=_names)(_fn)


# Every function declared for this namespace (core/exports.py): NumPy's on plain data, the
# differentiable one when an argument is a tensor.
# Functions declared for NumPy's submodules ("linalg.det"): {submodule: {name: function}}.
_DECLARED_IN: dict[str, dict[str, Callable[..., Any]]] = {}


def _submodule(name: str) -> Any:
    """``flowgrad.numpy.<name>`` (linalg, fft): the functions declared for it, NumPy's others.

    Made when first used when NumPy itself has not loaded that submodule yet (numpy.fft), so
    ``import flowgrad`` loads nothing beyond NumPy.
    """
    full = f"{__name__}.{name}"
    module = _sys.modules.get(full)
    if module is None:
        np_module = getattr(_np, name)
        module = _types.ModuleType(full, f"NumPy's ``{name}``; differentiable where flowgrad declares it.")

        def rest(attr: str) -> Any:
            value = getattr(np_module, attr)
            if callable(value) and not isinstance(value, type) and not attr.startswith("_"):
                value = _plain(f"{name}.{attr}", value)
            setattr(module, attr, value)
            return value

        setattr(module, "__getattr__", rest)  # noqa: B010 - a module-level __getattr__ (PEP 562)
        for attr, fn in _DECLARED_IN.get(name, {}).items():
            setattr(module, attr, _dispatch(getattr(np_module, attr), fn))
        _sys.modules[full] = module
        globals()[name] = module
    return module


for _name, _fn in _exported("numpy").items():
    if "." in _name:
        _sub, _attr = _name.split(".")
        _DECLARED_IN.setdefault(_sub, {})[_attr] = _fn
    else:
        globals()[_name] = _dispatch(getattr(_np, _name), _fn)
for _sub in _DECLARED_IN:
    if f"numpy.{_sub}" in _sys.modules:  # loaded by NumPy's own import: no cost to make ours now
        _submodule(_sub)


def _sh_broadcast(a: Any, b: Any) -> list:
    shape = _np.broadcast_shapes(_np.shape(a), _np.shape(b))
    return [_sh.broadcast_to(a, shape), _sh.broadcast_to(b, shape)]


def erf(x: Any) -> Any:
    """The error function (not in NumPy), differentiable."""
    return _ew.erf(x)


from .ops.compose_more import (  # noqa: E402, F401 - NumPy's index tricks, differentiable
    c_,
    make_diagonal,  # noqa: E402, F401 - autograd's inverse of np.diagonal
    r_,
)

_where_both = globals()["where"]


def where(condition: Any, x: Any = None, y: Any = None) -> Any:
    """NumPy's ``where``: ``where(c)`` gives the indexes where ``c`` holds; ``where(c, x, y)``
    picks from ``x`` and ``y`` (differentiable in both), keywords accepted as in autograd."""
    if x is None and y is None:
        return _np.where(_unwrap(condition))
    if x is None or y is None:
        raise ValueError("where: give both x and y, or neither")
    return _where_both(condition, x, y)


where.__wrapped__ = _np.where  # type: ignore[attr-defined]


# The helpers gradient rules call as xp.<name> (core/exports.py: sigmoid, sum_to, index_scatter,
# unfold2d, fold2d): differentiable here, so create_graph=True passes can use them.
for _name, (_, _on_tensors) in _XP_HELPERS.items():
    if _on_tensors is not None:
        globals()[_name] = _on_tensors


# NumPy functions with no gradient (integer or boolean results, shapes, tests):
# tensors are unwrapped and NumPy answers.
_NO_GRADIENT = {
    "shape", "ndim", "size", "argsort", "allclose", "isclose", "array_equal", "isinf",
    "nonzero", "count_nonzero", "searchsorted", "unique", "any", "all", "result_type",
    "zeros_like", "ones_like", "empty_like", "full_like", "iscomplexobj", "isscalar",
    "iscomplex", "isreal", "isrealobj", "isneginf", "isposinf", "signbit", "argwhere",
    "flatnonzero", "array_equiv", "shares_memory", "may_share_memory", "isfortran",
}  # fmt: skip


def _unwrap(x: Any) -> Any:
    if isinstance(x, _Tensor):
        return x._data
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(v) for v in x)
    if isinstance(x, dict):
        return {k: _unwrap(v) for k, v in x.items()}
    return x


def _traced(x: Any) -> bool:
    """Whether ``x`` holds, at any depth of lists, tuples and dicts, a tensor that requires grad."""
    if isinstance(x, _Tensor):
        return x.requires_grad
    if isinstance(x, (list, tuple)):
        return builtins.any(_traced(v) for v in x)
    if isinstance(x, dict):
        return builtins.any(_traced(v) for v in x.values())
    return False


def _plain(name: str, np_fn: Callable[..., Any]) -> Callable[..., Any]:
    strict = name not in _NO_GRADIENT

    def fn(*args: Any, **kwargs: Any) -> Any:
        # Nested lists too: np.select(cond, [a]) or np.append([[a0, a1]], b) would otherwise
        # unwrap a value being differentiated and drop its gradient silently.
        if strict and (_traced(args) or _traced(kwargs)):
            raise TypeError(
                f"flowgrad.numpy.{name} is not differentiable: it was given a tensor that "
                "requires grad; use a differentiable function or .detach() the input"
            )
        return np_fn(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()})

    fn.__name__ = name
    # A pointer, not NumPy's docstring: its examples would become doctests of this module once the
    # function is made (on first use), so what the suite collects would depend on test order.
    fn.__doc__ = f"NumPy's ``numpy.{name}``, given plain arrays: tensors are unwrapped" + (
        " (one that requires grad is refused: this function has no gradient)." if strict else "."
    )
    fn.__wrapped__ = np_fn  # type: ignore[attr-defined]  # inspect.signature and help() find NumPy's
    return fn


def __getattr__(name: str) -> Any:
    """Everything else comes from NumPy: constants and modules as they are, functions
    unwrapping tensors (refusing ones that require grad where a gradient would be lost)."""
    if name in _DECLARED_IN:  # fft: made on first use
        return _submodule(name)
    value = getattr(_np, name)
    if callable(value) and not isinstance(value, type) and not name.startswith("_"):
        value = _plain(name, value)
    globals()[name] = value
    return value


def _install_as_gradient_namespace() -> None:
    # Gradient rules run with this module as ``xp`` when building higher-order graphs.
    import sys

    from .core.ops import TENSOR_XP

    TENSOR_XP._base = sys.modules[__name__]


_install_as_gradient_namespace()
