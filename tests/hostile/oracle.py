"""Comparing what a load gave with what it should have given, bit for bit."""

from __future__ import annotations

from typing import Any

import numpy as np

import flowgrad as fg

_KEY_TYPES = (type(None), bool, int, float, str, np.generic)


def difference(a: Any, b: Any, where: str = "state") -> str | None:
    """None when ``a`` and ``b`` are the same state: types, structure, dtypes, shapes and bytes."""
    if type(a) is not type(b):
        return f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, fg.Tensor):
        if a.requires_grad != b.requires_grad:
            return f"{where}: requires_grad {a.requires_grad} != {b.requires_grad}"
        a, b = a.numpy(), b.numpy()
    if isinstance(a, (np.ndarray, np.generic)):
        if a.dtype != b.dtype or np.shape(a) != np.shape(b):
            return f"{where}: {a.dtype}{np.shape(a)} != {b.dtype}{np.shape(b)}"
        if np.asarray(a).tobytes() != np.asarray(b).tobytes():
            return f"{where}: different bytes"
        return None
    if isinstance(a, dict):
        if list(a) != list(b):
            return f"{where}: keys {list(a)!r:.100} != {list(b)!r:.100}"
        for k in a:
            other = next(x for x in b if x == k)
            if type(k) is not type(other):
                return f"{where}: key {k!r} is {type(other).__name__}, not {type(k).__name__}"
            found = difference(a[k], b[k], f"{where}.{k}")
            if found:
                return found
        return None
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return f"{where}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            found = difference(x, y, f"{where}[{i}]")
            if found:
                return found
        return None
    if isinstance(a, float) and a != a:
        return None if b != b else f"{where}: nan != {b!r}"
    if a != b or repr(a) != repr(b):
        return f"{where}: {a!r:.60} != {b!r:.60}"
    return None


def malformed(value: Any, where: str = "state", depth: int = 0) -> str | None:
    """None when ``value`` is made only of what fg.load may return (docs/checkpoints.md's table)."""
    if depth > 1000:
        return f"{where}: nested {depth} deep"
    if isinstance(value, (fg.Tensor, np.ndarray, np.generic, type(None), bool, int, float, str)):
        if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind not in "biuf":
            return f"{where}: dtype {value.dtype}"
        return None
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            found = malformed(v, f"{where}[{i}]", depth + 1)
            if found:
                return found
        return None
    if isinstance(value, dict):
        for k, v in value.items():
            ok_key = isinstance(k, _KEY_TYPES) or (isinstance(k, tuple) and all(isinstance(x, _KEY_TYPES) for x in k))
            if not ok_key:
                return f"{where}: key of type {type(k).__name__}"
            found = malformed(v, f"{where}.{k}", depth + 1)
            if found:
                return found
        return None
    return f"{where}: {type(value).__name__} is not something fg.load returns"


def freeze(obj: Any) -> Any:
    """A deep copy of a state dict's values, to compare before and after a failed restore."""
    if isinstance(obj, fg.Tensor):
        copy = fg.from_numpy(obj.numpy().copy())
        copy.requires_grad = obj.requires_grad
        return copy
    if isinstance(obj, np.ndarray):
        return obj.copy()
    if isinstance(obj, dict):
        return type(obj)((k, freeze(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(freeze(v) for v in obj)
    return obj
