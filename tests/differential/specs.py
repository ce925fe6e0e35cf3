"""The operations random programs are made of: one ``@spec`` per family, drawn at random by weight.

Each generator ``gen(p, h)`` looks at the value ``h`` (its shape and, for kinks, its numbers),
draws the rest (a partner operand, axes, a layer's weights, a target) and returns a ``Step``
whose ``fn(S, *args)`` runs on either side, or None when the spec does not apply to ``h``.
Where flowgrad and PyTorch differ on purpose, the generator steers clear and says why.
"""

from __future__ import annotations

import numpy as np

from .programs import Const, Program, Side, Step, Val, spec

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
