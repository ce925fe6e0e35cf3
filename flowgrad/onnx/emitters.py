"""EMITTERS: each exportable registry primitive and the ONNX node (or small fixed pattern) it becomes.

An emitter gets the graph and the traced call (``graph.Call``) and appends nodes that write
``c.out``. A primitive missing here has no ONNX form: export names it and the module it ran in.
Convolution and pooling are patterns over primitives: ``unfold2d`` makes a symbolic "windows"
value, and only the reshape, matmul, max or mean that conv2d, max_pool2d and avg_pool2d apply
to it turn it into Conv, MaxPool or AveragePool.

>>> from flowgrad.onnx.emitters import EMITTERS
>>> "linear" in EMITTERS and "unfold2d" in EMITTERS
True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .graph import Call, Graph
from .patterns import conv, getitem, pool, reshape_windows, unfold2d

__all__ = ["EMITTERS"]

_BIG = np.iinfo(np.int64).max


def _simple(op_type: str, **attrs: Any) -> Callable[[Graph, Call], None]:
    def emit(g: Graph, c: Call) -> None:
        g.node(op_type, c.names(), c.out, **attrs)

    return emit


def _promoting(op_type: str, first: int = 0) -> Callable[[Graph, Call], None]:
    """An elementwise node whose inputs (from ``first`` on) NumPy would promote to one dtype."""

    def emit(g: Graph, c: Call) -> None:
        g.node(op_type, c.common_names(first), c.out)

    return emit


def _negated(op_type: str) -> Callable[[Graph, Call], None]:
    def emit(g: Graph, c: Call) -> None:
        g.node("Not", [g.node(op_type, c.common_names())], c.out)

    return emit


def _square(g: Graph, c: Call) -> None:
    x = c.name(0)
    g.node("Mul", [x, x], c.out)


def _by_const(op_type: str, value: float, first: str = "Log") -> Callable[[Graph, Call], None]:
    def emit(g: Graph, c: Call) -> None:
        inner = g.node(first, [c.name(0)])
        g.node(op_type, [inner, g.const(np.asarray(value, c.out_dtype))], c.out)

    return emit


def _exp2(g: Graph, c: Call) -> None:
    g.node("Pow", [g.const(np.asarray(2.0, c.out_dtype)), c.name(0)], c.out)


def _kahan(g: Graph, c: Call, u: str, exact: str, inf_value: str, ratio: Any) -> None:
    """``ratio(us)`` where it is finite, ``exact`` where u == 1 and ``inf_value`` where u is inf.

    ``us`` is u with those two cases replaced by a harmless value, so that no division by zero or
    inf/inf happens even in the branch Where drops (its gradient would be NaN after a round trip).
    """
    one = g.const(np.asarray(1.0, c.out_dtype))
    is_one, is_inf = g.node("Equal", [u, one]), g.node("IsInf", [u])
    us = g.node("Where", [g.node("Or", [is_one, is_inf]), g.const(np.asarray(2.0, c.out_dtype)), u])
    finite = g.node("Where", [is_inf, inf_value, ratio(us, one)])
    g.node("Where", [is_one, exact, finite], c.out)


def _expm1(g: Graph, c: Call) -> None:
    # exp(x) - 1 loses every digit for small x; (u - 1) * x / log(u) with u = exp(x) keeps them (Kahan).
    x = c.name(0)
    u = g.node("Exp", [x])
    _kahan(
        g,
        c,
        u,
        x,
        u,
        lambda us, one: g.node("Div", [g.node("Mul", [g.node("Sub", [us, one]), x]), g.node("Log", [us])]),
    )


def _log1p(g: Graph, c: Call) -> None:
    # log(1 + x) loses the digits of small x; log(u) * x / (u - 1) with u = 1 + x keeps them (Kahan).
    x = c.name(0)
    u = g.node("Add", [g.const(np.asarray(1.0, c.out_dtype)), x])
    _kahan(
        g,
        c,
        u,
        x,
        u,
        lambda us, one: g.node("Div", [g.node("Mul", [g.node("Log", [us]), x]), g.node("Sub", [us, one])]),
    )


def _hypot(g: Graph, c: Call) -> None:
    x, y = c.name(0), c.name(1)
    g.node("Sqrt", [g.node("Add", [g.node("Mul", [x, x]), g.node("Mul", [y, y])])], c.out)


def _isfinite(g: Graph, c: Call) -> None:
    x = c.name(0)
    g.node("Not", [g.node("Or", [g.node("IsInf", [x]), g.node("IsNaN", [x])])], c.out)


def _round(g: Graph, c: Call) -> None:
    if c.params.get("decimals", 0) != 0:
        raise c.fail("round with decimals has no ONNX form; round to an integer")
    g.node("Round", [c.name(0)], c.out)


def _clip(g: Graph, c: Call) -> None:
    g.node("Clip", [c.name(0), c.name(1), c.name(2)], c.out)


def _leaky_relu(g: Graph, c: Call) -> None:
    g.node("LeakyRelu", [c.name(0)], c.out, alpha=float(c.params["negative_slope"]))


def _softplus(g: Graph, c: Call) -> None:
    beta, threshold = float(c.params["beta"]), float(c.params["threshold"])
    x = c.name(0)
    z = x if beta == 1 else g.node("Mul", [x, g.const(np.asarray(beta, c.out_dtype))])
    soft = g.node("Softplus", [z])
    if beta != 1:
        soft = g.node("Div", [soft, g.const(np.asarray(beta, c.out_dtype))])
    over = g.node("Greater", [z, g.const(np.asarray(threshold, c.out_dtype))])
    g.node("Where", [over, x, soft], c.out)


def _axis_op(op_type: str) -> Callable[[Graph, Call], None]:
    def emit(g: Graph, c: Call) -> None:
        g.node(op_type, [c.name(0)], c.out, axis=int(c.params["axis"]))

    return emit


def _axes(axis: Any) -> list[int] | None:
    if axis is None:
        return None
    return [int(a) for a in axis] if isinstance(axis, (tuple, list)) else [int(axis)]


def _reduction(op_type: str) -> Callable[[Graph, Call], None]:
    def emit(g: Graph, c: Call) -> None:
        window = c.virtual(0)
        if window is not None and op_type in ("ReduceMax", "ReduceMean"):
            pool(g, c, window, "MaxPool" if op_type == "ReduceMax" else "AveragePool")
            return
        x = c.name(0)
        if op_type in ("ReduceMax", "ReduceMin") and c.out_dtype == np.bool_:  # any/all on booleans
            x = g.node("Cast", [x], to=_onnx_type(np.dtype(np.int32)))
            r = g.reduce(op_type, x, _axes(c.params["axis"]), c.params["keepdims"])
            g.node("Cast", [r], c.out, to=_onnx_type(np.dtype(np.bool_)))
            return
        g.reduce(op_type, x, _axes(c.params["axis"]), c.params["keepdims"], c.out)

    return emit


def _var(g: Graph, c: Call) -> None:
    axes, ddof = _axes(c.params["axis"]), int(c.params["ddof"])
    shape, dyn = c.shape(0), c.dyn(0)
    reduced = range(len(shape)) if axes is None else [a % len(shape) for a in axes]
    if ddof and any(dyn[a] for a in reduced):
        raise c.fail("var with ddof over a dynamic axis has no fixed-size ONNX form")
    x = c.name(0)
    centered = g.node("Sub", [x, g.reduce("ReduceMean", x, axes, True)])
    squares = g.node("Mul", [centered, centered])
    if not ddof:
        g.reduce("ReduceMean", squares, axes, c.params["keepdims"], c.out)
        return
    n = math.prod(shape[a] for a in reduced)
    total = g.reduce("ReduceSum", squares, axes, c.params["keepdims"])
    g.node("Div", [total, g.const(np.asarray(n - ddof, c.out_dtype))], c.out)


def _arg(op_type: str) -> Callable[[Graph, Call], None]:
    def emit(g: Graph, c: Call) -> None:
        axis, keep = c.params["axis"], int(bool(c.params["keepdims"]))
        x = c.name(0)
        if axis is None:
            x, axis = g.node("Reshape", [x, g.ints([-1])]), 0
        g.node(op_type, [x], c.out, axis=int(axis), keepdims=keep)

    return emit


def _cumsum(g: Graph, c: Call) -> None:
    g.node("CumSum", [c.name(0), g.const(np.asarray(int(c.params["axis"]), np.int64))], c.out)


def _onnx_type(dtype: np.dtype) -> int:
    from ._onnx import onnx

    return int(onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))


def _astype(g: Graph, c: Call) -> None:
    g.node("Cast", [c.name(0)], c.out, to=_onnx_type(c.out_dtype))


def _target_shape(c: Call) -> list[int]:
    """The output's shape for Reshape/Expand: 0 keeps a dynamic input axis, -1 infers one."""
    in_dyn, in_shape = c.dyn(0), c.shape(0)
    target, inferred = [], False
    for i, (size, dyn) in enumerate(zip(c.out_shape, c.dyn_out)):
        if not dyn:
            target.append(int(size))
        elif (
            i < len(in_shape)
            and in_dyn[i]
            and in_shape[i] == size
            and all(a == b for a, b in zip(in_shape[:i], c.out_shape[:i]))
        ):
            target.append(0)
        elif not inferred:
            target.append(-1)
            inferred = True
        else:
            raise c.fail(f"reshape to {c.out_shape} mixes several dynamic axes; ONNX can infer only one size")
    return target


