"""Attention as functions: ``F.scaled_dot_product_attention`` and the mask helpers the layers share.

Masks follow PyTorch's two conventions, which are opposite for booleans:

- ``scaled_dot_product_attention``: a boolean ``attn_mask`` is True where a query MAY attend;
- ``nn.MultiheadAttention`` and the Transformer layers: a boolean mask is True where a query
  may NOT attend (a padded key, a future position).

A float mask is added to the scores in both (``-inf`` forbids). A query row that may attend to
nothing gets zeros from ``scaled_dot_product_attention`` (PyTorch's math kernel does the same)
and NaN weights from ``MultiheadAttention(..., need_weights=True)`` (as PyTorch).

>>> import flowgrad as fg
>>> import flowgrad.nn.functional as F
>>> q = fg.ones(2, 3, 4)                       # (batch, length, features)
>>> F.scaled_dot_product_attention(q, q, q, is_causal=True).shape
(2, 3, 4)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import flowgrad as fg
from flowgrad.errors import ArgumentError, check_number

from .functional import as_input, dropout


def canonical_mask(mask: Any, name: str, where: str, like: fg.Tensor) -> fg.Tensor | None:
    """A MultiheadAttention-style mask as a float tensor to add: True (forbidden) becomes -inf.

    Only boolean and floating masks are meaningful; an integer mask would be ambiguous (0/1 as
    "keep" or as an additive score?), so it is refused, as PyTorch refuses it. The conversion is
    an op, not NumPy on the mask's values, so ``fg.compile`` replays it on each call's new mask.
    """
    if mask is None:
        return None
    mask = as_input(mask)
    if mask.dtype == np.bool_:
        return fg.where(mask, np.array(-np.inf, like.dtype), np.zeros((), like.dtype))
    if mask.dtype.kind != "f":
        raise fg.DTypeError(f"{where}: {name} must be a boolean or floating mask, got dtype {mask.dtype}")
    return mask if mask.dtype == like.dtype else mask.astype(like.dtype)


def causal_mask(size: int, dtype: Any = None) -> fg.Tensor:
    """A (size, size) float mask: 0 on and below the diagonal, -inf above (PyTorch's layout)."""
    dt = np.dtype(fg.get_default_dtype() if dtype is None else dtype)
    return fg.from_numpy(np.triu(np.full((size, size), -np.inf, dt), 1))


def softmax_rows(scores: fg.Tensor, empty_rows: str) -> fg.Tensor:
    """Softmax over the last axis; rows that are all -inf give zeros or NaN (``empty_rows``).

    Such rows are replaced by zeros before the softmax and their result is set afterwards, so
    no ``-inf - -inf`` is evaluated (NumPy would warn). The test for them is made of ops, not a
    Python branch on values, so a compiled step finds them in every batch, not only the first.
    """
    empty = (scores == -np.inf).all(axis=-1, keepdims=True)
    weights = fg.softmax(fg.where(empty, np.zeros((), scores.dtype), scores), -1)
    fill = np.zeros((), scores.dtype) if empty_rows == "zeros" else np.array(np.nan, scores.dtype)
    return fg.where(empty, fill, weights)


def _broadcast_error(where: str, what: str, shape: tuple, target: tuple) -> fg.ShapeError:
    return fg.ShapeError(f"{where}: {what} of shape {shape} does not broadcast to the scores' shape {target}")


def scaled_dot_product_attention(
    query: Any,
    key: Any,
    value: Any,
    attn_mask: Any = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> fg.Tensor:
    """``softmax(query @ key^T * scale + mask) @ value`` over the last two axes, as PyTorch.

    Shapes: query ``(..., L, E)``, key ``(..., S, E)``, value ``(..., S, Ev)``; the result is
    ``(..., L, Ev)``. ``scale`` defaults to ``1/sqrt(E)``. ``attn_mask`` broadcasts to
    ``(..., L, S)``: a boolean mask is True where a query may attend, a float mask is added.
    ``is_causal`` lets query i attend to keys 0..i (top-left aligned, as PyTorch) and cannot be
    combined with ``attn_mask``. ``dropout_p`` drops attention weights whenever it is positive
    (pass 0 at evaluation). ``enable_gqa`` shares each key/value head among query heads
    (axis -3) when there are fewer of them.

    >>> import flowgrad as fg
    >>> import flowgrad.nn.functional as F
    >>> q, k, v = fg.ones(1, 2, 4), fg.ones(1, 3, 4), fg.ones(1, 3, 5)
    >>> keep = fg.tensor([[True, True, False], [True, False, False]])
    >>> F.scaled_dot_product_attention(q, k, v, attn_mask=keep).shape
    (1, 2, 5)
    """
    where = "scaled_dot_product_attention"
    q = as_input(query)
    k, v = as_input(key, q), as_input(value, q)
    for name, t in (("query", q), ("key", k), ("value", v)):
        if t.ndim < 2:
            raise fg.ShapeError(f"{where}: {name} must have at least 2 dims (..., length, features), got {t.shape}")
    if q.dtype.kind != "f":
        raise fg.DTypeError(f"{where}: query must be floating, got dtype {q.dtype}")
    if q.shape[-1] != k.shape[-1]:
        raise fg.ShapeError(
            f"{where}: query has {q.shape[-1]} features but key has {k.shape[-1]} (shapes {q.shape}, {k.shape})"
        )
    if k.shape[-2] != v.shape[-2]:
        raise fg.ShapeError(
            f"{where}: key has {k.shape[-2]} positions but value has {v.shape[-2]} (shapes {k.shape}, {v.shape})"
        )
    if enable_gqa and q.ndim >= 3 and k.ndim >= 3 and k.shape[-3] != q.shape[-3]:
        k, v = _share_heads(k, q.shape[-3], where, "key"), _share_heads(v, q.shape[-3], where, "value")
    length, source = q.shape[-2], k.shape[-2]
    factor = 1.0 / math.sqrt(q.shape[-1]) if scale is None else check_number(scale, where, "scale")
    scores = (q @ k.transpose(-2, -1)) * factor
    target = scores.shape
    if is_causal:
        if attn_mask is not None:
            raise ArgumentError(f"{where}: give attn_mask or is_causal=True, not both")
        keep = np.tril(np.ones((length, source), bool))
        scores = fg.where(fg.from_numpy(keep), scores, np.array(-np.inf, scores.dtype))
    elif attn_mask is not None:
        mask = as_input(attn_mask)
        try:
            full = np.broadcast_shapes(mask.shape, scores.shape)
        except ValueError:
            raise _broadcast_error(where, "attn_mask", mask.shape, target) from None
        if full != scores.shape:
            raise _broadcast_error(where, "attn_mask", mask.shape, target)
        if mask.dtype == np.bool_:
            scores = fg.where(mask, scores, np.array(-np.inf, scores.dtype))
        elif mask.dtype.kind == "f":
            scores = scores + (mask if mask.dtype == scores.dtype else mask.astype(scores.dtype))
        else:
            raise fg.DTypeError(f"{where}: attn_mask must be boolean or floating, got dtype {mask.dtype}")
    # Without a mask no row can be all -inf (unless the inputs are): the plain softmax suffices.
    masked = is_causal or attn_mask is not None
    weights = softmax_rows(scores, "zeros") if masked else fg.softmax(scores, -1)
    if check_number(dropout_p, where, "dropout_p") > 0:
        weights = dropout(weights, dropout_p, True)
    return weights @ v


def _share_heads(t: fg.Tensor, heads: int, where: str, name: str) -> fg.Tensor:
    """Repeat each head of ``t`` (axis -3) so there are ``heads`` of them, as repeat_interleave."""
    have = t.shape[-3]
    if heads % have:
        raise fg.ShapeError(
            f"{where}: enable_gqa needs query heads ({heads}) to be a multiple of {name} heads ({have})"
        )
    lead, (s, e) = t.shape[:-3], t.shape[-2:]
    expanded = t.unsqueeze(-3).expand(*lead, have, heads // have, s, e)
    return expanded.reshape(*lead, heads, s, e)
