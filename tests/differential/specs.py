"""The operations random programs are made of: one ``@spec`` per family, drawn at random by weight.

Each generator ``gen(p, h)`` looks at the value ``h`` (its shape and, for kinks, its numbers),
draws the rest (a partner operand, axes, a layer's weights, a target) and returns a ``Step``
whose ``fn(S, *args)`` runs on either side, or None when the spec does not apply to ``h``.
Where flowgrad and PyTorch differ on purpose, the generator steers clear and says why.
"""

from __future__ import annotations

import math

import numpy as np
import torch

import flowgrad as fg

from .programs import CAP, Const, Program, Side, Step, Val, spec

# ============================================================ helpers


def _pos(S: Side, h, lo: float = 0.05):
    """softplus(h) + lo: positive, for log/sqrt/pow bases."""
    return S.F.softplus(h) + lo


def _ill_normalized(p: Program, x: np.ndarray, axes: tuple, eps: float) -> bool:
    """True if normalizing ``x`` over ``axes`` magnifies rounding too much to compare float32.

    (x - mean) / sqrt(var + eps) turns the rounding error of x - mean (about |x| * 6e-8 in
    float32) into an error |x| / sqrt(var + eps) times larger: with one element per group
    and eps = 1e-5 that is 300 times, and torch's float32 result (not an exact 0) differs
    from flowgrad's by more than atol. Such groups are steered clear of in float32.
    """
    if p.dt.name != "float32" or x.size == 0:
        return False
    x = x.astype(np.float64)
    spread = np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    return bool(np.any(np.abs(x).max(axis=axes, keepdims=True) / spread > 30.0))


def _factor(p: Program, n: int, k: int) -> tuple:
    """A random shape of ``k`` dims with ``n`` elements (n > 0)."""
    dims = [1] * k
    for q in _prime_factors(n):
        dims[p.ri(0, k - 1)] *= q
    return tuple(dims)


def _prime_factors(n: int) -> list:
    out, q = [], 2
    while n > 1:
        while n % q == 0:
            out.append(q)
            n //= q
        q += 1
    return out


# ============================================================ elementwise, one input


def _moderate(x: np.ndarray) -> bool:
    """log(exp(h)) is h, but its chain rule divides by exp(h): beyond |h| = 15 the second
    derivative's exp(h)^2 or 1 / exp(h)^2 overflows float32 (in both frameworks)."""
    return x.size == 0 or float(np.abs(x).max()) < 15


def _unary(name: str, fns, ok=None, twice: bool = True):
    """A spec applying one of ``fns`` (label -> fn(S, h)) to h; ``ok(p, x)`` guards the domain."""

    @spec(name, twice=twice)
    def gen(p: Program, h: Val):
        if ok is not None and not ok(p, h.data):
            return None
        label = p.choice(sorted(fns))
        return Step(fns[label], (h,), label)

    return gen


