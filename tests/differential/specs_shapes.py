"""Random-program operations, part 3: shapes, indexing and joins (see specs.py)."""

from __future__ import annotations

import math

import numpy as np
import torch

import flowgrad as fg

from .programs import CAP, Const, Program, Side, Step, Val, spec
from .specs import _factor

# ============================================================ shapes


@spec("reshape", weight=1.5)
def _reshape(p: Program, h: Val):
    n = h.size
    k = p.ri(0 if n == 1 else 1, 4)
    if n == 0:
        shape = list(_factor(p, 6, k)) if k else []
        if not shape:
            return None
        shape[p.ri(0, k - 1)] = 0
        shape = tuple(shape)
    else:
        shape = _factor(p, n, k)
    if n and shape and p.chance(0.3):
        i = p.ri(0, len(shape) - 1)
        shape = shape[:i] + (-1,) + shape[i + 1 :]
    form = p.choice(["h.reshape", "M.reshape", "h.view", "flatten", "h.reshape(*)"])
    if form == "h.view":  # torch's view needs a contiguous tensor; reshape copies when it must
        form = "h.view" if h.t.is_contiguous() else "h.reshape"
    if form == "flatten" and h.ndim:
        s, e = sorted((p.ri(-h.ndim, h.ndim - 1), p.ri(-h.ndim, h.ndim - 1)), key=lambda a: a % h.ndim)
        if p.chance(0.5):
            return Step(lambda S, h: S.M.flatten(h, s, e), (h,), f"flatten(h, {s}, {e})")
        return Step(lambda S, h: h.flatten(s, e), (h,), f"h.flatten({s}, {e})")
    if form == "flatten":
        return Step(lambda S, h: h.flatten(), (h,), "h.flatten()")
    if form == "h.view":
        return Step(lambda S, h: h.view(shape), (h,), f"h.view({shape})")
    if form == "M.reshape":
        return Step(lambda S, h: S.M.reshape(h, shape), (h,), f"reshape(h, {shape})")
    if form == "h.reshape(*)" and shape:
        return Step(lambda S, h: h.reshape(*shape), (h,), f"h.reshape(*{shape})")
    return Step(lambda S, h: h.reshape(shape), (h,), f"h.reshape({shape})")


@spec("transpose_permute")
def _transpose(p: Program, h: Val):
    nd = h.ndim
    if nd == 0:
        return None
    form = p.choice(["transpose", "permute", "T", "mT", "t", "swapaxes", "moveaxis"])
    if form == "T" and nd == 2:  # torch's .T on other ranks is deprecated
        return Step(lambda S, h: h.T, (h,), "h.T")
    if form == "mT" and nd >= 2:
        return Step(lambda S, h: h.mT, (h,), "h.mT")
    if form == "t" and nd <= 2:
        return Step(lambda S, h: h.t(), (h,), "h.t()")
    if form == "permute":
        perm = tuple(p.rng.permutation(nd).tolist())
        return Step(lambda S, h: h.permute(*perm), (h,), f"h.permute{perm}")
    a, b = p.ri(-nd, nd - 1), p.ri(-nd, nd - 1)
    if form == "swapaxes":
        return Step(lambda S, h: S.M.swapaxes(h, a, b), (h,), f"swapaxes(h, {a}, {b})")
    if form == "moveaxis":
        return Step(lambda S, h: S.M.moveaxis(h, a, b), (h,), f"moveaxis(h, {a}, {b})")
    return Step(lambda S, h: h.transpose(a, b), (h,), f"h.transpose({a}, {b})")


@spec("expand_broadcast")
def _expand(p: Program, h: Val):
    lead = tuple(p.ri(1, 3) for _ in range(p.ri(0, 2 if h.ndim < 4 else 0)))
    body = tuple(p.ri(2, 3) if d == 1 and p.chance(0.5) else d for d in h.shape)
    shape = lead + body
    if math.prod(shape) > CAP or not shape or shape == h.shape and p.chance(0.5):  # torch: expand() needs sizes
        return None
    form = p.choice(["expand", "expand-1", "broadcast_to", "expand_as"])
    if form == "expand-1":
        sizes = lead + tuple(-1 if b == d else b for b, d in zip(body, h.shape))
        return Step(lambda S, h: h.expand(*sizes), (h,), f"h.expand{sizes}")
    if form == "broadcast_to":
        return Step(lambda S, h: S.M.broadcast_to(h, shape), (h,), f"broadcast_to(h, {shape})")
    if form == "expand_as":
        like = Const(np.zeros(shape, p.dt.np))
        return Step(lambda S, h, like: h.expand_as(like), (h, like), f"h.expand_as({shape})")
    return Step(lambda S, h: h.expand(shape), (h,), f"h.expand({shape})")


