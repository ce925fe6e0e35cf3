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

import math
from typing import Any

import numpy as np

from .. import backend, dtypes
from ..errors import ArgumentError, DTypeError, ShapeError, check_int, check_number, given
from .ops import apply, defop
from .sampling import numpy_generator
from .tensor import Tensor, _check_requires_grad, as_array


def manual_seed(seed: int) -> np.random.Generator:
    """Seed flowgrad's random numbers (factories, ``nn.init``, dropout, shuffling).

    >>> import flowgrad as fg
    >>> _ = fg.manual_seed(42)
    """
    return backend.manual_seed(seed)


seed = manual_seed


def default_generator() -> np.random.Generator:
    """The NumPy Generator behind flowgrad's random numbers."""
    return backend.default_rng()


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


def _fill(value: Any, dtype: Any, where: str, limit: Any = dtypes.float32) -> np.ndarray:
    """A fill value as a 0-d array: PyTorch's dtype for it, or ``dtype`` applied to the number.

    As PyTorch, a finite float beyond ``limit``'s range is refused rather than made inf.
    """
    if isinstance(value, (np.generic, Tensor)) or (backend.is_array(value) and value.ndim == 0):
        value = value.item()  # a Scalar in PyTorch: its dtype comes from the Python number
    if not isinstance(value, (bool, int, float, complex)):
        raise DTypeError(f"{where}: fill_value must be a number, got {given(value)}")
    fill = as_array(value, dtype)
    if fill.dtype.kind == "f" and isinstance(value, (int, float)) and math.isfinite(value):
        info = np.finfo(limit if fill.dtype.itemsize <= 4 else fill.dtype)
        top = float(info.max)
        if abs(value) > top + (top - float(np.nextafter(info.max, 0))) / 2:  # beyond what rounds to max
            raise DTypeError(f"{where}: fill_value {value} cannot be converted to {fill.dtype} without overflow")
    return fill