def _reshape(g: Graph, c: Call) -> None:
    window = c.virtual(0)
    if window is not None:
        reshape_windows(g, c, window)
        return
    x = c.name(0)
    g.node("Reshape", [x, g.ints(_target_shape(c))], c.out)
    g.origin[c.out] = (x, c.shape(0))


def _broadcast_to(g: Graph, c: Call) -> None:
    shape, in_shape, in_dyn = list(c.out_shape), c.shape(0), c.dyn(0)
    lead = len(shape) - len(in_shape)
    for i, dyn in enumerate(c.dyn_out):
        if dyn:
            if i < lead or not in_dyn[i - lead]:
                raise c.fail("broadcasting to a dynamic axis the input does not have has no fixed ONNX form")
            shape[i] = 1  # Expand keeps the input's size where the shape says 1
    g.node("Expand", [c.name(0), g.ints(shape)], c.out)


def _transpose(g: Graph, c: Call) -> None:
    axes = c.params["axes"]
    nd = len(c.shape(0))
    perm = list(range(nd))[::-1] if axes is None else [int(a) % nd for a in axes]
    g.node("Transpose", [c.name(0)], c.out, perm=perm)


def _expand_dims(g: Graph, c: Call) -> None:
    nd = len(c.out_shape)
    axes = sorted(a % nd for a in _axes(c.params["axis"]) or [])
    g.node("Unsqueeze", [c.name(0), g.ints(axes)], c.out)


