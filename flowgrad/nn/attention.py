"""``nn.MultiheadAttention``: PyTorch's layer, parameter names and shapes, so state_dicts load both ways.

>>> import flowgrad as fg
>>> mha = fg.nn.MultiheadAttention(embed_dim=8, num_heads=2, batch_first=True)
>>> x = fg.ones(3, 5, 8)                       # (batch, length, embed_dim)
>>> out, weights = mha(x, x, x)
>>> out.shape, weights.shape                   # weights averaged over the heads
((3, 5, 8), (3, 5, 5))
>>> sorted(mha.state_dict())
['in_proj_bias', 'in_proj_weight', 'out_proj.bias', 'out_proj.weight']
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import flowgrad as fg
from flowgrad.errors import ArgumentError, check_int, check_number

from . import init
from .functional import as_input, dropout, linear
from .functional_attention import canonical_mask, scaled_dot_product_attention, softmax_rows
from .layers import Linear
from .module import Module
from .parameter import Parameter

_WHERE = "MultiheadAttention"


class MultiheadAttention(Module):
    """Attention over ``num_heads`` heads of ``embed_dim // num_heads`` features each.

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)`` returns ``(output, weights)`` (weights None when
    ``need_weights=False``). Inputs are ``(L, N, E)`` (``(N, L, E)`` with ``batch_first``) or
    unbatched ``(L, E)``. Boolean masks are True where attention is NOT allowed; float masks are
    added to the scores. ``attn_mask`` is ``(L, S)`` or ``(N * num_heads, L, S)``,
    ``key_padding_mask`` is ``(N, S)``. ``is_causal`` is a hint, as in PyTorch: it needs the
    causal ``attn_mask`` too.

    >>> import flowgrad as fg
    >>> mha = fg.nn.MultiheadAttention(4, 2, kdim=3, vdim=5)
    >>> q, kv = fg.ones(2, 1, 4), fg.ones(6, 1, 3)
    >>> out, _ = mha(q, kv, fg.ones(6, 1, 5), need_weights=False)
    >>> out.shape, mha.k_proj_weight.shape
    ((2, 1, 4), (4, 3))
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if device is not None:
            fg.device(device)  # raises for devices flowgrad cannot use
        self.embed_dim = check_int(embed_dim, _WHERE, "embed_dim", minimum=1)
        self.num_heads = check_int(num_heads, _WHERE, "num_heads", minimum=1)
        if self.embed_dim % self.num_heads:
            raise ArgumentError(
                f"{_WHERE}: embed_dim must be divisible by num_heads, got embed_dim={self.embed_dim}, "
                f"num_heads={self.num_heads}"
            )
        self.kdim = self.embed_dim if kdim is None else check_int(kdim, _WHERE, "kdim", minimum=1)
        self.vdim = self.embed_dim if vdim is None else check_int(vdim, _WHERE, "vdim", minimum=1)
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        if not 0 <= check_number(dropout, _WHERE, "dropout") <= 1:
            raise ArgumentError(f"{_WHERE}: dropout must be in [0, 1], got {dropout}")
        self.dropout = float(dropout)
        self.batch_first = bool(batch_first)
        self.head_dim = self.embed_dim // self.num_heads
        e = self.embed_dim
        # Registration order is PyTorch's, so state_dict keys come out in the same order.
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(fg.empty(3 * e, e, dtype=dtype))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(fg.empty(e, e, dtype=dtype))
            self.k_proj_weight = Parameter(fg.empty(e, self.kdim, dtype=dtype))
            self.v_proj_weight = Parameter(fg.empty(e, self.vdim, dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(fg.empty(3 * e, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(e, e, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(fg.empty(1, 1, e, dtype=dtype))
            self.bias_v = Parameter(fg.empty(1, 1, e, dtype=dtype))
        else:
            self.register_parameter("bias_k", None)
            self.register_parameter("bias_v", None)
        self.add_zero_attn = bool(add_zero_attn)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        # PyTorch's initialisation: Xavier-uniform projections, zero biases; out_proj.weight
        # keeps Linear's own initialisation.
        for w in (self.in_proj_weight, self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
            if w is not None:
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
        if self.out_proj.bias is not None:
            init.zeros_(self.out_proj.bias)
        for b in (self.bias_k, self.bias_v):
            if b is not None:
                init.xavier_normal_(b)

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, batch_first={self.batch_first}"

    def _projection_weights(self) -> tuple[fg.Tensor, fg.Tensor, fg.Tensor]:
        if self.in_proj_weight is not None:
            e = self.embed_dim
            w = self.in_proj_weight
            return w[:e], w[e : 2 * e], w[2 * e :]
        return self.q_proj_weight, self.k_proj_weight, self.v_proj_weight

    def forward(
        self,
        query: Any,
        key: Any,
        value: Any,
        key_padding_mask: Any = None,
        need_weights: bool = True,
        attn_mask: Any = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[fg.Tensor, fg.Tensor | None]:
        like = self.out_proj.weight
        q, k, v = as_input(query, like), as_input(key, like), as_input(value, like)
        batched = self._check_inputs(q, k, v)
        if not batched:  # one sequence: a batch of one, squeezed again at the end
            q, k, v = q.unsqueeze(1), k.unsqueeze(1), v.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = as_input(key_padding_mask).unsqueeze(0)
        elif self.batch_first:
            q, k, v = q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1)
        length, n, e = q.shape
        heads, hd = self.num_heads, self.head_dim
        kpm = canonical_mask(key_padding_mask, "key_padding_mask", _WHERE, q)
        mask = canonical_mask(attn_mask, "attn_mask", _WHERE, q)
        self._check_masks(kpm, mask, length, k.shape[0], n, batched)
        if is_causal and mask is None:
            raise ArgumentError(f"{_WHERE}: is_causal=True is a hint and needs the causal attn_mask as well")
        # PyTorch lets the hint replace the mask only on its fused path (no weights, no padding).
        use_causal = bool(is_causal) and kpm is None and not need_weights
        if use_causal:
            mask = None
        if mask is not None and mask.ndim == 2:
            mask = mask.unsqueeze(0)

        wq, wk, wv = self._projection_weights()
        bq = bk = bv = None
        if self.in_proj_bias is not None:
            b = self.in_proj_bias
            bq, bk, bv = b[:e], b[e : 2 * e], b[2 * e :]
        q, k, v = linear(q, wq, bq), linear(k, wk, bk), linear(v, wv, bv)
        if self.bias_k is not None and self.bias_v is not None:  # one more learned key/value
            k = fg.cat([k, self.bias_k.expand(1, n, e)], 0)
            v = fg.cat([v, self.bias_v.expand(1, n, e)], 0)
            mask, kpm = _pad_last(mask), _pad_last(kpm)
        q = q.reshape(length, n * heads, hd).transpose(0, 1)  # (N*H, L, hd)
        k = k.reshape(k.shape[0], n * heads, hd).transpose(0, 1)
        v = v.reshape(v.shape[0], n * heads, hd).transpose(0, 1)
        if self.add_zero_attn:  # one more all-zero key/value
            zeros = fg.zeros(n * heads, 1, hd, dtype=q.dtype)
            k, v = fg.cat([k, zeros], 1), fg.cat([v, zeros], 1)
            mask, kpm = _pad_last(mask), _pad_last(kpm)
        source = k.shape[1]
        if kpm is not None:  # (N, S) -> (N*H, 1, S): each head of a sequence shares its padding
            kpm = kpm.reshape(n, 1, 1, source).expand(n, heads, 1, source).reshape(n * heads, 1, source)
            mask = kpm if mask is None else mask + kpm
        p = self.dropout if self.training else 0.0

        if need_weights:
            scores = (q * (1.0 / math.sqrt(hd))) @ k.transpose(-2, -1)
            if mask is not None:
                scores = scores + mask
            # A row with nothing to attend to: NaN, as PyTorch. No mask, no such row.
            weights = fg.softmax(scores, -1) if mask is None else softmax_rows(scores, "nan")
            if p > 0:
                weights = dropout(weights, p, True)
            out = weights @ v
            attn: fg.Tensor | None = weights.reshape(n, heads, length, source)
            if average_attn_weights and attn is not None:
                attn = attn.mean(axis=1)
        else:
            if mask is not None:
                mask = mask.reshape(n, heads, -1, source) if mask.shape[0] != 1 else mask.unsqueeze(0)
            out = scaled_dot_product_attention(
                q.reshape(n, heads, length, hd),
                k.reshape(n, heads, source, hd),
                v.reshape(n, heads, source, hd),
                attn_mask=mask,
                dropout_p=p,
                is_causal=use_causal,
            ).reshape(n * heads, length, hd)
            attn = None
        out = out.transpose(0, 1).reshape(length * n, e)
        out = linear(out, self.out_proj.weight, self.out_proj.bias).reshape(length, n, e)
        if not batched:
            return out.squeeze(1), None if attn is None else attn.squeeze(0)
        if self.batch_first:
            out = out.transpose(0, 1)
        return out, attn

    def _check_inputs(self, q: fg.Tensor, k: fg.Tensor, v: fg.Tensor) -> bool:
        if q.ndim not in (2, 3):
            raise fg.ShapeError(
                f"{_WHERE}: query must be (L, E), (L, N, E) or with batch_first (N, L, E), got shape {q.shape}"
            )
        for name, t, dim in (("key", k, self.kdim), ("value", v, self.vdim), ("query", q, self.embed_dim)):
            if t.ndim != q.ndim:
                raise fg.ShapeError(f"{_WHERE}: {name} must have {q.ndim} dims as the query, got shape {t.shape}")
            if t.shape[-1] != dim:
                dim_name = {"key": "kdim", "value": "vdim", "query": "embed_dim"}[name]
                raise fg.ShapeError(f"{_WHERE}: expected {name} with {dim} features ({dim_name}), got shape {t.shape}")
        if k.shape[:-1] != v.shape[:-1]:
            raise fg.ShapeError(f"{_WHERE}: key and value must agree except in features, got {k.shape} and {v.shape}")
        batch_axis = 0 if self.batch_first else 1
        if q.ndim == 3 and q.shape[batch_axis] != k.shape[batch_axis]:
            raise fg.ShapeError(
                f"{_WHERE}: query and key have different batch sizes ({q.shape[batch_axis]} and "
                f"{k.shape[batch_axis]}; shapes {q.shape}, {k.shape}, batch_first={self.batch_first})"
            )
        return q.ndim == 3

    def _check_masks(
        self, kpm: fg.Tensor | None, mask: fg.Tensor | None, length: int, source: int, n: int, batched: bool
    ) -> None:
        if kpm is not None and kpm.shape != (n, source):
            want = (n, source) if batched else (source,)
            got = kpm.shape if batched else kpm.shape[1:]
            raise fg.ShapeError(f"{_WHERE}: expected key_padding_mask of shape {want}, got {got}")
        if mask is None:
            return
        allowed = [(length, source), ((n if batched else 1) * self.num_heads, length, source)]
        if mask.shape not in allowed:
            raise fg.ShapeError(f"{_WHERE}: expected attn_mask of shape {allowed[0]} or {allowed[1]}, got {mask.shape}")


def _pad_last(mask: fg.Tensor | None) -> fg.Tensor | None:
    """Allow the key appended by add_bias_kv / add_zero_attn: one more 0 column."""
    if mask is None:
        return None
    return fg.cat([mask, fg.from_numpy(np.zeros((*mask.shape[:-1], 1), mask.dtype))], -1)
