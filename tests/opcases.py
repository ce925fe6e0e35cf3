"""The one table of op cases behind the gradient checks (part 1: elementwise and forward-only ops).

Each :class:`OpCase` names the registry primitive it exercises, a flowgrad
function, a plain-NumPy reference for the forward pass, the input shape sets
to try and a sampler that keeps inputs inside the op's domain and away from
its kinks, so central differences are valid, and where PyTorch has the same
call, its twin (``torch=``). ``tests/opcases_more.py`` holds reductions,
products, shapes and indexing, ``tests/opcases_torch.py`` the rows written once
against a module ``M`` (the PyTorch-style API); ``tests/test_ops_gradcheck.py``
runs every check over every row, as tinygrad's ``helper_test_op`` runs one
lambda in two frameworks.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import flowgrad as fg
import flowgrad.numpy as fnp

Shape = tuple[int, ...]
Dist = Callable[[np.random.Generator, Shape], np.ndarray]


# ----- samplers ---------------------------------------------------------------------------
def unif(lo: float = -2.0, hi: float = 2.0) -> Dist:
    return lambda rng, s: rng.uniform(lo, hi, s)


def away(*bad: float, lo: float = -2.0, hi: float = 2.0, margin: float = 0.1) -> Dist:
    """Uniform on [lo, hi], at least ``margin`` from every point in ``bad`` (kinks, poles)."""

    def dist(rng: np.random.Generator, s: Shape) -> np.ndarray:
        x = rng.uniform(lo, hi, s)
        while True:
            near = np.zeros(s, bool)
            for b in bad:
                near |= np.abs(x - b) < margin
            if not near.any():
                return x
            x[near] = rng.uniform(lo, hi, int(near.sum()))

    return dist


def signed(lo: float, hi: float) -> Dist:
    """Magnitudes in [lo, hi] with random signs (away from 0 by ``lo``)."""
    return lambda rng, s: rng.uniform(lo, hi, s) * rng.choice([-1.0, 1.0], s)


def distinct(rng: np.random.Generator, s: Shape) -> np.ndarray:
    """All values at least 0.2 apart (no ties for max/min/argmax)."""
    n = int(np.prod(s))
    return ((rng.permutation(n) - n / 2) * 0.25 + rng.uniform(0, 0.05, n)).reshape(s)


def with_zeros(k: int) -> Dist:
    """Magnitudes in [0.5, 1.5] with the first ``k`` flat elements set to exactly 0."""

    def dist(rng: np.random.Generator, s: Shape) -> np.ndarray:
        x = signed(0.5, 1.5)(rng, s)
        x.reshape(-1)[:k] = 0.0
        return x

    return dist


def boolean(rng: np.random.Generator, s: Shape) -> np.ndarray:
    return rng.random(s) < 0.5


def small_ints(rng: np.random.Generator, s: Shape) -> np.ndarray:
    """Integer-valued floats in [-2, 2]: comparisons see ties, sign sees zeros."""
    return rng.integers(-2, 3, s).astype(np.float64)


def specials(rng: np.random.Generator, s: Shape) -> np.ndarray:
    return rng.choice(np.array([np.nan, np.inf, -np.inf, 0.0, 1.5, -2.0]), s)


def each(*dists: Dist) -> Callable[[np.random.Generator, tuple[Shape, ...]], list[np.ndarray]]:
    """Sample input ``i`` from ``dists[i]`` (the last one repeats for extra inputs)."""
    return lambda rng, shapes: [dists[min(i, len(dists) - 1)](rng, s) for i, s in enumerate(shapes)]


def apart(rng: np.random.Generator, shapes: tuple[Shape, ...]) -> list[np.ndarray]:
    """Two inputs whose broadcast pairs differ by >= 0.3 (maximum/minimum off their ties)."""
    a = rng.integers(-2, 3, shapes[0]) + 0.25 + rng.uniform(-0.1, 0.1, shapes[0])
    b = rng.integers(-2, 3, shapes[1]) + 0.75 + rng.uniform(-0.1, 0.1, shapes[1])
    return [a, b]


def off_integer_quotients(rng: np.random.Generator, shapes: tuple[Shape, ...]) -> list[np.ndarray]:
    """a, b with b away from 0 and a / b away from integers (floor_divide/remainder jumps)."""
    b = signed(0.5, 2.0)(rng, shapes[1])
    a = rng.uniform(-4, 4, shapes[0])
    while True:
        q = np.broadcast_to(a / b, np.broadcast_shapes(a.shape, b.shape))
        frac = q - np.floor(q)
        if np.all((frac > 0.05) & (frac < 0.95)):
            return [a, b]
        a = rng.uniform(-4, 4, shapes[0])


# ----- PyTorch, looked up only when a twin runs (the table loads without torch) ------------
class _Torch:
    """``T.exp``, ``T.linalg.det``, ``T.nn.functional.softplus``: torch's function of that name, on call."""

    def __init__(self, path: tuple[str, ...] = ()) -> None:
        self._path = path

    def __getattr__(self, name: str) -> _Torch:
        if name.startswith("__"):  # introspection (doctest's unwrap, copy, pickle) finds nothing here
            raise AttributeError(name)
        return _Torch(self._path + (name,))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        import torch

        obj: Any = torch
        for name in self._path:
            obj = getattr(obj, name)
        return obj(*args, **kwargs)


