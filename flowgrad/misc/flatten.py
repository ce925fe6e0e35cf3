"""Nested containers of arrays as one flat vector, and back (differentiable both ways).

A nest holding a complex array flattens to a complex vector, as in autograd; its real leaves
come back as the real parts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import numpy as fnp
from ..core.tensor import Tensor


def _leaves(value: Any, out: list) -> Callable[[Any, list], Any]:
    """Collect the arrays of ``value`` (dicts in key order, as autograd) and return a rebuilder
    ``rebuild(vector, position)`` that takes them back from a flat vector."""
    if isinstance(value, dict):
        keys = sorted(value)
        parts = [_leaves(value[k], out) for k in keys]
        mapping: Any = type(value)
        return lambda vec, pos: mapping((k, p(vec, pos)) for k, p in zip(keys, parts))
    if isinstance(value, (list, tuple)) and not isinstance(value, Tensor):
        items = [_leaves(v, out) for v in value]
        sequence: Any = type(value)
        return lambda vec, pos: sequence(p(vec, pos) for p in items)
    is_complex = np.iscomplexobj(value._data if isinstance(value, Tensor) else value)
    shape = np.shape(value._data if isinstance(value, Tensor) else value)
    size = int(np.prod(shape))
    kind = complex if is_complex else float
    out.append(fnp.ravel(value) if isinstance(value, Tensor) else np.ravel(np.asarray(value, dtype=kind)))

    def rebuild(vec: Any, pos: list) -> Any:
        start = pos[0]
        pos[0] += size
        piece = vec[start : start + size]
        if not is_complex and np.iscomplexobj(vec._data if isinstance(vec, Tensor) else vec):
            piece = fnp.real(piece)  # a real leaf of a nest that also holds complex ones
        return fnp.reshape(piece, shape)

    return rebuild


def flatten(value: Any) -> tuple[Any, Callable[[Any], Any]]:
    """``(vector, unflatten)`` for a nest of dicts, lists and tuples of arrays and numbers.

    ``unflatten(vector)`` rebuilds the nest; both directions are differentiable, so
    ``grad(lambda v: loss(unflatten(v)))`` works.
    """
    pieces: list = []
    rebuild = _leaves(value, pieces)
    if not pieces:
        vector: Any = np.zeros(0)
    elif any(isinstance(p, Tensor) for p in pieces):
        vector = fnp.concatenate(pieces)
    else:
        vector = np.concatenate(pieces)

    def unflatten(vec: Any) -> Any:
        return rebuild(vec, [0])

    return vector, unflatten


def flatten_func(func: Callable[..., Any], example: Any) -> tuple[Callable[..., Any], Callable[[Any], Any], Any]:
    """``(flat_func, unflatten, flat_example)``: ``flat_func(vector, *args)`` is
    ``func(unflatten(vector), *args)``."""
    flat_example, unflatten = flatten(example)

    def flat_func(vector: Any, *args: Any, **kwargs: Any) -> Any:
        return func(unflatten(vector), *args, **kwargs)

    return flat_func, unflatten, flat_example
