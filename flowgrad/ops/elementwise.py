"""Elementwise primitives: arithmetic, comparisons, unary math, activations.

Each primitive is one ``defop`` entry: the NumPy forward beside one gradient
rule per input. Rules use ``xp`` for functions and plain operators on values,
so the same rule serves first-order (NumPy) and higher-order (tensors) passes.
Conventions at kinks follow PyTorch: relu'(0) = 0, |x|'(0) = 0, and ties in
maximum/minimum split the gradient in half.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..backend import is_array
from ..core.exports import export, xp_helper
from ..core.ops import accepts_out, apply, defop
from ..core.tensor import Tensor
from . import complexops as _cx

_FLOAT_CAP: dict = {}


def _exp_cap(dtype: np.dtype) -> float:
    """Largest argument whose exp is finite in ``dtype`` (for overflow-free sigmoid)."""
    cap = _FLOAT_CAP.get(dtype)
    if cap is None:
        kind = dtype if dtype.kind == "f" else np.dtype(np.float64)
        cap = _FLOAT_CAP[dtype] = float(np.floor(np.log(np.finfo(kind).max)))
    return cap


# ----- arithmetic ---------------------------------------------------------------------
ADD = defop("add", np.add, lambda xp, g, ans, a, b: g, lambda xp, g, ans, a, b: g)
SUB = defop("sub", np.subtract, lambda xp, g, ans, a, b: g, lambda xp, g, ans, a, b: -g)
MUL = defop("mul", np.multiply, lambda xp, g, ans, a, b: g * b, lambda xp, g, ans, a, b: g * a)


def _div_divisor_rule(g: Any, a: Any, b: Any) -> Any:
    """-g a / b^2. In float64, HIPS autograd's form (the same digits; b * b underflows only below
    1e-154); in narrower floats (a / b) / b, as PyTorch, since b * b underflows to 0 in float32
    below 1e-19 where the quotient stays finite (a float32 second derivative came out nan where
    torch's was -20.7)."""
    if np.asarray(getattr(b, "_data", b)).dtype == np.float64:
        return -g * a / (b * b)
    return -g * (a / b) / b


DIV = defop(
    "div",
    np.true_divide,
    lambda xp, g, ans, a, b: g / b,
    lambda xp, g, ans, a, b: _div_divisor_rule(g, a, b),
)


def _pow_base(xp: Any, g: Any, ans: Any, a: Any, b: Any) -> Any:
    if isinstance(b, (int, float)):
        if b == 0:
            return g * 0
        if b == 2:
            return g * 2 * a
        return g * b * a ** (b - 1)
    return g * b * a ** (b - 1)


def _pow_exponent(xp: Any, g: Any, ans: Any, a: Any, b: Any) -> Any:
    # d(a**b)/db = a**b log a; taken as 0 where a == 0 (PyTorch's convention).
    safe = xp.where(a == 0, 1, a)
    return xp.where(a == 0, 0, g * ans * xp.log(safe))


POW = defop("pow", np.power, _pow_base, _pow_exponent)
FLOORDIV = defop(
    "floor_divide",
    np.floor_divide,
    lambda xp, g, ans, a, b: g * 0,
    lambda xp, g, ans, a, b: g * 0,
)
MOD = defop(
    "remainder",
    np.remainder,
    lambda xp, g, ans, a, b: g,
    lambda xp, g, ans, a, b: -g * xp.floor_divide(a, b),
)
NEG = defop("neg", np.negative, lambda xp, g, ans, x: -g)


def _max_rule(first: bool) -> Any:
    def rule(xp: Any, g: Any, ans: Any, a: Any, b: Any) -> Any:
        mine, other = (a, b) if first else (b, a)
        return xp.where(mine == other, g / 2, xp.where(mine == ans, g, 0))

    return rule


MAXIMUM = defop("maximum", np.maximum, _max_rule(True), _max_rule(False))
MINIMUM = defop("minimum", np.minimum, _max_rule(True), _max_rule(False))
WHERE = defop(
    "where",
    np.where,
    None,
    lambda xp, g, ans, c, a, b: xp.where(c, g, 0),
    lambda xp, g, ans, c, a, b: xp.where(c, 0, g),
)


def _clip_forward(x: np.ndarray, lo: Any, hi: Any) -> np.ndarray:
    if lo is None and hi is None:
        return x.copy()
    return np.clip(x, lo, hi)


def _clip_rule(xp: Any, g: Any, ans: Any, x: Any, lo: Any, hi: Any) -> Any:
    inside = True
    if lo is not None:
        inside = x >= lo
    if hi is not None:
        inside = (x <= hi) & inside if lo is not None else (x <= hi)
    if inside is True:
        return g
    return xp.where(inside, g, 0)


def _clip_lo_rule(xp: Any, g: Any, ans: Any, x: Any, lo: Any, hi: Any) -> Any:
    # A tensor bound gets the gradient where it is the result, as in torch: where x < lo
    # (unless lo > hi, where hi wins); unwrapping the bounds would drop that gradient silently.
    below = x < lo
    return xp.where(below if hi is None else below & (lo < hi), g, 0)


def _clip_hi_rule(xp: Any, g: Any, ans: Any, x: Any, lo: Any, hi: Any) -> Any:
    above = x > hi
    return xp.where(above if lo is None else above | (hi < lo), g, 0)


CLIP = defop("clip", _clip_forward, _clip_rule, _clip_lo_rule, _clip_hi_rule)

# ----- comparisons and other non-differentiable ops ------------------------------------
EQ = defop("eq", np.equal)
NE = defop("ne", np.not_equal)
LT = defop("lt", np.less)
LE = defop("le", np.less_equal)
GT = defop("gt", np.greater)
GE = defop("ge", np.greater_equal)
SIGN = defop("sign", np.sign)
FLOOR = defop("floor", np.floor)
CEIL = defop("ceil", np.ceil)
ROUND = defop("round", np.round)
ISNAN = defop("isnan", np.isnan)
ISFINITE = defop("isfinite", np.isfinite)
LOGICAL_NOT = defop("logical_not", np.logical_not)
LOGICAL_AND = defop("logical_and", np.logical_and)
LOGICAL_OR = defop("logical_or", np.logical_or)
LOGICAL_XOR = defop("logical_xor", np.logical_xor)

# ----- unary math -----------------------------------------------------------------------
EXP = defop("exp", np.exp, lambda xp, g, ans, x: g * ans)
EXPM1 = defop("expm1", np.expm1, lambda xp, g, ans, x: g * (ans + 1))
LOG = defop("log", np.log, lambda xp, g, ans, x: g / x)
LOG2 = defop("log2", np.log2, lambda xp, g, ans, x: g / (x * math.log(2.0)))
LOG10 = defop("log10", np.log10, lambda xp, g, ans, x: g / (x * math.log(10.0)))
LOG1P = defop("log1p", np.log1p, lambda xp, g, ans, x: g / (x + 1))
SQRT = defop("sqrt", np.sqrt, lambda xp, g, ans, x: g / (ans * 2))
SQUARE = defop("square", np.square, lambda xp, g, ans, x: g * 2 * x)
RECIPROCAL = defop("reciprocal", np.reciprocal, lambda xp, g, ans, x: -g * ans * ans)
ABS = defop("abs", np.abs, lambda xp, g, ans, x: g * xp.sign(x))
SIN = defop("sin", np.sin, lambda xp, g, ans, x: g * xp.cos(x))
COS = defop("cos", np.cos, lambda xp, g, ans, x: -g * xp.sin(x))
TAN = defop("tan", np.tan, lambda xp, g, ans, x: g * (ans * ans + 1))
TANH = defop("tanh", np.tanh, lambda xp, g, ans, x: g * (1 - ans * ans))
SINH = defop("sinh", np.sinh, lambda xp, g, ans, x: g * xp.cosh(x))
COSH = defop("cosh", np.cosh, lambda xp, g, ans, x: g * xp.sinh(x))
ARCTAN = defop("arctan", np.arctan, lambda xp, g, ans, x: g / (x * x + 1))
ARCSIN = defop("arcsin", np.arcsin, lambda xp, g, ans, x: g / xp.sqrt(1 - x * x))
ARCCOS = defop("arccos", np.arccos, lambda xp, g, ans, x: -g / xp.sqrt(1 - x * x))


_erf_elementwise = np.frompyfunc(math.erf, 1, 1)


def _erf_forward(x: np.ndarray) -> np.ndarray:
    # NumPy has no erf; math.erf per element is exact and fast enough for activations.
    x = np.asarray(x)  # a Python number too (scipy.special.erf(0.5) on plain data)
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    return np.asarray(_erf_elementwise(x), dtype=dtype)


ERF = defop("erf", _erf_forward, lambda xp, g, ans, x: g * (2 / math.sqrt(math.pi)) * xp.exp(-(x * x)))


# ----- activations ------------------------------------------------------------------------
@accepts_out
def _sigmoid_forward(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    # 1 / (1 + exp(-x)), the textbook formula (so tutorial numbers match to the
    # last digit), with -x capped where exp would overflow: no warnings at ±1e4.
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    if out is None and not x.ndim:
        out = np.empty((), x.dtype)  # 0-d: keep an array, not a NumPy scalar
    out = np.negative(x, out=out)
    np.minimum(out, _exp_cap(out.dtype), out=out)
    np.exp(out, out=out)
    out += 1
    return np.reciprocal(out, out=out)


SIGMOID = defop("sigmoid", _sigmoid_forward, lambda xp, g, ans, x: g * ans * (1 - ans))


@accepts_out
def _relu_forward(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    return np.maximum(x, 0, out=out)


def _relu_grad(xp: Any, g: Any, ans: Any, x: Any) -> Any:
    if is_array(g) and g.ndim and g.shape == x.shape and g.dtype == x.dtype:
        # A copy in g's own memory order: where() would write C order, a slow transposing
        # loop for the (C, N, H, W)-ordered arrays conv2d makes.
        return _relu_grad_inplace(g.copy(order="K"), ans, x)
    return xp.where(x > 0, g, 0)


def _relu_grad_inplace(g: np.ndarray, ans: np.ndarray, x: np.ndarray) -> np.ndarray:
    # The digits of where(x > 0, g, 0): NaN inputs and NaN gradients included.
    if g.ndim == 0 or g.shape != x.shape or g.dtype != x.dtype or not g.flags.writeable:
        return np.where(x > 0, g, 0)
    off = np.greater(x, 0)
    np.logical_not(off, out=off)
    np.copyto(g, 0, where=off)
    return g


RELU = defop("relu", _relu_forward, _relu_grad, vjp_in_place=_relu_grad_inplace)


def _leaky_forward(x: np.ndarray, negative_slope: float) -> np.ndarray:
    return np.where(x > 0, x, x * negative_slope)


LEAKY_RELU = defop(
    "leaky_relu",
    _leaky_forward,
    lambda xp, g, ans, x, negative_slope: xp.where(x > 0, g, g * negative_slope),
)


def _softplus_forward(x: np.ndarray, beta: float, threshold: float) -> np.ndarray:
    z = x * beta
    soft = np.logaddexp(0, z)
    if beta != 1:
        soft = soft / beta
    return np.where(z > threshold, x, soft)


def _softplus_rule(xp: Any, g: Any, ans: Any, x: Any, beta: float, threshold: float) -> Any:
    z = x * beta
    return xp.where(z > threshold, g, g * xp.sigmoid(z))


SOFTPLUS = defop("softplus", _softplus_forward, _softplus_rule)


def _unary(op: Any) -> Any:
    def fn(x: Any) -> Tensor:
        return apply(op, (x,))

    fn.__name__ = op.name
    fn.__doc__ = f"Elementwise ``{op.name}`` (differentiable)."
    return fn


exp = _unary(EXP)
expm1 = _unary(EXPM1)
log = _unary(LOG)
log2 = _unary(LOG2)
log10 = _unary(LOG10)
log1p = _unary(LOG1P)
sqrt = _unary(SQRT)
square = _unary(SQUARE)
reciprocal = _unary(RECIPROCAL)


def abs(x: Any) -> Tensor:  # noqa: A001 - NumPy's and PyTorch's name
    """Elementwise absolute value (differentiable; of complex values, the modulus)."""
    if np.iscomplexobj(x._data if isinstance(x, Tensor) else x):
        return _cx.abs(x)
    return apply(ABS, (x,))


sin = _unary(SIN)
cos = _unary(COS)
tan = _unary(TAN)
tanh = _unary(TANH)
sinh = _unary(SINH)
cosh = _unary(COSH)
arctan = _unary(ARCTAN)
arcsin = _unary(ARCSIN)
arccos = _unary(ARCCOS)
erf = _unary(ERF)
negative = _unary(NEG)
sigmoid = _unary(SIGMOID)
relu = _unary(RELU)
sign = _unary(SIGN)
floor = _unary(FLOOR)
ceil = _unary(CEIL)
isnan = _unary(ISNAN)
isfinite = _unary(ISFINITE)
logical_not = _unary(LOGICAL_NOT)


def round(x: Any, decimals: int = 0) -> Tensor:  # noqa: A001
    """Round to ``decimals`` (no gradient)."""
    return apply(ROUND, (x,), {"decimals": decimals})


def _binary(op: Any) -> Any:
    def fn(a: Any, b: Any) -> Tensor:
        return apply(op, (a, b))

    fn.__name__ = op.name
    fn.__doc__ = f"Elementwise ``{op.name}`` with NumPy broadcasting (differentiable)."
    return fn


add = _binary(ADD)
subtract = _binary(SUB)
multiply = _binary(MUL)
true_divide = divide = _binary(DIV)
power = _binary(POW)
floor_divide = _binary(FLOORDIV)
remainder = mod = _binary(MOD)
maximum = _binary(MAXIMUM)
minimum = _binary(MINIMUM)
equal = _binary(EQ)
not_equal = _binary(NE)
less = _binary(LT)
less_equal = _binary(LE)
greater = _binary(GT)
greater_equal = _binary(GE)
logical_and = _binary(LOGICAL_AND)
logical_or = _binary(LOGICAL_OR)
logical_xor = _binary(LOGICAL_XOR)


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """``x`` where ``condition`` holds, else ``y`` (gradients flow to x and y)."""
    if isinstance(condition, Tensor):
        condition = condition._data
    return apply(WHERE, (condition, x, y))


def clip(x: Any, a_min: Any = None, a_max: Any = None) -> Tensor:
    """Limit values to [a_min, a_max]; the gradient passes where a_min <= x <= a_max.

    Tensor bounds get theirs where they are the result (x < a_min, x > a_max), as in torch.
    """
    return apply(CLIP, (x, a_min, a_max))


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    """``x`` for x > 0, else ``negative_slope * x``."""
    return apply(LEAKY_RELU, (x,), {"negative_slope": float(negative_slope)})


def softplus(x: Any, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta x)) / beta``, linear above ``threshold`` (as PyTorch)."""
    return apply(SOFTPLUS, (x,), {"beta": float(beta), "threshold": float(threshold)})


xp_helper("sigmoid", SIGMOID.forward, sigmoid)  # xp.sigmoid in rules (core/exports.py)


# ----- public names (core/exports.py): flowgrad.numpy's, the Tensor method's, flowgrad's ------------
for _fn, _numpy, _method, _top in [
    (exp, "exp", "exp", "exp"),
    (expm1, "expm1", "expm1", "expm1"),
    (log, "log", "log", "log"),
    (log2, "log2", "log2", "log2"),
    (log10, "log10", "log10", "log10"),
    (log1p, "log1p", "log1p", "log1p"),
    (sqrt, "sqrt", "sqrt", "sqrt"),
    (square, "square", "square", "square"),
    (reciprocal, "reciprocal", "reciprocal", "reciprocal"),
    (sin, "sin", "sin", "sin"),
    (cos, "cos", "cos", "cos"),
    (tan, "tan", "tan", "tan"),
    (tanh, "tanh", "tanh", "tanh"),
    (sinh, "sinh", "sinh", "sinh"),
    (cosh, "cosh", "cosh", "cosh"),
    (arctan, "arctan", "arctan atan", "arctan"),
    (arcsin, "arcsin", "", "arcsin"),
    (arccos, "arccos", "", "arccos"),
    (erf, "", "", "erf"),
    (negative, "negative", "neg negative", "negative neg"),
    (sigmoid, "", "sigmoid", "sigmoid"),
    (relu, "", "relu", "relu"),
    (sign, "sign", "sign", "sign"),
    (floor, "floor", "floor", "floor"),
    (ceil, "ceil", "ceil", "ceil"),
    (isnan, "isnan", "isnan", "isnan"),
    (isfinite, "isfinite", "isfinite", "isfinite"),
    (logical_not, "logical_not", "logical_not", "logical_not"),
    (abs, "abs absolute", "abs absolute", "abs absolute"),
    (round, "round", "round", "round"),
    (add, "add", "", "add"),
    (subtract, "subtract", "", "subtract sub"),
    (multiply, "multiply", "", "multiply mul"),
    (divide, "divide true_divide", "", "divide div"),
    (power, "power", "", "power pow"),
    (floor_divide, "floor_divide", "floor_divide", "floor_divide"),
    (remainder, "remainder mod", "remainder", "remainder"),
    (maximum, "maximum", "maximum", "maximum"),
    (minimum, "minimum", "minimum", "minimum"),
    (equal, "equal", "", "eq"),
    (not_equal, "not_equal", "", "ne"),
    (less, "less", "", "lt less"),
    (less_equal, "less_equal", "", "le less_equal"),
    (greater, "greater", "", "gt greater"),
    (greater_equal, "greater_equal", "", "ge greater_equal"),
    (logical_and, "logical_and", "logical_and", "logical_and"),
    (logical_or, "logical_or", "logical_or", "logical_or"),
    (logical_xor, "logical_xor", "logical_xor", "logical_xor"),
    (where, "where", "", "where"),
    (leaky_relu, "", "leaky_relu", "leaky_relu"),
    (softplus, "", "softplus", "softplus"),
]:
    export(_numpy, _method, _top)(_fn)