def full(size: Any, fill_value: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``; its dtype inferred as PyTorch does (float, int64 or bool).

    >>> import flowgrad as fg
    >>> fg.full((2,), 7), fg.full((2,), 0.1, dtype=fg.float64).tolist()
    (tensor([7, 7]), [0.1, 0.1])
    """
    fill = _fill(fill_value, dtype, "full")
    return _finish(np.full(_shape((size,), "full"), fill, fill.dtype), requires_grad, device, "full")


def _like(x: Any, dtype: Any, where: str) -> tuple:
    shape = tuple(np.shape(x._data if isinstance(x, Tensor) else x))
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
    """``fill_value`` in ``input``'s shape and dtype (cast as PyTorch casts: 2.7 fills an int tensor with 2)."""
    shape, dt = _like(input, dtype, "full_like")
    fill = _fill(fill_value, dt, "full_like", limit=dt if dt.kind == "f" else dtypes.float32)
    return _finish(np.full(shape, fill, dt), requires_grad, device, "full_like")


def empty_like(input: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    """An uninitialised tensor of ``input``'s shape and dtype."""
    shape, dt = _like(input, dtype, "empty_like")
    return _finish(np.empty(shape, dt), requires_grad, device, "empty_like")


def arange(
    start: Any, end: Any = None, step: Any = 1, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """``start, start + step, ...`` below ``end``; int64 for ints, else the default float.

    Floating values are ``start + i * step`` in float64, then rounded once to the dtype
    (PyTorch's own float32 values depend on its vector width, within an ulp of these).

    >>> import flowgrad as fg
    >>> fg.arange(3), fg.arange(0, 1, 0.25)
    (tensor([0, 1, 2]), tensor([0.00, 0.25, 0.50, 0.75]))
    """
    if end is None:
        start, end = 0, start
    for name, value in (("start", start), ("end", end), ("step", step)):  # NumPy's errors do not name arange
        check_number(value, "arange", name)
    if step == 0:
        raise ArgumentError("arange: step must not be 0")
    if (end - start) * step < 0:  # NumPy returns an empty array; PyTorch refuses, and so do we
        raise ArgumentError(f"arange: end={end} cannot be reached from start={start} with step={step}")
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = dtypes.int64 if is_int else dtypes.get_default_dtype()
    dt = dtypes.as_dtype(dtype)
    if dt.kind == "b":  # as PyTorch: no steps between False and True
        raise DTypeError("arange: dtype bool is not supported; use an integer or floating dtype")
    if dt.kind in "fc":
        n = math.ceil((float(end) - float(start)) / float(step))
        arr = dtypes.cast(float(start) + np.arange(n, dtype=np.float64) * float(step), dt)
    else:
        arr = np.arange(start, end, step, dtype=dt)
    return _finish(arr, requires_grad, device, "arange")


def linspace(
    start: Any, end: Any, steps: int, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive.

    As PyTorch, the first half counts up from ``start`` and the second half down from
    ``end`` (both ends exact), in float64, then rounded once to the dtype.

    >>> import flowgrad as fg
    >>> fg.linspace(0, 1, 5)
    tensor([0.00, 0.25, 0.50, 0.75, 1.00])
    """
    n = check_int(steps, "linspace", "steps")
    for name, value in (("start", start), ("end", end)):
        check_number(value, "linspace", name)
    dt = _float(dtype)
    if dt.kind == "b" and n > 1:  # as PyTorch
        raise DTypeError("linspace: dtype bool is not supported; use an integer or floating dtype")
    lo, hi = float(start), float(end)
    step = (hi - lo) / (n - 1) if n > 1 else 0.0
    i = np.arange(n, dtype=np.float64)
    values = np.where(i < n // 2, lo + step * i, hi - step * (n - 1 - i)) if n > 1 else np.full(n, lo)
    return _finish(dtypes.cast(values, dt), requires_grad, device, "linspace")


def eye(n: int, m: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """The identity matrix (n by m)."""
    return _finish(
        np.eye(check_int(n, "eye", "n"), None if m is None else check_int(m, "eye", "m"), dtype=_float(dtype)),
        requires_grad,
        device,
        "eye",
    )


def _draw_forward(kind: str, shape: tuple, dtype: np.dtype, generator: Any) -> np.ndarray:
    rng = numpy_generator(generator)  # at run time: the default stream as it is then
    samples = rng.standard_normal(shape) if kind == "normal" else rng.random(shape)
    return samples.astype(dtype, copy=False)


# Random draws are an op (no gradient), so that a step compiled with fg.compile draws new numbers
# on every replay, in the order eager would, instead of replaying the numbers of its trace.
DRAW = defop("draw", _draw_forward)


def _draw(kind: str, size: tuple, dtype: Any, device: Any, requires_grad: bool, generator: Any, where: str) -> Tensor:
    numpy_generator(generator)  # a wrong generator= is refused here, with its own message
    params = {"kind": kind, "shape": _shape(size, where), "dtype": _random_float(dtype, where), "generator": generator}
    t = apply(DRAW, (), params)
    return _finish(t._data, requires_grad, device, where) if requires_grad or device is not None else t


def randn(
    *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False, generator: Any = None
) -> Tensor:
    """Standard normal samples, e.g. ``fg.randn(10, 7, dtype=fg.float, requires_grad=True)``.

    >>> import flowgrad as fg
    >>> _ = fg.manual_seed(0); a = fg.randn(3)
    >>> _ = fg.manual_seed(0); bool((a == fg.randn(3)).all())
    True
    """
    return _draw("normal", size, dtype, device, requires_grad, generator, "randn")


def rand(
    *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False, generator: Any = None
) -> Tensor:
    """Uniform samples on [0, 1), e.g. ``fg.rand(2, 3)``; a step compiled with fg.compile draws anew each call.

    >>> import flowgrad as fg
    >>> fg.rand(2, 3, dtype=fg.float64).shape
    (2, 3)
    """
    return _draw("uniform", size, dtype, device, requires_grad, generator, "rand")


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
    rng = numpy_generator(generator)
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


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """``data`` as a tensor, sharing memory where it can (PyTorch's ``torch.as_tensor``).

    A tensor of the requested dtype is returned itself, an ndarray of that dtype is wrapped
    without a copy; anything else is converted as :func:`flowgrad.tensor` does.

    >>> import numpy as np, flowgrad as fg
    >>> a = np.zeros(2); t = fg.as_tensor(a); a[0] = 5; t
    tensor([5., 0.], dtype=fg.float64)
    >>> fg.as_tensor([1.5, 2.0]).dtype
    dtype('float32')
    """
    dtypes.check_device(device)
    want = None if dtype is None else dtypes.as_dtype(dtype)
    if isinstance(data, Tensor):
        return data if want is None or want == data.dtype else data.to(want)
    if backend.is_array(data) and (want is None or want == data.dtype):
        return _finish(as_array(data), False, device, "as_tensor")  # shares memory
    return _finish(as_array(data, want), False, device, "as_tensor")


def _need_size(size: tuple, where: str) -> None:
    if not size:  # as PyTorch: t.new_zeros(()) is a 0-d tensor, t.new_zeros() a mistake
        raise ArgumentError(f"{where}: missing the size, e.g. {where}(2, 3) or {where}((2, 3))")


# ----- Tensor.new_*: a new tensor with this one's dtype unless told otherwise (PyTorch's methods) -----
def new_tensor(self: Tensor, data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """``data`` copied into a new tensor of this tensor's dtype (or ``dtype``).

    >>> import flowgrad as fg
    >>> fg.zeros(2, dtype=fg.float64).new_tensor([0.1]).tolist()
    [0.1]
    """
    arr = as_array(data, self.dtype if dtype is None else dtype, copy=True)
    return _finish(arr, requires_grad, device, "new_tensor")


def new_full(
    self: Tensor, size: Any, fill_value: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value``, of this tensor's dtype (or ``dtype``)."""
    dt = self.dtype if dtype is None else dtypes.as_dtype(dtype)
    fill = _fill(fill_value, dt, "new_full", limit=dt if dt.kind == "f" else dtypes.float32)
    return _finish(np.full(_shape((size,), "new_full"), fill, dt), requires_grad, device, "new_full")


def new_zeros(self: Tensor, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros of ``size``, of this tensor's dtype (or ``dtype``): ``t.new_zeros(2, 3)``."""
    _need_size(size, "new_zeros")
    return zeros(*size, dtype=self.dtype if dtype is None else dtype, device=device, requires_grad=requires_grad)


def new_ones(self: Tensor, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones of ``size``, of this tensor's dtype (or ``dtype``)."""
    _need_size(size, "new_ones")
    return ones(*size, dtype=self.dtype if dtype is None else dtype, device=device, requires_grad=requires_grad)


def new_empty(self: Tensor, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor of ``size``, of this tensor's dtype (or ``dtype``)."""
    _need_size(size, "new_empty")
    return empty(*size, dtype=self.dtype if dtype is None else dtype, device=device, requires_grad=requires_grad)
