"""Random-program operations, part 4: products, nn.functional layers and losses (see specs.py)."""

from __future__ import annotations

import math

import numpy as np

import flowgrad as fg

from .programs import CAP, Const, Program, Step, Val, spec
from .specs import _factor, _ill_normalized

# ============================================================ products


@spec("matmul", weight=1.5)
def _matmul(p: Program, h: Val):
    nd = h.ndim
    if nd == 0:
        return None
    m = p.ri(1, 3)
    if nd == 1:
        n = h.shape[0]
        shape = p.choice([(n,), (n, m), (p.ri(1, 2), n, m)])
    else:
        k = h.shape[-1]
        batch = h.shape[:-2]
        shape = p.choice([(k,), (k, m), batch[p.ri(0, len(batch)) :] + (k, m), (1,) * len(batch) + (k, m)])
    cands = [v for v in p.pool if v.shape == shape]
    y = p.choice(cands) if cands and p.chance(0.4) else p.fresh(shape)
    form = p.choice(["@", "matmul", "mm", "dot", "outer", "rmatmul"])
    if form == "mm" and nd == 2 and len(shape) == 2:
        if p.chance(0.5):
            return Step(lambda S, h, y: h.mm(y), (h, y), "h.mm(y)")
        return Step(lambda S, h, y: S.M.mm(h, y), (h, y), "mm(h, y)")
    if form == "dot" and nd == 1 and len(shape) == 1:
        return Step(lambda S, h, y: S.M.dot(h, y), (h, y), "dot(h, y)")
    if form == "outer" and nd == 1:
        z = p.fresh((p.ri(0, 3),))
        return Step(lambda S, h, z: S.M.outer(h, z), (h, z), "outer(h, z)")
    if form == "rmatmul" and nd >= 1:
        # y @ h: y's last dim meets h's first matrix dim
        r = h.shape[-2] if nd >= 2 else h.shape[0]
        yshape = p.choice([(r,), (m, r)])
        z = p.fresh(yshape)
        return Step(lambda S, h, z: z @ h, (h, z), f"z{list(yshape)} @ h")
    if form == "matmul":
        return Step(lambda S, h, y: S.M.matmul(h, y), (h, y), f"matmul(h, y{list(shape)})")
    return Step(lambda S, h, y: h @ y, (h, y), f"h @ y{list(shape)}")


@spec("einsum")
def _einsum(p: Program, h: Val):
    # flowgrad's einsum has no '...' and no repeated index within one operand (no gradient
    # rule for diagonals); torch has both, so programs use neither (see tests/opcases_torch.py).
    # Letters shared by two operands get equal sizes: torch also broadcasts size-1 letters,
    # NumPy's einsum does not.
    letters = list("abcdefg")
    mine = letters[: h.ndim]
    p.rng.shuffle(mine)
    sizes = dict(zip(mine, h.shape))
    ops, subs = [h], ["".join(mine)]
    for _ in range(p.choice([0, 1, 1, 2])):
        shared = [c for c in sizes if p.chance(0.6)]
        new = [c for c in letters if c not in sizes][: p.ri(0, 2)]
        for c in new:
            sizes[c] = p.ri(1, 3)
        sub = shared + new
        p.rng.shuffle(sub)
        ops.append(p.fresh(tuple(sizes[c] for c in sub)))
        subs.append("".join(sub))
    everything = sorted({c for s in subs for c in s})
    if p.chance(0.3):
        spec_ = ",".join(subs)  # implicit output: the letters used once, in order
    else:
        out = [c for c in everything if p.chance(0.5)]
        p.rng.shuffle(out)
        spec_ = ",".join(subs) + "->" + "".join(out)
    return Step(lambda S, *xs: S.M.einsum(spec_, *xs), tuple(ops), f"einsum({spec_!r})")


# ============================================================ nn.functional layers