@spec("squeeze_unsqueeze")
def _squeeze(p: Program, h: Val):
    nd = h.ndim
    form = p.choice(["unsqueeze", "squeeze()", "squeeze(d)", "squeeze(dims)", "M.unsqueeze"])
    if form in ("unsqueeze", "M.unsqueeze") or nd == 0:
        if nd >= 5:
            return None
        d = p.ri(-nd - 1, nd)
        if form == "M.unsqueeze":
            return Step(lambda S, h: S.M.unsqueeze(h, d), (h,), f"unsqueeze(h, {d})")
        return Step(lambda S, h: h.unsqueeze(d), (h,), f"h.unsqueeze({d})")
    if form == "squeeze()":
        return Step(lambda S, h: h.squeeze(), (h,), "h.squeeze()")
    if form == "squeeze(d)":  # a dim of size != 1 is left alone, as in torch
        d = p.ri(-nd, nd - 1)
        return Step(lambda S, h: S.M.squeeze(h, d), (h,), f"squeeze(h, {d})")
    dims = tuple(sorted(set(p.rng.choice(nd, p.ri(1, nd)).tolist())))
    return Step(lambda S, h: h.squeeze(dims), (h,), f"h.squeeze({dims})")


@spec("flip_clone")
def _flip(p: Program, h: Val):
    if h.ndim == 0 or p.chance(0.25):
        return Step(lambda S, h: h.clone() * 1.5, (h,), "h.clone() * 1.5")
    dims = tuple(p.rng.permutation(h.ndim)[: p.ri(1, h.ndim)].tolist())
    dims = tuple(d - h.ndim if p.chance(0.3) else d for d in dims)
    return Step(lambda S, h: h.flip(dims), (h,), f"h.flip({dims})")


@spec("astype")
def _astype(p: Program, h: Val):
    """Casts and back: float32 <-> float64 (gradients flow), and to int64 (no gradient)."""
    form = p.choice(["float-double", "to", "int"])
    if form == "int":
        x = h.data.astype(np.float64) * 3
        if p.near_int(x):
            return None
        return Step(lambda S, h: (h * 3).to(S.i64), (h,), "(3h).to(int64)")
    if p.dt.name == "float64":
        if form == "to":
            return Step(lambda S, h: h.to(S.f32).to(S.f64), (h,), "h.to(float32).to(float64)")
        return Step(lambda S, h: (h.float() * 1.25).double(), (h,), "(h.float() * 1.25).double()")
    if form == "to":
        return Step(lambda S, h: h.to(dtype=S.f64).exp().to(S.f32), (h,), "h.to(float64).exp().to(float32)")
    return Step(lambda S, h: (h.double() / 3.0).float(), (h,), "(h.double() / 3).float()")


# ----- indexing


def _index_template(p: Program, shape: tuple) -> list | None:
    """A random index for ``shape``: ints, slices, None, Ellipsis and one group of advanced indices."""
    items: list = []
    nd = len(shape)
    adv = p.choice([None, None, "list", "list", "mask", "array2d"])
    adv_len = p.ri(1, 4)
    dims_left = list(range(nd))
    used_adv = False
    while dims_left:
        d = dims_left.pop(0)
        n = shape[d]
        if p.chance(0.1):
            items.append(None)
        if p.chance(0.08) and dims_left is not None:
            items.append(Ellipsis)
            break
        r = p.rng.random()
        if adv == "mask" and not used_adv and r < 0.5:
            k = p.ri(1, len(dims_left) + 1)  # a mask may cover several dims
            mshape = (n,) + tuple(shape[e] for e in dims_left[: k - 1])
            dims_left = dims_left[k - 1 :]
            items.append(("mask", p.rng.random(mshape) < 0.5))
            used_adv = True
        elif adv in ("list", "array2d") and n > 0 and r < 0.5 and (adv == "list" or not used_adv):
            if adv == "array2d":
                items.append(("ints", p.rng.integers(-n, n, (p.ri(1, 2), p.ri(1, 3)))))
            else:
                items.append(("ints", p.rng.integers(-n, n, adv_len)))
            used_adv = True
        elif n > 0 and r < 0.65 and adv is None:
            # An int beside an array index is one more advanced index to NumPy (so flowgrad),
            # which moves the broadcast dims to the front when a slice separates them; torch
            # takes the int as a basic index. Ints therefore only go in indexes without arrays.
            items.append(p.ri(-n, n - 1))
        elif r < 0.85:
            a = p.ri(-n - 1, n + 1) if p.chance(0.5) else None
            b = p.ri(-n - 1, n + 1) if p.chance(0.5) else None
            items.append(slice(a, b, p.choice([None, 1, 2, 3])))
        else:
            items.append(slice(None))
    if not items:
        return None
    return items


