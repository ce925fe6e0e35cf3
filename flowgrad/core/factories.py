"""Tensor factories (``zeros``, ``randn``, ...) and the random seed.

Each takes ``dtype=``, ``device=`` and ``requires_grad=`` as in PyTorch; floats
default to ``fg.get_default_dtype()``. Random numbers come from one NumPy
``Generator`` that ``fg.manual_seed`` resets, so runs are reproducible.

>>> import flowgrad as fg
>>> _ = fg.manual_seed(0); a = fg.randn(2, 3)
>>> _ = fg.manual_seed(0); b = fg.randn(2, 3)
>>> bool((a == b).all()), a.dtype
(True, dtype('float32'))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes
from .tensor import Tensor, _check_requires_grad, as_array

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Seed flowgrad's random numbers (factories, ``nn.init``, dropout, shuffling).

    >>> import flowgrad as fg
    >>> _ = fg.manual_seed(42)
    """
    global _generator
    _generator = np.random.default_rng(int(seed))
    return _generator


seed = manual_seed


def default_generator() -> np.random.Generator:
    """The NumPy Generator behind flowgrad's random numbers."""
    return _generator


def get_rng_state() -> dict:
    """The generator's state, as plain data (JSON-serialisable)."""
    return _generator.bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a state from :func:`get_rng_state`."""
    _generator.bit_generator.state = state


def _shape(size: tuple) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    return tuple(int(s) for s in size)


def _finish(arr: np.ndarray, requires_grad: bool, device: Any, where: str) -> Tensor:
    dtypes.check_device(device)
    if requires_grad:
        _check_requires_grad(arr.dtype, where)
    return Tensor._wrap(arr, bool(requires_grad))


def _float(dtype: Any) -> np.dtype:
    return dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)


def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``fg.zeros(2, 3)`` or ``fg.zeros((2, 3))``."""
    return _finish(np.zeros(_shape(size), _float(dtype)), requires_grad, device, "zeros")


def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return _finish(np.ones(_shape(size), _float(dtype)), requires_grad, device, "ones")


def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor."""
    return _finish(np.empty(_shape(size), _float(dtype)), requires_grad, device, "empty")


def full(size: Any, fill_value: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value`` (its dtype inferred as PyTorch does)."""
    if dtype is None:
        dtype = as_array(fill_value).dtype
    return _finish(np.full(_shape((size,)), fill_value, dtypes.as_dtype(dtype)), requires_grad, device, "full")


def _like(x: Any, dtype: Any) -> tuple:
    shape = tuple(np.shape(x.data if isinstance(x, Tensor) else x))
    if dtype is None:
        dtype = x.dtype if hasattr(x, "dtype") else np.asarray(x).dtype
    return shape, dtypes.as_dtype(dtype)


def zeros_like(input: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    """Zeros of ``input``'s shape and dtype."""
    shape, dt = _like(input, dtype)
    return _finish(np.zeros(shape, dt), requires_grad, device, "zeros_like")


def ones_like(input: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    """Ones of ``input``'s shape and dtype."""
    shape, dt = _like(input, dtype)
    return _finish(np.ones(shape, dt), requires_grad, device, "ones_like")


def full_like(
    input: Any, fill_value: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:  # noqa: A002
    """``fill_value`` in ``input``'s shape and dtype."""
    shape, dt = _like(input, dtype)
    return _finish(np.full(shape, fill_value, dt), requires_grad, device, "full_like")


def arange(
    start: Any, end: Any = None, step: Any = 1, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """``start, start + step, ...`` below ``end``; int64 for ints, else the default float."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = dtypes.int64 if is_int else dtypes.get_default_dtype()
    return _finish(np.arange(start, end, step, dtype=dtypes.as_dtype(dtype)), requires_grad, device, "arange")


def linspace(
    start: Any, end: Any, steps: int, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    return _finish(np.linspace(start, end, int(steps), dtype=_float(dtype)), requires_grad, device, "linspace")


def eye(n: int, m: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """The identity matrix (n by m)."""
    return _finish(np.eye(int(n), None if m is None else int(m), dtype=_float(dtype)), requires_grad, device, "eye")


def randn(
    *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False, generator: Any = None
) -> Tensor:
    """Standard normal samples, e.g. ``fg.randn(10, 7, dtype=fg.float, requires_grad=True)``."""
    rng = generator or _generator
    arr = rng.standard_normal(_shape(size)).astype(_float(dtype), copy=False)
    return _finish(arr, requires_grad, device, "randn")


def rand(
    *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False, generator: Any = None
) -> Tensor:
    """Uniform samples on [0, 1)."""
    rng = generator or _generator
    arr = rng.random(_shape(size)).astype(_float(dtype), copy=False)
    return _finish(arr, requires_grad, device, "rand")


def randint(
    low: int,
    high: Any = None,
    size: Any = (),
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    generator: Any = None,
) -> Tensor:
    """Random integers in [low, high) (``randint(high, size=...)`` also works)."""
    if high is None:
        low, high = 0, low
    rng = generator or _generator
    arr = rng.integers(low, high, size=_shape((size,)) if not isinstance(size, tuple) else size)
    return _finish(arr.astype(dtypes.as_dtype(dtype or dtypes.int64)), requires_grad, device, "randint")


def randperm(n: int, dtype: Any = None, device: Any = None) -> Tensor:
    """A random permutation of ``0 .. n-1``."""
    return _finish(
        _generator.permutation(int(n)).astype(dtypes.as_dtype(dtype or dtypes.int64)), False, device, "randperm"
    )
