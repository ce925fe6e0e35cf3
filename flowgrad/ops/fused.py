"""Fused primitives for the hot end of a training step: softmax cross-entropy from logits.

``F.cross_entropy`` on (N, C) logits and integer labels (no class weights, no label
smoothing, mean or sum) is one primitive: one pass for the loss, and a gradient
``softmax(x) - onehot(labels)`` written into one fresh array, instead of log_softmax,
indexing, a product, a sum and a division, each with its own rule and temporary.
With ``create_graph=True`` the rule is composed from ``log_softmax`` and ``exp``,
so higher derivatives follow.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import is_array
from ..core.exports import export
from ..core.ops import apply, defop
from ..core.tensor import Tensor
from .reduce import log_softmax


def _pick(labels: np.ndarray, ignore_index: int) -> tuple:
    keep = labels != ignore_index
    return keep, np.where(keep, labels, 0)


def _forward(x: np.ndarray, labels: np.ndarray, ignore_index: int, mean: bool) -> np.ndarray:
    keep, safe = _pick(labels, ignore_index)
    shifted = x - x.max(axis=1, keepdims=True)
    picked = shifted[np.arange(len(x)), safe]
    np.exp(shifted, out=shifted)
    terms = np.log(shifted.sum(axis=1)) - picked
    if not keep.all():
        terms = np.where(keep, terms, 0)
    total = terms.sum()
    if mean:
        with np.errstate(invalid="ignore", divide="ignore"):  # all ignored: nan, as PyTorch
            total = total / np.asarray(keep.sum(), dtype=x.dtype)
    return np.asarray(total, dtype=x.dtype)


def _rule(xp: Any, g: Any, ans: Any, x: Any, labels: Any, ignore_index: int, mean: bool) -> Any:
    raw_labels = labels._data if isinstance(labels, Tensor) else labels
    keep, safe = _pick(raw_labels, ignore_index)
    count = keep.sum()
    n, c = x.shape
    if not is_array(g):  # create_graph: differentiable ops, the labels a constant
        dtype = x.dtype
        onehot = (np.arange(c) == safe[:, None]).astype(dtype)
        scale = keep[:, None].astype(dtype) / (count if mean else 1)
        return g * (xp.exp(log_softmax(x, 1)) - onehot) * scale
    p = x - x.max(axis=1, keepdims=True)
    np.exp(p, out=p)
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(n), safe] -= 1
    if not keep.all():
        p *= keep[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        p *= g / count if mean else g
    return p


SOFTMAX_CROSS_ENTROPY = defop("softmax_cross_entropy", _forward, _rule, None)


@export(top="softmax_cross_entropy")
def softmax_cross_entropy(logits: Any, labels: Any, ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Cross-entropy of (N, C) logits against N integer labels, mean (over kept labels) or sum.

    ``F.cross_entropy`` calls it when it can; labels equal to ``ignore_index`` count for nothing.

    >>> import flowgrad as fg
    >>> fg.softmax_cross_entropy(fg.tensor([[0.0, 0.0]]), fg.tensor([1]))
    tensor(0.6931)
    """
    return apply(
        SOFTMAX_CROSS_ENTROPY, (logits, labels), {"ignore_index": int(ignore_index), "mean": reduction == "mean"}
    )