_unary("neg", {"-h": lambda S, h: -h, "M.neg": lambda S, h: S.M.neg(h), "h.neg()": lambda S, h: h.neg()})
_unary("exp", {"M.exp": lambda S, h: S.M.exp(h), "h.exp()": lambda S, h: h.exp()})
_unary("expm1", {"M.expm1": lambda S, h: S.M.expm1(h)})
_unary("square", {"M.square": lambda S, h: S.M.square(h), "h.square()": lambda S, h: h.square()})
_unary("sin", {"M.sin": lambda S, h: S.M.sin(h)})
_unary("cos", {"h.cos()": lambda S, h: h.cos()})
_unary("tanh", {"M.tanh": lambda S, h: S.M.tanh(h), "F.tanh": lambda S, h: S.F.tanh(h)})
_unary("sinh_cosh", {"M.sinh": lambda S, h: S.M.sinh(h), "M.cosh": lambda S, h: S.M.cosh(h)})
_unary("arctan", {"M.arctan": lambda S, h: S.M.arctan(h)})
_unary("erf", {"M.erf": lambda S, h: S.M.erf(h)})
_unary("sigmoid", {"M.sigmoid": lambda S, h: S.M.sigmoid(h), "F.sigmoid": lambda S, h: S.F.sigmoid(h)})
_unary("silu", {"F.silu": lambda S, h: S.F.silu(h)})
_unary(
    "gelu",
    {"F.gelu": lambda S, h: S.F.gelu(h), "F.gelu_tanh": lambda S, h: S.F.gelu(h, approximate="tanh")},
)
_unary("abs", {"M.abs": lambda S, h: S.M.abs(h), "abs(h)": lambda S, h: abs(h)}, ok=lambda p, x: not p.near(x))
_unary(
    "relu",
    {"M.relu": lambda S, h: S.M.relu(h), "F.relu": lambda S, h: S.F.relu(h), "h.relu()": lambda S, h: h.relu()},
    ok=lambda p, x: not p.near(x),
)
_unary(
    "log_family",
    {
        "log(softplus+.05)": lambda S, h: S.M.log(_pos(S, h)),
        "log2(softplus+.05)": lambda S, h: S.M.log2(_pos(S, h)),
        "log10(exp)": lambda S, h: S.M.log10(S.M.exp(h)),
        "log1p(.9tanh)": lambda S, h: S.M.log1p(0.9 * S.M.tanh(h)),
        "log1p(softplus)": lambda S, h: S.M.log1p(S.F.softplus(h)),
    },
    ok=lambda p, x: _moderate(x),
)
_unary(
    "sqrt_family",
    {
        "sqrt(softplus+.01)": lambda S, h: S.M.sqrt(_pos(S, h, 0.01)),
        "sqrt(exp)": lambda S, h: S.M.exp(0.5 * h).sqrt(),
        "rsqrt(softplus+.1)": lambda S, h: _pos(S, h, 0.1).rsqrt(),
    },
    ok=lambda p, x: _moderate(x),
)
_unary(
    "trig_inverse",
    {
        "arcsin(.9tanh)": lambda S, h: S.M.arcsin(0.9 * S.M.tanh(h)),
        "arccos(.9tanh)": lambda S, h: S.M.arccos(0.9 * S.M.tanh(h)),
        "tan(1.2tanh)": lambda S, h: S.M.tan(1.2 * S.M.tanh(h)),
    },
)


@spec("log_direct")
def _log_direct(p: Program, h: Val):
    """log, sqrt, reciprocal... straight on h when h is already inside the domain."""
    x = h.data
    fns = {}
    if h.size and x.min() > 0.05:
        fns.update(
            {
                "M.log": lambda S, h: S.M.log(h),
                "M.log2": lambda S, h: S.M.log2(h),
                "M.log10": lambda S, h: S.M.log10(h),
                "M.sqrt": lambda S, h: S.M.sqrt(h),
            }
        )
    if h.size and x.min() > -0.9:
        fns["M.log1p"] = lambda S, h: S.M.log1p(h)
    if h.size and np.abs(x).max() < 0.95:
        fns.update({"M.arcsin": lambda S, h: S.M.arcsin(h), "M.arccos": lambda S, h: S.M.arccos(h)})
    if h.size and np.abs(x).max() < 1.4:
        fns["M.tan"] = lambda S, h: S.M.tan(h)
    if h.size and np.abs(x).min() > 0.2:
        fns.update({"M.reciprocal": lambda S, h: S.M.reciprocal(h), "1/h": lambda S, h: 1.0 / h})
    fns["reciprocal(1+h*h)"] = lambda S, h: S.M.reciprocal(1.0 + h * h)
    label = p.choice(sorted(fns))
    return Step(fns[label], (h,), label)


@spec("leaky_relu")
def _leaky(p: Program, h: Val):
    if p.near(h.data):
        return None
    slope = p.choice([0.01, 0.2, -0.5, 1.5])
    if p.chance(0.5):
        return Step(lambda S, h: S.F.leaky_relu(h, slope), (h,), f"F.leaky_relu(h, {slope})")
    return Step(lambda S, h: S.F.leaky_relu(h, negative_slope=slope), (h,), f"F.leaky_relu(negative_slope={slope})")


@spec("softplus")
def _softplus(p: Program, h: Val):
    beta, threshold = p.choice([1.0, 2.0, 0.5]), p.choice([20.0, 1.0, 5.0])
    # Above beta * x > threshold softplus is linear: its derivative jumps from sigmoid(threshold) to 1.
    if p.near(h.data * beta, threshold):
        return None
    return Step(lambda S, h: S.F.softplus(h, beta, threshold), (h,), f"F.softplus(beta={beta}, threshold={threshold})")