@spec("linear")
def _linear(p: Program, h: Val):
    if h.ndim == 0:
        return None
    n_out = p.ri(1, 4)
    W = p.leaf((n_out, h.shape[-1]), "n", pool=False)
    b = p.leaf((n_out,), "n", pool=False) if p.chance(0.7) else None
    if b is None:
        return Step(lambda S, h, W: S.F.linear(h, W), (h, W), f"F.linear(h, W{list(W.shape)})")
    return Step(lambda S, h, W, b: S.F.linear(h, W, b), (h, W, b), f"F.linear(h, W{list(W.shape)}, b)")


def _as_4d(p: Program, h: Val) -> tuple:
    """A 4-D (N, C, H, W) shape for h's elements (h's own when it is 4-D)."""
    if h.ndim == 4:
        return h.shape
    if h.size == 0:
        return (0, p.ri(1, 2), p.ri(2, 4), p.ri(2, 4))
    return _factor(p, h.size, 4)


def _pair(p: Program, lo: int, hi: int):
    a = p.ri(lo, hi)
    return a if p.chance(0.5) else (a, p.ri(lo, hi))


def _two(v) -> tuple:
    return v if isinstance(v, tuple) else (v, v)


def _out(size: int, k: int, s: int, pad: int, d: int) -> int:
    return (size + 2 * pad - d * (k - 1) - 1) // s + 1


