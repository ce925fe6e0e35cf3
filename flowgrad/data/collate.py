"""``default_collate``: a list of items made one batch of tensors, as PyTorch's.

>>> import numpy as np, flowgrad as fg
>>> fg.data.default_collate([{"x": np.zeros(2)}, {"x": np.ones(2)}])["x"].shape
(2, 2)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

import flowgrad as fg

__all__ = ["default_collate"]


def default_collate(batch: list) -> Any:
    """Stack a list of items into a batch, as PyTorch's ``default_collate``.

    Tensors and ndarrays are stacked along a new first dimension, keeping their dtype;
    Python floats become float64, ints int64, bools bool; strings stay a list. Tuples and
    lists of fields are collated field by field (into a list, as PyTorch), dicts key by key.

    >>> import numpy as np, flowgrad as fg
    >>> x, y = fg.data.default_collate([(np.zeros(2, np.float32), 1), (np.ones(2, np.float32), 0)])
    >>> x.shape, x.dtype, y
    ((2, 2), dtype('float32'), tensor([1, 0]))
    """
    if not batch:
        raise fg.DataError("default_collate: the batch is empty")
    elem = batch[0]
    if isinstance(elem, (fg.Tensor, np.ndarray, np.generic)):
        return fg.from_numpy(_stack([np.asarray(e.detach() if isinstance(e, fg.Tensor) else e) for e in batch]))
    if isinstance(elem, (bool, int, float)):
        dtype = np.bool_ if isinstance(elem, bool) else np.int64 if isinstance(elem, int) else np.float64
        try:
            return fg.from_numpy(np.array(batch, dtype=dtype))
        except (TypeError, ValueError, OverflowError):  # [1, "a"]: NumPy's bare error
            kinds = sorted({type(e).__name__ for e in batch})
            raise fg.DataError(
                f"default_collate: cannot batch a {type(elem).__name__} with items of types {kinds}"
            ) from None
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple keeps its type
        return type(elem)(*(default_collate(list(f)) for f in zip(*batch)))
    if isinstance(elem, Sequence):
        sizes = {len(e) for e in batch}
        if len(sizes) > 1:
            raise fg.DataError(f"default_collate: items have different numbers of fields: {sorted(sizes)}")
        return [default_collate(list(f)) for f in zip(*batch)]
    raise fg.DataError(f"default_collate: cannot batch items of type {type(elem).__name__}; pass a collate_fn")


def _stack(arrays: list[np.ndarray]) -> np.ndarray:
    try:
        return np.stack(arrays)
    except ValueError:
        shapes = sorted({a.shape for a in arrays})
        raise fg.DataError(
            f"default_collate: cannot stack items of different shapes {', '.join(map(str, shapes))}"
        ) from None


def _convert(item: Any) -> Any:
    """An item with its arrays and numbers made tensors, unbatched (``batch_size=None``)."""
    if isinstance(item, fg.Tensor):
        return item
    if isinstance(item, (np.ndarray, np.generic)):
        return fg.from_numpy(np.asarray(item))
    if isinstance(item, Mapping):
        return {k: _convert(v) for k, v in item.items()}
    if isinstance(item, tuple) and hasattr(item, "_fields"):
        return type(item)(*(_convert(v) for v in item))
    if isinstance(item, (list, tuple)):
        return [_convert(v) for v in item]
    return item