# ============================================================ elementwise, two inputs


@spec("add_sub_mul", weight=2.0)
def _arith(p: Program, h: Val):
    y = p.partner(h)
    c = p.choice([1.5, -0.5, 2.0])
    fns = {
        "h + y": lambda S, h, y: h + y,
        "y + h": lambda S, h, y: y + h,
        "h - y": lambda S, h, y: h - y,
        "y - h": lambda S, h, y: y - h,
        "h * y": lambda S, h, y: h * y,
        "M.add(h, y)": lambda S, h, y: S.M.add(h, y),
        "M.sub(h, y)": lambda S, h, y: S.M.sub(h, y),
        "M.mul(h, y)": lambda S, h, y: S.M.mul(h, y),
        "h.add(y, alpha=c)": lambda S, h, y: h.add(y, alpha=c),
        "h.sub(y, alpha=c)": lambda S, h, y: h.sub(y, alpha=c),
        "h * h": lambda S, h, y: h * h,
        "c + h": lambda S, h, y: c + h,
        "h - c": lambda S, h, y: h - c,
        "c - h": lambda S, h, y: c - h,
        "h * c": lambda S, h, y: h * c,
    }
    label = p.choice(sorted(fns))
    return Step(fns[label], (h, y), label.replace("c", str(c)) if "c" in label else label)


@spec("div")
def _div(p: Program, h: Val):
    y = p.partner(h)
    yd = y.data if isinstance(y, Val) else y.arr
    fns = {"h / (1 + y*y)": lambda S, h, y: h / (1.0 + y * y), "h / 2.5": lambda S, h, y: h / 2.5}
    if yd.size and np.abs(yd).min() > 0.2:
        fns.update(
            {
                "h / y": lambda S, h, y: h / y,
                "M.div(h, y)": lambda S, h, y: S.M.div(h, y),
                "2 / y": lambda S, h, y: 2.0 / y,
            }
        )
    if h.size and np.abs(h.data).min() > 0.2:
        fns["y / h"] = lambda S, h, y: y / h
    label = p.choice(sorted(fns))
    return Step(fns[label], (h, y), label)


@spec("pow")
def _pow(p: Program, h: Val):
    k = p.choice([2, 3, 0, 1, 2.0, -1])
    e = p.choice([0.5, -1.5, 2.5, -1.0, 1.0 / 3])
    if p.chance(0.4):  # tensor ** tensor (positive bases)
        y = p.partner(h)
        if p.chance(0.5):
            return Step(lambda S, h, y: (S.F.softplus(y) + 0.1) ** S.M.tanh(h), (h, y), "(softplus(y)+.1) ** tanh(h)")
        return Step(lambda S, h, y: S.M.pow(S.F.softplus(h) + 0.1, S.M.tanh(y)), (h, y), "pow(softplus(h)+.1, tanh(y))")
    fns = {
        f"h ** {k}": lambda S, h: h**k if k != -1 else (1.0 + h * h) ** k,
        f"h.pow({k})": lambda S, h: h.pow(k) if k != -1 else (1.0 + h * h).pow(k),
        f"(softplus(h)+.2) ** {e}": lambda S, h: _pos(S, h, 0.2) ** e,
        "2 ** h": lambda S, h: 2.0**h,
        "0.5 ** h": lambda S, h: 0.5**h,
    }
    label = p.choice(sorted(fns))
    return Step(fns[label], (h,), label)