@spec("conv2d")
def _conv2d(p: Program, h: Val):
    shape = _as_4d(p, h)
    if shape is None:
        return None
    n, c, H, W = shape
    if c == 0 or H == 0 or W == 0:
        # torch gives an input with no channels an output with no channels, whatever the
        # weight, and refuses an empty image ("only zero batch or zero channel inputs")
        return None
    groups = p.choice([g for g in (1, 2, 3) if c % g == 0])
    out_ch = groups * p.ri(1, 2)
    k, s, pad, dil = _pair(p, 1, 3), _pair(p, 1, 2), _pair(p, 0, 2), _pair(p, 1, 2)
    if p.chance(0.4):
        s, pad, dil = 1, 0, 1
    oh = _out(H, _two(k)[0], _two(s)[0], _two(pad)[0], _two(dil)[0])
    ow = _out(W, _two(k)[1], _two(s)[1], _two(pad)[1], _two(dil)[1])
    if oh < 1 or ow < 1 or n * out_ch * oh * ow > CAP or n * c * _two(k)[0] * _two(k)[1] * oh * ow > 4 * CAP:
        return None
    w = p.leaf((out_ch, c // groups) + _two(k), "n", pool=False)
    b = p.leaf((out_ch,), "n", pool=False) if p.chance(0.6) else None
    args = (h, w) if b is None else (h, w, b)
    label = f"F.conv2d(h{list(shape)}, w{list(w.shape)}, stride={s}, padding={pad}, dilation={dil}, groups={groups})"
    return Step(lambda S, h, w, b=None: S.F.conv2d(h.reshape(shape), w, b, s, pad, dil, groups), args, label)


def _windows(x: np.ndarray, k: tuple, s: tuple, pad: tuple, d: tuple, fill: float) -> np.ndarray:
    """(N, C, kh*kw, oh, ow): every pooling window of x (NumPy, for the tie check)."""
    x = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])), constant_values=fill)
    n, c, H, W = x.shape
    oh = (H - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (W - d[1] * (k[1] - 1) - 1) // s[1] + 1
    cols = np.empty((n, c, k[0] * k[1], oh, ow))
    for i in range(k[0]):
        for j in range(k[1]):
            cols[:, :, i * k[1] + j] = x[
                :, :, i * d[0] : i * d[0] + s[0] * oh : s[0], j * d[1] : j * d[1] + s[1] * ow : s[1]
            ]
    return cols


@spec("pool2d")
def _pool(p: Program, h: Val):
    shape = _as_4d(p, h)
    if shape is None or 0 in shape:
        return None
    n, c, H, W = shape
    k = _pair(p, 1, 3)
    kk = _two(k)
    stride = p.choice([None, 1, 2, (1, 2)])
    ss = kk if stride is None else _two(stride)
    pad = (p.ri(0, kk[0] // 2), p.ri(0, kk[1] // 2))  # torch: padding at most half the kernel
    kind = p.choice(["max", "avg"])
    dil = _pair(p, 1, 2) if kind == "max" and p.chance(0.3) else 1
    dd = _two(dil)
    if kind == "max":
        pad = (min(pad[0], (dd[0] * (kk[0] - 1) + 1) // 2), min(pad[1], (dd[1] * (kk[1] - 1) + 1) // 2))
    oh, ow = _out(H, kk[0], ss[0], pad[0], dd[0]), _out(W, kk[1], ss[1], pad[1], dd[1])
    if oh < 1 or ow < 1:
        return None
    if kind == "max":
        cols = _windows(h.data.reshape(shape), kk, ss, pad, dd, -np.inf)
        if p.tied(np.moveaxis(cols, 2, -1), (cols.ndim - 1,)):
            return None
        return Step(
            lambda S, h: S.F.max_pool2d(h.reshape(shape), k, stride, pad, dil),
            (h,),
            f"F.max_pool2d(h{list(shape)}, {k}, {stride}, {pad}, {dil})",
        )
    return Step(
        lambda S, h: S.F.avg_pool2d(h.reshape(shape), k, stride, pad),
        (h,),
        f"F.avg_pool2d(h{list(shape)}, {k}, {stride}, {pad})",
    )


@spec("batch_norm", twice=False)  # see the end of the generator
def _batch_norm(p: Program, h: Val):
    if h.ndim < 2 or h.size == 0:
        return None
    c = h.shape[1]
    per_channel = h.size // c
    training = p.chance(0.6)
    if training and per_channel < 2:  # torch: "expected more than 1 value per channel when training"
        return None
    momentum, eps = p.choice([0.1, 0.5]), p.choice([1e-5, 1e-3])
    if training and _ill_normalized(p, h.data, (0,) + tuple(range(2, h.ndim)), eps):
        return None
    weight = p.leaf((c,), "p", pool=False) if p.chance(0.6) else None
    bias = p.leaf((c,), "n", pool=False) if p.chance(0.6) else None
    mean = p.arr((c,), "n")
    var = p.arr((c,), "p")

    def fn(S, h, weight, bias, mean=mean, var=var):
        rm, rv = S.c(mean), S.c(var)
        # .contiguous(): torch 2.13's batch_norm backward gives a wrong input gradient for
        # some non-contiguous inputs (a (4, 2, 1, 1) transposed to (1, 2, 1, 4); flowgrad
        # matches the formula, torch does not: test_torch_quirks.py); a no-op in flowgrad.
        out = S.F.batch_norm(h.contiguous(), rm, rv, weight, bias, training, momentum, eps)
        return out, rm, rv  # running statistics are updated in training mode: compared too

    label = f"F.batch_norm(h, training={training}, weight={weight is not None}, bias={bias is not None}, momentum={momentum}, eps={eps})"
    # No second derivatives (the spec's twice=False): torch 2.13's double backward of
    # batch_norm raises without a weight (as layer_norm's), and with one it is wrong when the
    # incoming gradient has a transposed layout, as einsum's can (test_torch_quirks.py).
    # flowgrad's batch_norm is mean, var, sqrt and division, whose second derivatives the
    # other specs compare.
    return Step(fn, (h, weight, bias), label)


@spec("layer_norm")
def _layer_norm(p: Program, h: Val):
    if h.ndim == 0:
        return None
    k = p.ri(1, min(h.ndim, 3))
    ns = h.shape[h.ndim - k :]
    eps = p.choice([1e-5, 1e-3])
    if math.prod(ns) == 0:  # normalizing nothing: nan (and NumPy's "mean of empty slice")
        return None
    if _ill_normalized(p, h.data, tuple(range(h.ndim - k, h.ndim)), eps):
        return None
    weight = p.leaf(ns, "p", pool=False) if p.chance(0.6) else None
    bias = p.leaf(ns, "n", pool=False) if p.chance(0.6) else None
    return Step(
        lambda S, h, weight, bias: S.F.layer_norm(h, ns, weight, bias, eps),
        (h, weight, bias),
        f"F.layer_norm(h, {ns}, weight={weight is not None}, bias={bias is not None}, eps={eps})",
        # torch 2.13's double backward of layer_norm without a weight raises ("Expected a
        # proper Tensor but got None"), so such programs compare first derivatives only
        twice=weight is not None,
    )


@spec("embedding")
def _embedding(p: Program, h: Val):
    if h.ndim == 2 and h.shape[0] > 0 and p.chance(0.6):
        W = h
    else:
        W = p.leaf((p.ri(1, 5), p.ri(1, 4)), "n", pool=False)
    idx = p.rng.integers(0, W.shape[0], tuple(p.ri(0, 3) for _ in range(p.ri(0, 2)))).astype(np.int64)
    return Step(
        lambda S, idx, W: S.F.embedding(idx, W),
        (Const(idx), W),
        f"F.embedding(idx{list(idx.shape)}, W{list(W.shape)})",
        # torch 2.13's double backward of embedding with no indices fails to reshape its
        # empty gradient ("cannot reshape tensor of 0 elements ... -1 ... ambiguous")
        twice=idx.size > 0,
    )


@spec("dropout")
def _dropout(p: Program, h: Val):
    # Dropout draws its mask from each framework's own generator, so torch's F.dropout cannot
    # draw flowgrad's mask: in training with 0 < prob < 1 the torch side is dropout's documented
    # formula, input * mask / (1 - prob), on the mask flowgrad drew (found by replaying its seed).
    prob = p.choice([0.0, 0.25, 0.5, 1.0])
    training = p.chance(0.8)
    seed = p.ri(0, 2**31)
    if not training or prob in (0.0, 1.0):
        return Step(lambda S, h: S.F.dropout(h, prob, training), (h,), f"F.dropout(h, {prob}, training={training})")
    fg.manual_seed(seed)
    keep = fg.rand(h.shape, dtype=fg.float64).data >= prob

    def fn(S, h):
        if S.T:
            return h * (S.c(keep).to(h.dtype) * (1 / (1 - prob)))
        fg.manual_seed(seed)
        return S.F.dropout(h, prob, training)

    return Step(fn, (h,), f"F.dropout(h, {prob})")


# ============================================================ losses


def _reduction(p: Program, h: Val) -> str:
    return p.choice(["mean", "sum", "none"] if h.size else ["sum", "none"])  # the mean of nothing is nan


@spec("regression_losses")
def _regression(p: Program, h: Val):
    t = p.partner(h, same=True)
    td = t.data if isinstance(t, Val) else t.arr
    d = np.abs(h.data.astype(np.float64) - td)
    red = _reduction(p, h)
    kind = p.choice(["mse", "l1", "huber", "smooth_l1"])
    if kind == "mse":
        return Step(lambda S, h, t: S.F.mse_loss(h, t, reduction=red), (h, t), f"F.mse_loss(h, t, {red})")
    if p.near(d):
        return None
    if kind == "l1":
        return Step(lambda S, h, t: S.F.l1_loss(h, t, reduction=red), (h, t), f"F.l1_loss(h, t, {red})")
    delta = p.choice([1.0, 0.5, 2.0])
    if p.near(d, delta):
        return None
    if kind == "huber":
        return Step(
            lambda S, h, t: S.F.huber_loss(h, t, reduction=red, delta=delta), (h, t), f"F.huber_loss({red}, {delta})"
        )
    return Step(
        lambda S, h, t: S.F.smooth_l1_loss(h, t, reduction=red, beta=delta), (h, t), f"F.smooth_l1_loss({red}, {delta})"
    )


@spec("bce_losses")
def _bce(p: Program, h: Val):
    red = _reduction(p, h)
    t = p.partner(h, same=True, grad=0.4)
    weight = Const(p.arr(p.bshape(h.shape, into=True), "p")) if p.chance(0.4) else None
    if p.chance(0.5):
        # on probabilities sigmoid(h): kept inside [3e-4, 1 - 3e-4], where torch's clamp of the
        # log at -100 and of its derivative's denominator at 1e-12 play no part
        if h.size and np.abs(h.data).max() > 8:
            return None
        return Step(
            lambda S, h, t, w: S.F.binary_cross_entropy(S.M.sigmoid(h), S.M.sigmoid(t), w, reduction=red),
            (h, t, weight),
            f"F.binary_cross_entropy(sigmoid(h), sigmoid(t), weight={weight is not None}, {red})",
            # torch's double backward of binary_cross_entropy is inexact: in float64 it was off
            # by 2e-8 (relative) where flowgrad agreed with a 40-digit mpmath answer to 1e-16
            # (test_torch_quirks.py), so programs with it compare first derivatives only
            twice=False,
        )
    pos = Const(p.arr(h.shape[-1:], "p")) if h.ndim and p.chance(0.4) else None
    return Step(
        lambda S, h, t, w, pw: S.F.binary_cross_entropy_with_logits(h, S.M.sigmoid(t), w, reduction=red, pos_weight=pw),
        (h, t, weight, pos),
        f"F.binary_cross_entropy_with_logits(h, sigmoid(t), weight={weight is not None}, {red}, pos_weight={pos is not None})",
    )


@spec("classification_losses", weight=1.5)
def _classification(p: Program, h: Val):
    if h.ndim == 0:
        return None
    cd = 0 if h.ndim == 1 else 1
    n_cls = h.shape[cd]
    if n_cls == 0:
        return None
    lshape = h.shape[:cd] + h.shape[cd + 1 :]
    labels = p.rng.integers(0, n_cls, lshape).astype(np.int64)
    ignore = -100
    r = p.rng.random()
    if r < 0.2:
        ignore = int(p.ri(0, n_cls - 1))
    elif r < 0.4 and labels.size:
        labels[p.rng.random(lshape) < 0.3] = -100
    red = _reduction(p, h)
    kept = labels != ignore
    if red == "mean" and not kept.any():  # the mean over no labels is 0/0
        return None
    weight = Const(p.arr((n_cls,), "p")) if p.chance(0.4) else None
    smoothing = p.choice([0.0, 0.0, 0.1, 0.3])
    kind = p.choice(["ce", "ce", "nll", "ce_probs"])
    L = Const(labels)
    if kind == "nll":
        return Step(
            lambda S, h, L, w: S.F.nll_loss(S.F.log_softmax(h, dim=cd), L, w, ignore_index=ignore, reduction=red),
            (h, L, weight),
            f"F.nll_loss(log_softmax(h), labels, weight={weight is not None}, ignore_index={ignore}, {red})",
        )
    if kind == "ce_probs":
        if red == "mean" and h.size == 0:
            return None
        t = p.partner(h, same=True, grad=0.4)
        return Step(
            lambda S, h, t, w: S.F.cross_entropy(h, S.M.softmax(t, cd), w, reduction=red, label_smoothing=smoothing),
            (h, t, weight),
            f"F.cross_entropy(h, softmax(t), weight={weight is not None}, {red}, label_smoothing={smoothing})",
        )
    return Step(
        lambda S, h, L, w: S.F.cross_entropy(h, L, w, ignore_index=ignore, reduction=red, label_smoothing=smoothing),
        (h, L, weight),
        f"F.cross_entropy(h, labels, weight={weight is not None}, ignore_index={ignore}, {red}, label_smoothing={smoothing})",
    )