def _squeeze(g: Graph, c: Call) -> None:
    shape, nd = c.shape(0), len(c.shape(0))
    axis = c.params["axis"]
    axes = [i for i, s in enumerate(shape) if s == 1 and not c.dyn(0)[i]] if axis is None else _axes(axis)
    g.node("Squeeze", [c.name(0), g.ints([a % nd for a in axes or []])], c.out)


def _flip(g: Graph, c: Call) -> None:
    nd = len(c.shape(0))
    axes = list(range(nd)) if c.params["axis"] is None else [a % nd for a in _axes(c.params["axis"]) or []]
    n = len(axes)
    g.node("Slice", [c.name(0), g.ints([-1] * n), g.ints([-_BIG] * n), g.ints(axes), g.ints([-1] * n)], c.out)


def _concatenate(g: Graph, c: Call) -> None:
    g.node("Concat", c.names(), c.out, axis=int(c.params["axis"]))


def _stack(g: Graph, c: Call) -> None:
    axis = int(c.params["axis"]) % len(c.out_shape)
    parts = [g.node("Unsqueeze", [n, g.ints([axis])]) for n in c.names()]
    g.node("Concat", parts, c.out, axis=axis)


def _pad(g: Graph, c: Call) -> None:
    modes = {"constant": "constant", "reflect": "reflect", "edge": "edge"}
    mode = c.params["mode"]
    if mode not in modes:
        raise c.fail(f"pad mode {mode!r} has no ONNX form (constant, reflect and edge do)")
    widths = c.params["pad_width"]
    pads = [int(a) for a, _ in widths] + [int(b) for _, b in widths]
    inputs = [c.name(0), g.ints(pads)]
    if mode == "constant":
        inputs.append(g.const(np.asarray(c.params["constant_values"], c.out_dtype)))
    g.node("Pad", inputs, c.out, mode=modes[mode])


def _einsum(g: Graph, c: Call) -> None:
    g.node("Einsum", c.names(), c.out, equation=c.params["subscripts"].replace(" ", ""))


def _linear(g: Graph, c: Call) -> None:
    x, w = c.name(0), c.name(1)
    has_bias = c.value(2) is not None
    if len(c.shape(0)) == 2:
        g.node("Gemm", [x, w] + ([c.name(2)] if has_bias else []), c.out, transB=1)
        return
    y = g.node("MatMul", [x, g.node("Transpose", [w], perm=[1, 0])], None if has_bias else c.out)
    if has_bias:
        g.node("Add", [y, c.name(2)], c.out)


def _matmul(g: Graph, c: Call) -> None:
    window = c.virtual(1)
    if window is not None:
        conv(g, c, window)
        return
    g.node("MatMul", c.common_names(), c.out)