@spec("floor_divide")
def _floordiv(p: Program, h: Val):
    # torch gives floor_divide no derivative at all (backward raises "not implemented"); its
    # derivative is 0 wherever it is defined, which flowgrad returns. torch's twin with that
    # documented derivative is floor(h / c).
    c = p.choice([0.7, -1.3, 2.0])
    if p.near_int(h.data / c):
        return None
    return Step(lambda S, h: (S.M.floor(h / c) if S.T else h // c) + 0.5 * h, (h,), f"h // {c} + 0.5h")


@spec("remainder")
def _remainder(p: Program, h: Val):
    if p.chance(0.5):
        c = p.choice([0.7, -1.3, 2.0])
        if p.near_int(h.data / c):
            return None
        return Step(lambda S, h: h % c, (h,), f"h % {c}")
    y = p.partner(h)
    yd = y.data if isinstance(y, Val) else y.arr
    with np.errstate(all="ignore"):
        d = np.logaddexp(0, yd.astype(np.float64)) + 0.5
        if p.near_int(h.data / d):
            return None
    return Step(lambda S, h, y: h % (S.F.softplus(y) + 0.5), (h, y), "h % (softplus(y) + .5)")


@spec("maximum_minimum")
def _maxmin(p: Program, h: Val):
    y = p.partner(h)
    yd = y.data if isinstance(y, Val) else y.arr
    if p.near(np.broadcast_to(h.data, np.broadcast_shapes(h.shape, yd.shape)) - yd):
        return None
    fns = {
        "M.maximum": lambda S, h, y: S.M.maximum(h, y),
        "M.minimum": lambda S, h, y: S.M.minimum(h, y),
        "M.max(h, y)": lambda S, h, y: S.M.max(h, y),
        "M.min(h, y)": lambda S, h, y: S.M.min(h, y),
    }
    label = p.choice(sorted(fns))
    return Step(fns[label], (h, y), label)


_CMP = {
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
}


@spec("where_compare", weight=1.5)
def _where(p: Program, h: Val):
    y = p.partner(h)
    yd = y.data if isinstance(y, Val) else y.arr
    k = p.choice([0.0, 0.5, -1.0])
    if p.near(yd, k):
        return None
    op = p.choice(sorted(_CMP))
    cmp = _CMP[op]
    other = p.choice(["scalar", "2y", "value"])
    if other == "value":
        z = p.partner(h, into=True)  # into h's shape: y and z need not broadcast together otherwise
        return Step(lambda S, h, y, z: S.M.where(cmp(y, k), h, z), (h, y, z), f"where(y {op} {k}, h, z)")
    if other == "scalar":
        return Step(lambda S, h, y: S.M.where(cmp(y, k), h, 0.0), (h, y), f"where(y {op} {k}, h, 0.0)")
    return Step(lambda S, h, y: S.M.where(cmp(y, k), 2.0 * y, h), (h, y), f"where(y {op} {k}, 2y, h)")


@spec("masked_fill")
def _masked_fill(p: Program, h: Val):
    y = p.partner(h, into=True)  # torch's masked_fill broadcasts the mask into the input's shape only
    yd = y.data if isinstance(y, Val) else y.arr
    k, v = p.choice([0.0, 0.5]), p.choice([0.0, -2.0])
    if p.near(yd, k):
        return None
    if p.chance(0.5):
        return Step(lambda S, h, y: h.masked_fill(y > k, v), (h, y), f"h.masked_fill(y > {k}, {v})")
    return Step(lambda S, h, y: S.M.masked_fill(h, y < k, v), (h, y), f"masked_fill(h, y < {k}, {v})")


@spec("compare_eq")
def _compare_eq(p: Program, h: Val):
    """==, != and friends on rounded values: a comparison away from ties."""
    y = p.partner(h)
    yd = (y.data if isinstance(y, Val) else y.arr).astype(np.float64)
    kind = p.choice(["floor", "ceil", "round"])
    if kind == "round":
        if p.near_int(yd, 0.5):
            return None
        rnd = lambda S, y: S.M.round(y)
    else:
        if p.near_int(yd):
            return None
        rnd = (lambda S, y: S.M.floor(y)) if kind == "floor" else (lambda S, y: S.M.ceil(y))
    k = p.choice([0.0, 1.0, -1.0])
    if p.chance(0.5):
        return Step(lambda S, h, y: S.M.where(rnd(S, y) == k, h, -h), (h, y), f"where({kind}(y) == {k}, h, -h)")
    return Step(lambda S, h, y: S.M.where(rnd(S, y) != k, h * 2.0, h), (h, y), f"where({kind}(y) != {k}, 2h, h)")


@spec("logical")
def _logical(p: Program, h: Val):
    y = p.partner(h)
    yd = y.data if isinstance(y, Val) else y.arr
    a, b = p.choice([0.0, 0.5]), p.choice([0.0, -0.5])
    if p.near(h.data, a) or p.near(yd, b):
        return None
    fns = {
        "&": lambda S, h, y: S.M.where((h > a) & (y < b), h, y),
        "|": lambda S, h, y: S.M.where((h > a) | (y < b), h, 2.0 * y),
        "^": lambda S, h, y: S.M.where((h > a) ^ (y < b), h * y, h),
        "~": lambda S, h, y: S.M.where(~(h > a), h, y),
        "isfinite/isnan": lambda S, h, y: S.M.where(S.M.isfinite(h) & ~S.M.isnan(y), h, y),
    }
    label = p.choice(sorted(fns))
    return Step(fns[label], (h, y), f"where(h > {a} {label} y < {b}, ...)")


@spec("sign_floor_round")
def _sign_floor(p: Program, h: Val):
    """Piecewise-constant functions (zero derivative) of y times h: sign, floor, ceil, round."""
    y = p.partner(h)
    yd = (y.data if isinstance(y, Val) else y.arr).astype(np.float64)
    kind = p.choice(["sign", "floor", "ceil", "round", "round2"])
    if kind == "sign":
        if p.near(yd):
            return None
        return Step(lambda S, h, y: h * S.M.sign(y), (h, y), "h * sign(y)")
    if kind == "round":
        if p.near_int(yd, 0.5):
            return None
        return Step(lambda S, h, y: h - S.M.round(y), (h, y), "h - round(y)")
    if kind == "round2":
        if p.near_int(yd * 10, 0.5):
            return None
        return Step(lambda S, h, y: h + S.M.round(y, decimals=1), (h, y), "h + round(y, decimals=1)")
    if p.near_int(yd):
        return None
    if kind == "floor":
        return Step(lambda S, h, y: h + S.M.floor(y) * y, (h, y), "h + floor(y) * y")
    return Step(lambda S, h, y: h * S.M.ceil(y), (h, y), "h * ceil(y)")


@spec("clamp")
def _clamp(p: Program, h: Val):
    lo, hi = p.choice([None, -1.0, -0.5, 0.0]), p.choice([None, 1.0, 0.5])
    if lo is None and hi is None:
        hi = 1.0
    x = h.data
    if (lo is not None and p.near(x, lo)) or (hi is not None and p.near(x, hi)):
        return None
    form = p.choice(["M.clamp", "h.clamp", "M.clip", "tensor bounds"])
    if form == "M.clamp":
        return Step(lambda S, h: S.M.clamp(h, lo, hi), (h,), f"clamp(h, {lo}, {hi})")
    if form == "h.clamp":
        return Step(lambda S, h: h.clamp(min=lo, max=hi), (h,), f"h.clamp(min={lo}, max={hi})")
    if form == "M.clip":
        return Step(lambda S, h: S.M.clip(h, lo, hi), (h,), f"clip(h, {lo}, {hi})")
    # Tensor bounds, constants or inputs that get a gradient where they are the result. Now
    # and then lo > hi somewhere: hi wins, value and gradient.
    b = p.bshape(h.shape, into=True)
    lo_a = p.rng.uniform(-1.0, 0.2, b)
    hi_a = p.rng.uniform(-0.2, 1.0, b)
    lo_t = p.leaf(b, value=lo_a, pool=False) if p.chance(0.6) else Const(lo_a.astype(p.dt.np))
    hi_t = p.leaf(b, value=hi_a, pool=False) if p.chance(0.6) else Const(hi_a.astype(p.dt.np))
    lo_a, hi_a = lo_t.data if isinstance(lo_t, Val) else lo_t.arr, hi_t.data if isinstance(hi_t, Val) else hi_t.arr
    xb = np.broadcast_to(x, h.shape)
    if p.near(xb - lo_a) or p.near(xb - hi_a) or p.near(lo_a - hi_a):
        return None
    return Step(lambda S, h, lo, hi: S.M.clamp(h, lo, hi), (h, lo_t, hi_t), "clamp(h, tensor, tensor)")


# ============================================================ reductions


@spec("sum", weight=1.5)
def _sum(p: Program, h: Val):
    d, _ = p.dims(h)
    keep = p.chance(0.4)
    form = p.choice(["M.sum", "h.sum"]) if d is not None else p.choice(["h.sum()", "M.sum", "h.sum"])
    if form == "h.sum()":
        return Step(lambda S, h: h.sum(), (h,), "h.sum()")
    if form == "M.sum":
        return Step(lambda S, h: S.M.sum(h, d, keepdim=keep), (h,), f"sum(h, {d}, keepdim={keep})")
    return Step(lambda S, h: h.sum(dim=d, keepdim=keep), (h,), f"h.sum(dim={d}, keepdim={keep})")


@spec("mean")
def _mean(p: Program, h: Val):
    d, axes = p.dims(h)
    if p.reduced(h, axes) == 0:  # the mean of nothing is nan
        return None
    keep = p.chance(0.4)
    if d is None and p.chance(0.5):
        return Step(lambda S, h: h.mean(), (h,), "h.mean()")
    return Step(lambda S, h: S.M.mean(h, d, keepdim=keep), (h,), f"mean(h, {d}, keepdim={keep})")


@spec("var_std")
def _var(p: Program, h: Val):
    d, axes = p.dims(h)
    n = p.reduced(h, axes)
    corr = p.choice([0, 1, 1])
    if n <= corr or h.size == 0:  # torch: nan (division by n - correction <= 0), and a warning
        return None
    keep = p.chance(0.4)
    if p.chance(0.5):
        return Step(
            lambda S, h: h.var(dim=d, correction=corr, keepdim=keep), (h,), f"var({d}, correction={corr}, {keep})"
        )
    x = h.data.astype(np.float64)
    sd = np.std(x, axis=axes) if axes is not None else np.std(x)
    if p.near(sd):  # sqrt's kink at zero variance
        return None
    if d is None and corr == 1 and not keep and p.chance(0.5):
        return Step(lambda S, h: h.std(), (h,), "h.std()")
    return Step(
        lambda S, h: S.M.std(h, dim=d, correction=corr, keepdim=keep), (h,), f"std({d}, correction={corr}, {keep})"
    )


@spec("max_min", weight=1.5)
def _max(p: Program, h: Val):
    d, axes = p.dims(h)
    if p.reduced(h, axes) == 0 or p.tied(h.data, axes):  # max of nothing: an error in both
        return None
    keep = p.chance(0.4)
    if d is None:
        form = p.choice(["h.max()", "h.min()", "M.amax", "M.amin"])
        if form == "h.max()":
            return Step(lambda S, h: h.max(), (h,), "h.max()")
        if form == "h.min()":
            return Step(lambda S, h: S.M.min(h), (h,), "min(h)")
        # amax over every dim, named explicitly (torch's amax needs dims)
        all_dims = tuple(range(h.ndim)) or 0
        f = (
            (lambda S, h: S.M.amax(h, all_dims, keepdim=keep))
            if form == "M.amax"
            else (lambda S, h: h.amin(all_dims, keepdim=keep))
        )
        return Step(f, (h,), f"{form}(h, {all_dims}, keepdim={keep})")
    if isinstance(d, tuple):
        if p.chance(0.5):
            return Step(lambda S, h: S.M.amax(h, d, keepdim=keep), (h,), f"amax(h, {d}, keepdim={keep})")
        return Step(lambda S, h: h.amin(dim=d, keepdim=keep), (h,), f"h.amin({d}, keepdim={keep})")
    form = p.choice(["M.max", "h.min", "values", "amax"])
    if form == "M.max":  # (values, indices)
        return Step(lambda S, h: S.M.max(h, d, keepdim=keep), (h,), f"max(h, {d}, keepdim={keep})")
    if form == "h.min":
        return Step(lambda S, h: h.min(dim=d, keepdim=keep), (h,), f"h.min(dim={d}, keepdim={keep})")
    if form == "values":
        return Step(lambda S, h: h.max(d).values, (h,), f"h.max({d}).values")
    return Step(lambda S, h: S.M.amax(h, d, keepdim=keep), (h,), f"amax(h, {d}, keepdim={keep})")


@spec("argmax_argmin")
def _argmax(p: Program, h: Val):
    if h.size == 0:
        return None
    if h.ndim == 0 or p.chance(0.3):
        if p.tied(h.data, None):
            return None
        return Step(lambda S, h: (S.M.argmax(h), S.M.argmin(h)), (h,), "argmax(h), argmin(h)")
    d = p.ri(-h.ndim, h.ndim - 1)
    if h.shape[d] == 0 or p.tied(h.data, (d % h.ndim,)):
        return None
    keep = p.chance(0.5)
    return Step(
        lambda S, h: (S.M.argmax(h, d, keepdim=keep), h.argmin(dim=d, keepdim=keep)),
        (h,),
        f"argmax/argmin(h, {d}, keepdim={keep})",
    )


@spec("prod")
def _prod(p: Program, h: Val):
    # torch's prod takes one dim (or none)
    keep = p.chance(0.4)
    if h.ndim == 0 or p.chance(0.3):
        return Step(lambda S, h: h.prod(), (h,), "h.prod()")
    d = p.ri(-h.ndim, h.ndim - 1)
    return Step(lambda S, h: S.M.prod(h, d, keepdim=keep), (h,), f"prod(h, {d}, keepdim={keep})")


@spec("logsumexp")
def _logsumexp(p: Program, h: Val):
    d, axes = p.dims(h, none=False)
    if p.reduced(h, axes) == 0:
        return None
    keep = p.chance(0.4)
    if p.chance(0.5):
        return Step(lambda S, h: S.M.logsumexp(h, d, keepdim=keep), (h,), f"logsumexp(h, {d}, keepdim={keep})")
    return Step(lambda S, h: h.logsumexp(d, keepdim=keep), (h,), f"h.logsumexp({d}, keepdim={keep})")


@spec("softmax", weight=1.5)
def _softmax(p: Program, h: Val):
    d = p.ri(-h.ndim, h.ndim - 1) if h.ndim else p.choice([0, -1])
    fns = {
        "M.softmax": lambda S, h: S.M.softmax(h, d),
        "h.softmax": lambda S, h: h.softmax(d),
        "F.softmax": lambda S, h: S.F.softmax(h, dim=d),
        "M.log_softmax": lambda S, h: S.M.log_softmax(h, d),
        "h.log_softmax": lambda S, h: h.log_softmax(dim=d),
        "F.log_softmax": lambda S, h: S.F.log_softmax(h, dim=d),
    }
    label = p.choice(sorted(fns))
    return Step(fns[label], (h,), f"{label}(dim={d})")


@spec("cumsum")
def _cumsum(p: Program, h: Val):
    if h.ndim == 0:
        return None
    d = p.ri(-h.ndim, h.ndim - 1)
    if p.chance(0.5):
        return Step(lambda S, h: h.cumsum(d), (h,), f"h.cumsum({d})")
    return Step(lambda S, h: h.cumsum(dim=d), (h,), f"h.cumsum(dim={d})")


@spec("any_all")
def _any_all(p: Program, h: Val):
    k = p.choice([0.0, 0.5])
    if p.near(h.data, k):
        return None
    d, _ = p.dims(h, none=True)
    keep = p.chance(0.5)
    if d is None:
        return Step(lambda S, h: (S.M.any(h > k), S.M.all(h > k)), (h,), f"any/all(h > {k})")
    if p.chance(0.5):
        return Step(lambda S, h: (S.M.any(h > k, d, keepdim=keep), (h < k).all(d, keepdim=keep)), (h,), f"any/all({d})")
    return Step(
        lambda S, h: S.M.where(S.M.any(h > k, d, keepdim=True), h, -2.0 * h), (h,), f"where(any(h > {k}, {d}), h, -2h)"
    )


@spec("norm")
def _norm(p: Program, h: Val):
    d, axes = p.dims(h)
    keep = p.chance(0.4)
    x = h.data.astype(np.float64)
    if p.chance(0.5):
        if p.near(x):
            return None
        return Step(lambda S, h: S.M.norm(h, 1, d, keepdim=keep), (h,), f"norm(h, 1, {d}, keepdim={keep})")
    nrm = np.sqrt(np.sum(x * x, axis=axes))
    if p.near(nrm):
        return None
    return Step(lambda S, h: S.M.norm(h, 2, d, keepdim=keep), (h,), f"norm(h, 2, {d}, keepdim={keep})")


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
