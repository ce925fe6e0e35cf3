"""Recurrent, attention and Transformer layers in random programs: the layer's weights are leaves of
the program, passed to each side's module through ``functional_call``, so their gradients are
compared with everything else's. First derivatives only (``twice=False``): second derivatives of
these layers are sums of the primitives' own, which the other specs compare."""

from __future__ import annotations

import torch

import flowgrad as fg

from .programs import Const, Program, Side, Step, Val, spec


def _module_call(S: Side, make, names: list[str], h, weights, **kwargs):
    module = make(S)
    params = dict(zip(names, weights))
    if S.T:
        return torch.func.functional_call(module, params, (h,), kwargs)
    return fg.func.functional_call(module, params, (h,), kwargs)


def _weights(p: Program, make) -> tuple[list[str], list[Val]]:
    names_shapes = [(n, tuple(w.shape)) for n, w in make(_FG_SIDE).named_parameters()]
    return [n for n, _ in names_shapes], [p.leaf(s, "n", pool=False) for _, s in names_shapes]


class _FgSide:
    T = False
    M = fg


_FG_SIDE = _FgSide()


@spec("recurrent", twice=False)
def _recurrent(p: Program, h: Val):
    if h.ndim not in (2, 3) or h.size == 0 or h.shape[-1] > 6 or h.shape[0] > 5:
        return None
    kind = p.choice(["RNN", "LSTM", "GRU"])
    hidden, layers, bidir = p.ri(1, 3), p.ri(1, 2), p.chance(0.4)
    bias = p.chance(0.8)

    def make(S):
        return getattr(S.M.nn, kind)(h.shape[-1], hidden, num_layers=layers, bidirectional=bidir, bias=bias)

    names, weights = _weights(p, make)
    label = f"nn.{kind}({h.shape[-1]}, {hidden}, num_layers={layers}, bidirectional={bidir}, bias={bias})(h)"

    def run(S, h, *ws):
        out, state = _module_call(S, make, names, h, ws)
        return (out, *state) if kind == "LSTM" else (out, state)

    return Step(run, (h, *weights), label)


@spec("scaled_dot_product_attention", twice=False)
def _sdpa(p: Program, h: Val):
    if h.ndim < 2 or h.size == 0 or h.shape[-1] > 8:
        return None
    lead, length, embed = h.shape[:-2], h.shape[-2], h.shape[-1]
    source, value_dim = p.ri(1, 4), p.ri(1, 3)
    k = p.leaf((*lead, source, embed), "n", pool=False)
    v = p.leaf((*lead, source, value_dim), "n", pool=False)
    causal = p.chance(0.3)
    scale = 0.5 if p.chance(0.3) else None
    if not causal and p.chance(0.4):
        mask = p.rng.random((length, source)) < 0.7
        mask[:, 0] = True  # every query keeps a key: a row with none is NaN in both
        m = Const(mask)
        return Step(
            lambda S, h, k, v, m: S.F.scaled_dot_product_attention(h, k, v, attn_mask=m, scale=scale),
            (h, k, v, m),
            f"F.scaled_dot_product_attention(h, k{list(k.shape)}, v{list(v.shape)}, bool mask, scale={scale})",
        )
    return Step(
        lambda S, h, k, v: S.F.scaled_dot_product_attention(h, k, v, is_causal=causal, scale=scale),
        (h, k, v),
        f"F.scaled_dot_product_attention(h, k{list(k.shape)}, v{list(v.shape)}, is_causal={causal}, scale={scale})",
    )


@spec("multihead_attention", twice=False)
def _mha(p: Program, h: Val):
    if h.ndim != 3 or h.size == 0 or h.shape[-1] > 8:
        return None
    embed = h.shape[-1]
    heads = p.choice([n for n in range(1, embed + 1) if embed % n == 0])
    bias = p.chance(0.8)

    def make(S):
        return S.M.nn.MultiheadAttention(embed, heads, bias=bias, batch_first=True)

    names, weights = _weights(p, make)
    padding = None
    if p.chance(0.4):
        padding = p.rng.random((h.shape[0], h.shape[1])) < 0.3
        padding[:, 0] = False  # a query with every key masked is NaN in both
    label = f"nn.MultiheadAttention({embed}, {heads}, bias={bias}, batch_first=True)(h, h, h, padding={padding is not None})"

    def run(S, h, *ws):
        module = make(S)
        params = dict(zip(names, ws))
        kwargs = {} if padding is None else {"key_padding_mask": S.c(padding)}
        call = torch.func.functional_call if S.T else fg.func.functional_call
        out, weights_out = call(module, params, (h, h, h), kwargs)
        return out, weights_out

    return Step(run, (h, *weights), label)


@spec("transformer_encoder_layer", twice=False, weight=0.5)
def _encoder_layer(p: Program, h: Val):
    # float64 only: LayerNorm over a few features magnifies float32 rounding past the tolerance
    # (see specs._ill_normalized), and inside the layer it cannot be steered clear of.
    if p.dt.name != "float64" or h.ndim != 3 or h.size == 0 or h.shape[-1] > 6:
        return None
    embed = h.shape[-1]
    heads = p.choice([n for n in range(1, embed + 1) if embed % n == 0])
    ff, norm_first = p.ri(1, 5), p.chance(0.5)

    def make(S):  # gelu: no kink to land on, as relu's would be inside the layer
        return S.M.nn.TransformerEncoderLayer(
            embed, heads, dim_feedforward=ff, dropout=0.0, activation="gelu", batch_first=True, norm_first=norm_first
        ).eval()

    names, weights = _weights(p, make)
    label = f"nn.TransformerEncoderLayer({embed}, {heads}, dim_feedforward={ff}, gelu, norm_first={norm_first})(h)"
    return Step(lambda S, h, *ws: _module_call(S, make, names, h, ws), (h, *weights), label)


@spec("index_read_write", twice=False)
def _index_ops(p: Program, h: Val):
    # gather, index_select, scatter_add and index_add (flowgrad/ops/torch_index.py) along a dim of h
    if h.ndim == 0 or h.size == 0:
        return None
    d = p.ri(0, h.ndim - 1)
    n = h.shape[d]
    kind = p.choice(["gather", "index_select", "scatter_add", "index_add"])
    if kind == "index_select":
        idx = Const(p.rng.integers(0, n, size=p.ri(1, 4)))
        return Step(lambda S, h, i: S.M.index_select(h, d, i), (h, idx), f"index_select(h, {d}, {list(idx.arr)})")
    if kind == "index_add":
        m = p.ri(1, 3)
        idx = Const(p.rng.integers(0, n, size=m))
        src = p.leaf(tuple(m if k == d else s for k, s in enumerate(h.shape)), "n", pool=False)
        return Step(
            lambda S, h, i, s: S.M.index_add(h, d, i, s, alpha=0.5), (h, idx, src), f"index_add(h, {d}, index, src)"
        )
    shape = tuple(p.ri(1, s) if k != d else p.ri(1, 3) for k, s in enumerate(h.shape))
    idx = Const(p.rng.integers(0, n, size=shape))
    if kind == "gather":
        return Step(lambda S, h, i: S.M.gather(h, d, i), (h, idx), f"gather(h, {d}, index{list(shape)})")
    src = p.leaf(shape, "n", pool=False)  # the index's shape: torch's backward needs it so
    return Step(lambda S, h, i, s: S.M.scatter_add(h, d, i, s), (h, idx, src), f"scatter_add(h, {d}, index, src)")