def _materialize(items: list, S: Side, how: str) -> tuple:
    out = []
    for it in items:
        if isinstance(it, tuple):
            kind, arr = it
            if S.T:
                out.append(torch.from_numpy(np.array(arr)))
            elif how == "tensor":
                out.append(fg.from_numpy(arr.copy()))
            elif how == "list" and kind == "ints":
                out.append(arr.tolist())
            else:
                out.append(arr)
        else:
            out.append(it)
    return tuple(out)


def _show(items: list) -> str:
    def one(it):
        if isinstance(it, tuple):
            return f"{it[0]}{list(it[1].shape)}"
        if isinstance(it, slice):
            return f"{'' if it.start is None else it.start}:{'' if it.stop is None else it.stop}" + (
                f":{it.step}" if it.step else ""
            )
        return "..." if it is Ellipsis else repr(it)

    return ", ".join(one(i) for i in items)


@spec("getitem", weight=2.0)
def _getitem(p: Program, h: Val):
    if h.ndim == 0:
        if p.chance(0.5):
            return Step(lambda S, h: h[None], (h,), "h[None]")
        return Step(lambda S, h: h[...], (h,), "h[...]")
    items = _index_template(p, h.shape)
    if items is None:
        return None
    how = p.choice(["ndarray", "tensor", "list"])
    single = len(items) == 1 and p.chance(0.5)
    if single:
        return Step(lambda S, h: h[_materialize(items, S, how)[0]], (h,), f"h[{_show(items)}]")
    return Step(lambda S, h: h[_materialize(items, S, how)], (h,), f"h[{_show(items)}]")


@spec("split_chunk")
def _split(p: Program, h: Val):
    if h.ndim == 0:
        return None
    d = p.ri(-h.ndim, h.ndim - 1)
    n = h.shape[d]
    form = p.choice(["split", "split_sizes", "chunk"])
    if form == "split":
        size = p.ri(1, max(n, 1))
        return Step(lambda S, h: h.split(size, d), (h,), f"h.split({size}, {d})")
    if form == "split_sizes" and n > 0:
        cuts = sorted(p.rng.integers(0, n + 1, p.ri(0, 2)).tolist())
        sizes = [b - a for a, b in zip([0] + cuts, cuts + [n])]
        return Step(lambda S, h: S.M.split(h, sizes, dim=d), (h,), f"split(h, {sizes}, dim={d})")
    k = p.ri(1, 4)
    return Step(lambda S, h: S.M.chunk(h, k, d), (h,), f"chunk(h, {k}, {d})")


@spec("cat_stack")
def _cat(p: Program, h: Val):
    nd = h.ndim
    if p.chance(0.5) or nd == 0:  # stack: the same shape
        d = p.ri(-nd - 1, nd)
        others = [p.partner(h, same=True) for _ in range(p.ri(1, 2))]
        return Step(lambda S, h, *o: S.M.stack([h, *o], d), (h, *others), f"stack([h, +{len(others)}], {d})")
    d = p.ri(-nd, nd - 1)
    ax = d % nd

    def fits(s):
        return len(s) == nd and all(a == b for i, (a, b) in enumerate(zip(s, h.shape)) if i != ax)

    others = []
    for _ in range(p.ri(1, 2)):
        cands = [v for v in p.pool if fits(v.shape)]
        if cands and p.chance(0.6):
            others.append(p.choice(cands))
        else:
            s = list(h.shape)
            s[ax] = p.ri(0, 3)
            others.append(p.fresh(tuple(s)))
    fn = p.choice(["cat", "concatenate"])
    if fn == "cat":
        return Step(lambda S, h, *o: S.M.cat([h, *o], dim=d), (h, *others), f"cat([h, +{len(others)}], dim={d})")
    return Step(lambda S, h, *o: S.M.concatenate((h, *o), d), (h, *others), f"concatenate((h, +{len(others)}), {d})")


@spec("pad")
def _pad(p: Program, h: Val):
    if h.ndim == 0:
        return None
    k = p.ri(1, min(h.ndim, 3))
    pads = tuple(p.ri(0, 2) for _ in range(2 * k))
    value = p.choice([0.0, 1.5])
    if p.chance(0.5):
        return Step(lambda S, h: S.F.pad(h, pads, value=value), (h,), f"F.pad(h, {pads}, value={value})")
    # flowgrad's NumPy-style fg.pad against torch's F.pad (its pads run from the last dim backwards)
    widths = [(0, 0)] * (h.ndim - k) + [(pads[2 * (k - 1 - i)], pads[2 * (k - 1 - i) + 1]) for i in range(k)]
    return Step(
        lambda S, h: S.F.pad(h, pads, value=value) if S.T else fg.pad(h, widths, constant_values=value),
        (h,),
        f"fg.pad(h, {widths}, constant_values={value})",
    )