T = _Torch()
F = T.nn.functional
SAME: Any = object()  # torch=SAME: the row's fn reads the same on torch tensors


class TorchAsFlowgrad:
    """``torch`` under flowgrad's top-level names (softplus, leaky_relu: ``torch.nn.functional``'s)."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # introspection (doctest's unwrap) must not need torch
            raise AttributeError(name)
        import torch

        if name in ("softplus", "leaky_relu"):
            return getattr(torch.nn.functional, name)
        return getattr(torch, name)


# ----- the case record --------------------------------------------------------------------
@dataclass(frozen=True)
class OpCase:
    """One way of calling one primitive, checked over every shape set in ``shapes``.

    ``grad_inputs``: indices of the inputs that get gradients (None: every
    floating input; ``()``: a forward-only case, for ops without gradients).
    ``ref``: the NumPy forward (None: the PyTorch twin is the only referee of
    values). ``torch``: the same call on torch tensors (``SAME``: ``fn``
    itself; ``T.name``: ``torch.name``), compared in float64 and float32,
    values and gradients. ``xfail``: why every check of the row fails (strict).
    ``fn`` may return a tuple: the checks join its float outputs.
    """

    name: str
    fn: Callable[..., Any]
    ref: Callable[..., Any] | None
    shapes: list[tuple[Shape, ...]]
    sample: Callable[[np.random.Generator, tuple[Shape, ...]], list[np.ndarray]] = each(unif())
    twice_differentiable: bool = True
    grad_inputs: tuple[int, ...] | None = None
    label: str = ""
    torch: Callable[..., Any] | None = None
    xfail: str = ""

    def __post_init__(self) -> None:
        if self.torch is SAME:  # fn reads the same on torch tensors
            object.__setattr__(self, "torch", self.fn)

    @property
    def id(self) -> str:
        return f"{self.name}[{self.label}]" if self.label else self.name


KINDS: dict[str, Dist] = {
    "n": lambda r, s: r.standard_normal(s),  # normal
    "p": lambda r, s: r.uniform(0.5, 2.0, s),  # positive
    "a": lambda r, s: r.choice([-1.0, 1.0], s) * r.uniform(0.3, 2.0, s),  # away from zero
    "u": lambda r, s: r.uniform(-0.9, 0.9, s),  # inside (-1, 1)
    "w": lambda r, s: 15.0 * r.standard_normal(s),  # wide: past softplus's threshold, big logits
}


def both(name: str, f: Callable[..., Any], spec: str, label: str = "", **kw: Any) -> OpCase:
    """A row written once against a module: ``f(M, *xs)`` runs with ``M = fg`` and ``M = torch``.

    ``spec``: the inputs, ``"n3,4 p4 a"`` = a normal 3x4, a positive 4-vector, a 0-d away from zero.
    """
    kinds = [t[0] for t in spec.split()]
    shapes = tuple(tuple(int(n) for n in t[1:].split(",") if n) for t in spec.split())
    sample = lambda rng, sets: [KINDS[k](rng, s) for k, s in zip(kinds, sets)]
    twin = lambda *xs: f(TorchAsFlowgrad(), *xs)
    return OpCase(name, lambda *xs: f(fg, *xs), None, [shapes], sample, label=label, torch=twin, **kw)


# ----- shape sets -------------------------------------------------------------------------
UNARY = [(), (1,), (5,), (0,), (1, 1), (2, 3), (3, 1), (0, 4), (2, 3, 4), (2, 1, 3, 1)]
BINARY = [
    ((), ()),
    ((4,), ()),
    ((), (3,)),
    ((1,), (4,)),
    ((2, 3), (2, 3)),
    ((3, 1), (1, 4)),
    ((2, 3), (3,)),
    ((0,), (0,)),
    ((0, 3), (1, 3)),
    ((2, 1, 3), (4, 1)),
    ((1, 1), (2, 1, 3)),
]


def one(shapes: list[Shape]) -> list[tuple[Shape, ...]]:
    """Shape sets for single-input cases."""
    return [(s,) for s in shapes]


UNIF = unif()


def unary(name: str, fn: Callable, ref: Callable, dist: Dist = UNIF, label: str = "", **kw: Any) -> OpCase:
    return OpCase(name, fn, ref, one(UNARY), each(dist), label=label, **kw)


def sigmoid_ref(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def softplus_ref(beta: float, threshold: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda x: np.where(x * beta > threshold, x, np.log1p(np.exp(x * beta)) / beta)


def softplus_torch(beta: float, threshold: float) -> Callable[[Any], Any]:
    return lambda x: F.softplus(x, beta, threshold)


POS = unif(0.3, 3.0)
NONZERO = signed(0.5, 2.0)

# ----- arithmetic ---------------------------------------------------------------------------
ARITHMETIC = [
    OpCase("add", lambda a, b: a + b, np.add, BINARY, torch=SAME),
    OpCase("add", lambda a, b: fg.add(a, b), np.add, BINARY[4:7], grad_inputs=(1,), label="b only",
        torch=T.add),
    OpCase("add", lambda x: 1.5 + x, lambda x: 1.5 + x, one([(), (3,), (2, 3)]), label="scalar", torch=SAME),
    OpCase("sub", lambda a, b: a - b, np.subtract, BINARY, torch=SAME),
    OpCase("sub", lambda x: 2.0 - x, lambda x: 2.0 - x, one([(), (2, 3)]), label="rsub", torch=SAME),
    OpCase("sub", lambda a, b: fg.sub(a, b), np.subtract, BINARY[5:8], grad_inputs=(0,), label="a only",
        torch=T.sub),
    OpCase("mul", lambda a, b: a * b, np.multiply, BINARY, torch=SAME),
    OpCase("mul", lambda x: x * x, lambda x: x * x, one([(), (3,), (2, 3)]), label="x*x", torch=SAME),
    OpCase("mul", lambda x: 2.5 * x, lambda x: 2.5 * x, one([(), (0,), (2, 3)]), label="scalar", torch=SAME),
    OpCase("div", lambda a, b: a / b, np.true_divide, BINARY, each(unif(), NONZERO), torch=SAME),
    OpCase("div", lambda x: 3.0 / x, lambda x: 3.0 / x, one([(), (4,), (2, 3)]), each(NONZERO), label="rdiv",
        torch=SAME),
    OpCase("div", lambda x: x / 4.0, lambda x: x / 4.0, one([(), (2, 3)]), label="by scalar", torch=SAME),
    OpCase("pow", lambda a, b: a**b, np.power, BINARY, each(unif(0.5, 2.0), unif(-2.0, 2.0)),
        label="tensor exponent", torch=SAME),
    OpCase("pow", lambda x: x**2, lambda x: x**2, one(UNARY[:6]), label="**2", torch=SAME),
    OpCase("pow", lambda x: x**3, lambda x: x**3, one([(), (3,), (2, 3)]), label="**3", torch=SAME),
    OpCase("pow", lambda x: x**0.5, np.sqrt, one([(), (4,), (2, 3)]), each(POS), label="**0.5", torch=SAME),
    OpCase("pow", lambda x: x**-1.5, lambda x: x**-1.5, one([(), (2, 3)]), each(POS), label="**-1.5",
        torch=SAME),
    OpCase("pow", lambda x: x**0, lambda x: x**0, one([(), (2, 3)]), label="**0", torch=SAME),
    OpCase("pow", lambda x: 2.0**x, lambda x: 2.0**x, one([(), (4,), (2, 3)]), label="2**x", torch=SAME),
    OpCase("pow", lambda a, b: fg.pow(a, b), np.power, BINARY[4:7], each(POS, unif()), grad_inputs=(1,),
        label="b only", torch=T.pow),
    # floor_divide: no twin (torch has no derivative for it, where flowgrad's is zero)
    OpCase("floor_divide", lambda a, b: a // b, np.floor_divide, BINARY, off_integer_quotients),
    OpCase("floor_divide", lambda x: x // 0.7, lambda x: x // 0.7, one([(), (2, 3)]),
        each(away(*np.arange(-4, 4) * 0.7)), label="scalar"),
    OpCase("remainder", lambda a, b: a % b, np.remainder, BINARY, off_integer_quotients, torch=SAME),
    OpCase("remainder", lambda x: fnp.remainder(x, 1.5), lambda x: np.remainder(x, 1.5),
        one([(), (3,), (2, 3)]), each(away(-1.5, 0.0, 1.5)), label="scalar", torch=lambda x: x % 1.5),
    OpCase("neg", lambda x: -x, np.negative, one(UNARY), torch=SAME),
    OpCase("maximum", fg.maximum, np.maximum, BINARY, apart, torch=T.maximum),
    OpCase("maximum", lambda x: fg.maximum(x, 0.3), lambda x: np.maximum(x, 0.3), one([(), (5,), (2, 3)]),
        each(away(0.3)), label="vs constant"),
    OpCase("minimum", fg.minimum, np.minimum, BINARY, apart, torch=T.minimum),
    OpCase("minimum", lambda x: fnp.minimum(x, 0.3), lambda x: np.minimum(x, 0.3), one([(), (5,), (2, 3)]),
        each(away(0.3)), label="vs constant"),
]  # fmt: skip

WHERE_SHAPES = [
    ((), (), ()),
    ((3,), (3,), (3,)),
    ((2, 3), (2, 3), (2, 3)),
    ((3, 1), (1, 4), ()),
    ((2, 3), (3,), (2, 1)),
    ((0,), (0,), (0,)),
    ((0, 2), (2,), ()),
    ((1,), (4,), (1,)),
    ((2, 1, 3), (1, 3), (2, 1, 1)),
    ((4,), (), ()),
]
CLIP_POINTS = away(-0.5, 0.5)
BOUND = np.array([-1.5, -0.5, 0.5])
SELECTION = [
    OpCase("where", fg.where, np.where, WHERE_SHAPES, each(boolean, unif()), grad_inputs=(1, 2),
        torch=T.where),
    OpCase("where", fg.where, np.where, WHERE_SHAPES[2:5], each(boolean, unif()), grad_inputs=(2,),
        label="y only", torch=T.where),
    OpCase("clip", lambda x: fg.clip(x, -0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5), one(UNARY),
        each(CLIP_POINTS), label="both", torch=lambda x: x.clip(-0.5, 0.5)),
    OpCase("clip", lambda x: fg.clamp(x, min=-0.5), lambda x: np.clip(x, -0.5, None), one(UNARY[:6]),
        each(CLIP_POINTS), label="min", torch=lambda x: x.clamp(min=-0.5)),
    OpCase("clip", lambda x: fnp.clip(x, None, 0.5), lambda x: np.clip(x, None, 0.5), one(UNARY[:6]),
        each(CLIP_POINTS), label="max", torch=lambda x: x.clip(None, 0.5)),
    # no twins: torch.clip wants a bound, and its bounds are both numbers or both tensors
    OpCase("clip", lambda x: fg.clip(x), lambda x: x.copy(), one([(), (2, 3)]), label="none"),
    OpCase("clip", lambda x: fg.clip(x, BOUND, 1.0), lambda x: np.clip(x, BOUND, 1.0),
        one([(3,), (2, 3), (1,), ()]), each(away(-1.5, -0.5, 0.5, 1.0)), label="array bound"),
]  # fmt: skip

# ----- unary math and activations -----------------------------------------------------
UNARY_MATH = [
    unary("exp", fg.exp, np.exp, torch=T.exp),
    unary("expm1", fg.expm1, np.expm1, torch=T.expm1),
    unary("log", fg.log, np.log, POS, torch=T.log),
    unary("log2", fg.log2, np.log2, POS, torch=T.log2),
    unary("log10", fg.log10, np.log10, POS, torch=T.log10),
    unary("log1p", fg.log1p, np.log1p, unif(-0.5, 2.0), torch=T.log1p),
    unary("sqrt", fg.sqrt, np.sqrt, POS, torch=T.sqrt),
    unary("square", fg.square, np.square, torch=T.square),
    unary("reciprocal", fg.reciprocal, np.reciprocal, NONZERO, torch=T.reciprocal),
    unary("abs", fg.abs, np.abs, away(0.0), torch=T.abs),
    unary("sin", fg.sin, np.sin, torch=T.sin),
    unary("cos", fg.cos, np.cos, torch=T.cos),
    unary("tan", fg.tan, np.tan, unif(-1.2, 1.2), torch=T.tan),
    unary("tanh", fg.tanh, np.tanh, torch=T.tanh),
    unary("sinh", fg.sinh, np.sinh, torch=T.sinh),
    unary("cosh", fg.cosh, np.cosh, torch=T.cosh),
    unary("arctan", fg.arctan, np.arctan, unif(-3.0, 3.0), torch=T.arctan),
    unary("arcsin", fg.arcsin, np.arcsin, unif(-0.9, 0.9), torch=T.arcsin),
    unary("arccos", fg.arccos, np.arccos, unif(-0.9, 0.9), torch=T.arccos),
    unary("erf", fg.erf, lambda x: np.vectorize(math.erf, otypes=[x.dtype])(x), unif(-2.5, 2.5), torch=T.erf),
    unary("sigmoid", fg.sigmoid, sigmoid_ref, unif(-5.0, 5.0), torch=T.sigmoid),
    unary("relu", fg.relu, lambda x: np.maximum(x, 0), away(0.0), torch=T.relu),
    unary("leaky_relu", fg.leaky_relu, lambda x: np.where(x > 0, x, x * 0.01), away(0.0), torch=F.leaky_relu),
    OpCase("leaky_relu", lambda x: fg.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, x * 0.2),
        one([(3,), (2, 3)]), each(away(0.0)), label="slope 0.2", torch=lambda x: F.leaky_relu(x, 0.2)),
    unary("softplus", fg.softplus, softplus_ref(1.0, 20.0), unif(-4.0, 4.0), torch=F.softplus),
    OpCase("softplus", lambda x: fg.softplus(x, beta=2.0, threshold=1.0), softplus_ref(2.0, 1.0),
        one([(), (6,), (2, 3)]), each(away(0.5)), label="beta 2, threshold 1", torch=softplus_torch(2.0, 1.0)),
    OpCase("softplus", lambda x: fg.softplus(x, threshold=1.0), softplus_ref(1.0, 1.0), one([(5,), (2, 3)]),
        each(away(1.0, lo=-3.0, hi=3.0)), label="past threshold", torch=softplus_torch(1.0, 1.0)),
]  # fmt: skip

# ----- forward-only ops (no gradient rules) ---------------------------------------------
COMPARE = [
    OpCase(name, f, r, BINARY, each(small_ints), grad_inputs=(), torch=SAME)
    for name, f, r in [
        ("eq", lambda a, b: a == b, np.equal),
        ("ne", lambda a, b: a != b, np.not_equal),
        ("lt", lambda a, b: a < b, np.less),
        ("le", lambda a, b: a <= b, np.less_equal),
        ("gt", lambda a, b: a > b, np.greater),
        ("ge", lambda a, b: a >= b, np.greater_equal),
    ]
]
LOGICAL = [
    OpCase("logical_and", lambda a, b: a & b, np.logical_and, BINARY, each(boolean), grad_inputs=(),
        torch=SAME),
    OpCase("logical_or", lambda a, b: a | b, np.logical_or, BINARY, each(boolean), grad_inputs=(),
        torch=SAME),
    OpCase("logical_xor", lambda a, b: a ^ b, np.logical_xor, BINARY, each(boolean), grad_inputs=(),
        torch=SAME),
    OpCase("logical_not", lambda x: ~x, np.logical_not, one(UNARY), each(boolean), grad_inputs=(),
        torch=SAME),
    OpCase("logical_and", fnp.logical_and, np.logical_and, BINARY[4:7], each(small_ints), grad_inputs=(),
        label="floats", torch=T.logical_and),
]  # fmt: skip
ROUNDING = [
    unary("sign", fg.sign, np.sign, small_ints, grad_inputs=(), torch=T.sign),
    unary("floor", fg.floor, np.floor, unif(-4.0, 4.0), grad_inputs=(), torch=T.floor),
    unary("ceil", fg.ceil, np.ceil, unif(-4.0, 4.0), grad_inputs=(), torch=T.ceil),
    unary("round", fg.round, np.round, unif(-4.0, 4.0), grad_inputs=(), torch=T.round),
    unary("round", lambda x: fg.round(x, 1), lambda x: np.round(x, 1), label="decimals", grad_inputs=(),
          torch=lambda x: T.round(x, decimals=1)),
    unary("isnan", fg.isnan, np.isnan, specials, grad_inputs=(), torch=T.isnan),
    unary("isfinite", fg.isfinite, np.isfinite, specials, grad_inputs=(), torch=T.isfinite),
]  # fmt: skip

CASES: list[OpCase] = ARITHMETIC + SELECTION + UNARY_MATH + COMPARE + LOGICAL + ROUNDING