def _window_attrs(c: Call, kernel: tuple) -> dict:
    (ph, pw), stride, dilation = c.params["padding"], c.params["stride"], c.params["dilation"]
    return {
        "kernel_shape": list(kernel), "strides": list(stride), "pads": [ph, pw, ph, pw], "dilations": list(dilation),
    }  # fmt: skip


def _conv2d(g: Graph, c: Call) -> None:
    """The conv2d primitive (fg.conv2d): ONNX's Conv, the weight as (out, in/groups, kh, kw)."""
    inputs = [c.name(i) for i in range(len(c))]
    g.node("Conv", inputs, c.out, group=int(c.params["groups"]), **_window_attrs(c, c.shape(1)[2:]))


def _max_pool2d(g: Graph, c: Call) -> None:
    """The max_pool2d primitive (fg.max_pool2d): ONNX's MaxPool (both pad with -inf)."""
    g.node("MaxPool", [c.name(0)], c.out, **_window_attrs(c, c.params["kernel"]))


EMITTERS: dict[str, Callable[[Graph, Call], None]] = {
    # elementwise arithmetic
    "add": _promoting("Add"),
    "sub": _promoting("Sub"),
    "mul": _promoting("Mul"),
    "div": _promoting("Div"),
    "pow": _promoting("Pow"),
    "neg": _simple("Neg"),
    "abs": _simple("Abs"),
    "reciprocal": _simple("Reciprocal"),
    "square": _square,
    "sqrt": _simple("Sqrt"),
    "exp": _simple("Exp"),
    "exp2": _exp2,
    "expm1": _expm1,
    "log": _simple("Log"),
    "log1p": _log1p,
    "log2": _by_const("Div", math.log(2.0)),
    "log10": _by_const("Div", math.log(10.0)),
    "sin": _simple("Sin"),
    "cos": _simple("Cos"),
    "tan": _simple("Tan"),
    "arcsin": _simple("Asin"),
    "arccos": _simple("Acos"),
    "arctan": _simple("Atan"),
    "sinh": _simple("Sinh"),
    "cosh": _simple("Cosh"),
    "arcsinh": _simple("Asinh"),
    "arccosh": _simple("Acosh"),
    "arctanh": _simple("Atanh"),
    "hypot": _hypot,
    "erf": _simple("Erf"),
    "sign": _simple("Sign"),
    "floor": _simple("Floor"),
    "ceil": _simple("Ceil"),
    "round": _round,
    "maximum": _promoting("Max"),
    "minimum": _promoting("Min"),
    "clip": _clip,
    "where": _promoting("Where", first=1),
    # comparisons and logic
    "eq": _promoting("Equal"),
    "ne": _negated("Equal"),
    "lt": _promoting("Less"),
    "le": _promoting("LessOrEqual"),
    "gt": _promoting("Greater"),
    "ge": _promoting("GreaterOrEqual"),
    "logical_and": _simple("And"),
    "logical_or": _simple("Or"),
    "logical_xor": _simple("Xor"),
    "logical_not": _simple("Not"),
    "isnan": _simple("IsNaN"),
    "isfinite": _isfinite,
    # activations
    "relu": _simple("Relu"),
    "sigmoid": _simple("Sigmoid"),
    "tanh": _simple("Tanh"),
    "leaky_relu": _leaky_relu,
    "softplus": _softplus,
    "softmax": _axis_op("Softmax"),
    "log_softmax": _axis_op("LogSoftmax"),
    # reductions
    "sum": _reduction("ReduceSum"),
    "mean": _reduction("ReduceMean"),
    "max": _reduction("ReduceMax"),
    "min": _reduction("ReduceMin"),
    "prod": _reduction("ReduceProd"),
    "any": _reduction("ReduceMax"),
    "all": _reduction("ReduceMin"),
    "logsumexp": _reduction("ReduceLogSumExp"),
    "var": _var,
    "argmax": _arg("ArgMax"),
    "argmin": _arg("ArgMin"),
    "cumsum": _cumsum,
    # shapes and indexing
    "astype": _astype,
    "copy": _simple("Identity"),
    "reshape": _reshape,
    "broadcast_to": _broadcast_to,
    "transpose": _transpose,
    "expand_dims": _expand_dims,
    "squeeze": _squeeze,
    "flip": _flip,
    "concatenate": _concatenate,
    "stack": _stack,
    "pad": _pad,
    "getitem": getitem,
    # linear algebra, convolution and pooling
    "linear": _linear,
    "matmul": _matmul,
    "einsum": _einsum,
    "det": _simple("Det"),
    "unfold2d": unfold2d,
    "conv2d": _conv2d,
    "max_pool2d": _max_pool2d,
}
