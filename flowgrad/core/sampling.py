"""The samplers that go with PyTorch's ``torch.Generator`` (``flowgrad.backend.Generator``): ``normal`` (every overload),
``rand_like``, ``randn_like`` and ``randint_like``.

A ``Generator`` is a NumPy ``Generator`` (PCG64) with PyTorch's methods; every ``generator=``
argument takes one (or a NumPy Generator). Samples are not differentiable in their parameters:
``normal(mean, std)`` with a ``mean`` or ``std`` that requires grad is refused rather than given
PyTorch's zero gradient; write ``mean + std * fg.randn_like(mean)`` (the reparameterisation
trick) to differentiate through a draw.

>>> import flowgrad as fg
>>> g = fg.Generator().manual_seed(0)
>>> a = fg.normal(0.0, 1.0, size=(2,), generator=g)
>>> b = fg.normal(0.0, 1.0, size=(2,), generator=fg.Generator().manual_seed(0))
>>> bool((a == b).all())
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend, dtypes
from ..backend import Generator
from ..errors import ArgumentError, DTypeError, check_int
from .tensor import Tensor

__all__ = ["Generator", "numpy_generator", "normal", "rand_like", "randn_like", "randint_like"]


def numpy_generator(generator: Any) -> np.random.Generator:
    """The NumPy Generator behind a ``generator=`` argument (None: flowgrad's default stream)."""
    return backend.rng(generator)


def _plain(value: Any, name: str) -> Any:
    if isinstance(value, Tensor):
        if value.requires_grad:
            raise DTypeError(
                f"normal: samples are not differentiable in {name}; draw noise and shift it instead: "
                "mean + std * fg.randn_like(mean) (the reparameterisation trick)"
            )
        return value._data
    return value


def normal(
    mean: Any = 0.0,
    std: Any = 1.0,
    size: Any = None,
    *,
    generator: Any = None,
    out: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Normal samples with ``mean`` and ``std`` (tensors broadcast against each other, or
    numbers with ``size``): PyTorch's four overloads.

    >>> import flowgrad as fg
    >>> fg.normal(fg.zeros(3), 1.0).shape
    (3,)
    """
    dtypes.check_device(device)
    m, s = _plain(mean, "mean"), _plain(std, "std")
    tensors = [v for v in (mean, std) if isinstance(v, Tensor)]
    if size is None and not tensors:
        raise ArgumentError(
            "normal: with a number for both mean and std, give size=, as in fg.normal(0.0, 1.0, size=(3,))"
        )
    if np.any(np.asarray(s) < 0):
        raise ArgumentError(f"normal: std must be >= 0, got {std!r}")
    if size is not None:
        shape: tuple = (check_int(size, "normal", "size"),) if isinstance(size, int) else tuple(size)
        want = dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    else:
        shape = np.broadcast_shapes(*(np.shape(v._data) for v in tensors))
        want = np.result_type(*(v._data.dtype for v in tensors)) if dtype is None else dtypes.as_dtype(dtype)
    draw = numpy_generator(generator).standard_normal(shape)
    values = (np.asarray(m, dtype=np.float64) + np.asarray(s, dtype=np.float64) * draw).astype(want, copy=False)
    if out is not None:
        if not isinstance(out, Tensor) or out.shape != values.shape:
            raise ArgumentError(f"normal: out= must be a tensor of shape {values.shape}")
        out._data[...] = values
        return out
    result = Tensor._wrap(values)
    return result.requires_grad_(True) if requires_grad else result


def _like(name: str, x: Any, dtype: Any) -> tuple[tuple, Any]:
    if not isinstance(x, Tensor):
        raise DTypeError(f"{name}: expected a tensor, got {type(x).__name__}")
    return x.shape, (x._data.dtype if dtype is None else dtypes.as_dtype(dtype))


def _float_samples_like(
    name: str,
    kind: str,
    input: Any,
    dtype: Any,
    device: Any,
    requires_grad: bool,
    generator: Any,  # noqa: A002
) -> Tensor:
    """Samples of ``kind`` ("normal" or "uniform" on [0, 1)) with ``input``'s shape, in a float dtype."""
    dtypes.check_device(device)
    shape, want = _like(name, input, dtype)
    if np.dtype(want).kind != "f":
        raise DTypeError(f"{name}: {kind} samples need a float dtype, got {want}")
    rng = numpy_generator(generator)
    drawn = rng.standard_normal(shape) if kind == "normal" else rng.random(shape)
    result = Tensor._wrap(drawn.astype(want, copy=False))
    return result.requires_grad_(True) if requires_grad else result


def randn_like(
    input: Any,  # noqa: A002 - PyTorch's name
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    generator: Any = None,
) -> Tensor:
    """Standard normal samples with ``input``'s shape and dtype."""
    return _float_samples_like("randn_like", "normal", input, dtype, device, requires_grad, generator)


def rand_like(
    input: Any,  # noqa: A002
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    generator: Any = None,
) -> Tensor:
    """Uniform samples on [0, 1) with ``input``'s shape and dtype."""
    return _float_samples_like("rand_like", "uniform", input, dtype, device, requires_grad, generator)


def randint_like(
    input: Any,  # noqa: A002
    low: int,
    high: Any = None,
    *,
    dtype: Any = None,
    device: Any = None,
    generator: Any = None,
) -> Tensor:
    """Random integers in [low, high) with ``input``'s shape (``randint_like(x, high)`` too)."""
    dtypes.check_device(device)
    if high is None:
        low, high = 0, low
    low, high = (
        check_int(low, "randint_like", "low", minimum=None),
        check_int(high, "randint_like", "high", minimum=None),
    )
    if high <= low:
        raise ArgumentError(f"randint_like: high must be greater than low, got low={low}, high={high}")
    shape, want = _like("randint_like", input, dtype)
    return Tensor._wrap(numpy_generator(generator).integers(low, high, size=shape).astype(want))
