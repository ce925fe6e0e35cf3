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
from ..errors import ArgumentError, DTypeError, ShapeError, check_int, check_number, given
from .tensor import Tensor, _check_requires_grad, as_array

# Created on first use: importing numpy.random costs ~15 ms, half of what flowgrad's import may add.
_generator: Any = None


def manual_seed(seed: int) -> np.random.Generator:
    """Seed flowgrad's random numbers (factories, ``nn.init``, dropout, shuffling).

    >>> import flowgrad as fg
    >>> _ = fg.manual_seed(42)
    """
    global _generator
    _generator = np.random.default_rng(check_int(seed, "manual_seed", "seed"))  # validated: NumPy's errors are bare
    return _generator


seed = manual_seed


def default_generator() -> np.random.Generator:
    """The NumPy Generator behind flowgrad's random numbers."""
    global _generator
    if _generator is None:
        _generator = np.random.default_rng()
    return _generator


def get_rng_state() -> dict:
    """The generator's state, as plain data (JSON-serialisable)."""
    return dict(default_generator().bit_generator.state)


def set_rng_state(state: dict) -> None:
    """Restore a state from :func:`get_rng_state`."""
    try:
        default_generator().bit_generator.state = state
    except (TypeError, ValueError, KeyError) as e:  # NumPy's bare errors, made to name the function
        raise ArgumentError(
            f"set_rng_state: expected a state from fg.get_rng_state(), got {given(state)} ({e})"
        ) from None


def _shape(size: tuple, where: str) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    # Validated here: int() took 2.5 and "3", and NumPy's errors for -1 do not name the function.
    shape = tuple(check_int(s, where, "size", minimum=None) for s in size)
    if any(s < 0 for s in shape):
        raise ShapeError(f"{where}: sizes must be >= 0, got {shape}")
    return shape


def _finish(arr: np.ndarray, requires_grad: bool, device: Any, where: str) -> Tensor:
    dtypes.check_device(device)
    if requires_grad:
        _check_requires_grad(arr.dtype, where)
    return Tensor._wrap(arr, bool(requires_grad))


def _float(dtype: Any) -> np.dtype:
    return dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)


def _random_float(dtype: Any, where: str) -> np.dtype:
    dt = _float(dtype)
    if dt.kind != "f":  # an integer dtype would silently give zeros
        raise DTypeError(f"{where}: dtype must be floating-point, got {dt}")
    return dt


def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``fg.zeros(2, 3)`` or ``fg.zeros((2, 3))``."""
    return _finish(np.zeros(_shape(size, "zeros"), _float(dtype)), requires_grad, device, "zeros")


def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return _finish(np.ones(_shape(size, "ones"), _float(dtype)), requires_grad, device, "ones")


def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor."""
    return _finish(np.empty(_shape(size, "empty"), _float(dtype)), requires_grad, device, "empty")


def full(size: Any, fill_value: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value`` (its dtype inferred as PyTorch does)."""
    if dtype is None:
        dtype = as_array(fill_value).dtype
    return _finish(np.full(_shape((size,), "full"), fill_value, dtypes.as_dtype(dtype)), requires_grad, device, "full")


def _like(x: Any, dtype: Any, where: str) -> tuple:
    shape = tuple(np.shape(x.data if isinstance(x, Tensor) else x))
    if dtype is None:
        dtype = x.dtype if hasattr(x, "dtype") else np.asarray(x).dtype
    dtype = dtypes.as_dtype(dtype)
    if dtype.kind not in "biufc":  # "abc" would give a tensor of strings
        raise DTypeError(f"{where}: expected a tensor or array of numbers, got {given(x)} of dtype {dtype}")
    return shape, dtype


def zeros_like(input: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    """Zeros of ``input``'s shape and dtype."""
    shape, dt = _like(input, dtype, "zeros_like")
    return _finish(np.zeros(shape, dt), requires_grad, device, "zeros_like")


def ones_like(input: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    """Ones of ``input``'s shape and dtype."""
    shape, dt = _like(input, dtype, "ones_like")
    return _finish(np.ones(shape, dt), requires_grad, device, "ones_like")


def full_like(
    input: Any, fill_value: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:  # noqa: A002
    """``fill_value`` in ``input``'s shape and dtype."""
    shape, dt = _like(input, dtype, "full_like")
    return _finish(np.full(shape, fill_value, dt), requires_grad, device, "full_like")


def arange(
    start: Any, end: Any = None, step: Any = 1, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """``start, start + step, ...`` below ``end``; int64 for ints, else the default float."""
    if end is None:
        start, end = 0, start
    for name, value in (("start", start), ("end", end), ("step", step)):  # NumPy's errors do not name arange
        check_number(value, "arange", name)
    if step == 0:
        raise ArgumentError("arange: step must not be 0")
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = dtypes.int64 if is_int else dtypes.get_default_dtype()
    return _finish(np.arange(start, end, step, dtype=dtypes.as_dtype(dtype)), requires_grad, device, "arange")


def linspace(
    start: Any, end: Any, steps: int, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    return _finish(
        np.linspace(start, end, check_int(steps, "linspace", "steps"), dtype=_float(dtype)),
        requires_grad,
        device,
        "linspace",
    )


def eye(n: int, m: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """The identity matrix (n by m)."""
    return _finish(
        np.eye(check_int(n, "eye", "n"), None if m is None else check_int(m, "eye", "m"), dtype=_float(dtype)),
        requires_grad,
        device,
        "eye",
    )


def randn(
    *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False, generator: Any = None
) -> Tensor:
    """Standard normal samples, e.g. ``fg.randn(10, 7, dtype=fg.float, requires_grad=True)``."""
    rng = generator or default_generator()
    arr = rng.standard_normal(_shape(size, "randn")).astype(_random_float(dtype, "randn"), copy=False)
    return _finish(arr, requires_grad, device, "randn")


def rand(
    *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False, generator: Any = None
) -> Tensor:
    """Uniform samples on [0, 1)."""
    rng = generator or default_generator()
    arr = rng.random(_shape(size, "rand")).astype(_random_float(dtype, "rand"), copy=False)
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
    low, high = check_int(low, "randint", "low", minimum=None), check_int(high, "randint", "high", minimum=None)
    if high <= low:  # NumPy's "low >= high" does not name the function
        raise ArgumentError(f"randint: high must be greater than low, got low={low}, high={high}")
    rng = generator or default_generator()
    arr = rng.integers(low, high, size=_shape(size if isinstance(size, tuple) else (size,), "randint"))
    return _finish(arr.astype(dtypes.as_dtype(dtype or dtypes.int64)), requires_grad, device, "randint")


def randperm(n: int, dtype: Any = None, device: Any = None) -> Tensor:
    """A random permutation of ``0 .. n-1``."""
    return _finish(
        default_generator().permutation(check_int(n, "randperm", "n")).astype(dtypes.as_dtype(dtype or dtypes.int64)),
        False,
        device,
        "randperm",
    )
