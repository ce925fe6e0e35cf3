"""autograd's ``misc.const_graph``: trace a function once, replay its computation after.

Built on ``fg.compile``: the first call with given argument shapes and dtypes runs the function
while every array computation that depends on the arguments is recorded (gradients taken
inside it too); later calls replay that record on the new values without running the Python
function. Anything that does not depend on the arguments (bound arguments, Python control flow)
is fixed at the first call, as in autograd. New shapes or dtypes trace again.

>>> import flowgrad.numpy as np
>>> from flowgrad.misc import const_graph
>>> calls = []
>>> def f(x, y):
...     calls.append(1)
...     return np.sum(np.sin(x) * y)
>>> g = const_graph(f)
>>> [round(float(g(np.array([0.5, 1.0]), 2.0)), 6), round(float(g(np.array([1.0, 0.0]), 3.0)), 6)]
[2.641793, 2.524413]
>>> len(calls)  # the second call replayed the record
1
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from ..core.compiler import CompiledFunction
from ..core.tensor import Tensor

__all__ = ["const_graph"]


def _as_array(value: Any) -> np.ndarray:
    if isinstance(value, Tensor):
        return value._data
    arr = np.asarray(value)
    return arr if arr.dtype.kind in "fc" else arr.astype(np.float64)


def _plain(value: Any) -> Any:
    if isinstance(value, Tensor):
        return value._data[()] if value._data.ndim == 0 else value._data
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def const_graph(fun: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
    """``const_graph(fun, *bound, **bound_kw)``: a function of ``fun``'s remaining positional
    arguments (arrays or numbers) that runs ``fun`` once per shape and dtype and replays the
    recorded computation after. Results are plain NumPy values, as autograd gives.

    >>> import flowgrad.numpy as np
    >>> from flowgrad.misc import const_graph
    >>> f = const_graph(lambda a, x: np.tanh(a * x), 2.0)
    >>> f(np.array([0.1, 0.2])).round(6)
    array([0.197375, 0.379949])
    """
    bound = functools.partial(fun, *args, **kwargs)

    def on_tensors(*arrays: np.ndarray) -> Any:
        # Tensors sharing the argument arrays: every op on them is recorded against the inputs
        # (plain numbers would be computed by NumPy and fixed at the first call).
        return bound(*(Tensor._wrap(a) for a in arrays))

    compiled = CompiledFunction(on_tensors)

    @functools.wraps(fun)
    def wrapped(*values: Any) -> Any:
        return _plain(compiled(*(_as_array(v) for v in values)))

    return wrapped
