"""IMPORTERS: each ONNX operator ``load`` runs, written with flowgrad ops (so it is differentiable).

An importer takes the node's attributes and its inputs (tensors, NumPy arrays for values known
without the data - shapes and the integer initializers - or None for an omitted optional input)
and returns its output (or a list of them). Shape arithmetic stays in NumPy, so a graph exported
with a dynamic batch axis (Shape -> Gather -> Concat -> Reshape) runs at any batch size.

>>> import numpy as np
>>> from flowgrad.onnx.importers import IMPORTERS
>>> IMPORTERS["Relu"]({}, [np.array([-1.0, 2.0], np.float32)])
tensor([0., 2.])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import flowgrad as fg
import flowgrad.nn.functional as F  # noqa: N812
import flowgrad.numpy as fnp
from flowgrad.errors import FlowgradError

__all__ = ["IMPORTERS", "UnsupportedOnnxError"]


class UnsupportedOnnxError(FlowgradError, NotImplementedError):
    """The ONNX graph uses an operator, or a form of one, that ``load`` does not run."""


def _static(v: Any) -> bool:
    return isinstance(v, np.ndarray) or v is None


def _arr(v: Any) -> np.ndarray:
    """A value needed as plain numbers (shapes, axes, indices)."""
    return v.numpy() if isinstance(v, fg.Tensor) else np.asarray(v)


def _t(v: Any) -> fg.Tensor:
    return v if isinstance(v, fg.Tensor) else fg.from_numpy(np.asarray(v))


def _elementwise(tensor_fn: Callable[..., Any], numpy_fn: Callable[..., Any] | None = None) -> Callable:
    def run(at: dict, xs: list) -> Any:
        if numpy_fn is not None and all(_static(x) for x in xs):
            return np.asarray(numpy_fn(*xs))  # shape arithmetic stays NumPy
        return tensor_fn(*[_t(x) for x in xs])

    return run


def _fail(op: str, what: str) -> UnsupportedOnnxError:
    return UnsupportedOnnxError(f"onnx.load: {op} {what} is not supported")


def _axes_arg(at: dict, xs: list, i: int = 1) -> list[int] | None:
    if len(xs) > i and xs[i] is not None:
        return [int(a) for a in _arr(xs[i]).reshape(-1)]
    return None if at.get("axes") is None else [int(a) for a in at["axes"]]


def _reduce(fn: Callable[..., Any]) -> Callable:
    def run(at: dict, xs: list) -> Any:
        axes = _axes_arg(at, xs)
        if not axes:
            if axes is not None or at.get("noop_with_empty_axes", 0):
                return xs[0]
            axes = None
        return fn(_t(xs[0]), axis=None if axes is None else tuple(axes), keepdims=bool(at.get("keepdims", 1)))

    return run


def _arg(fn: Callable[..., Any]) -> Callable:
    def run(at: dict, xs: list) -> Any:
        if at.get("select_last_index", 0):
            raise _fail("ArgMax/ArgMin", "with select_last_index=1")
        return fn(_t(xs[0]), axis=int(at.get("axis", 0)), keepdims=bool(at.get("keepdims", 1))).astype(np.int64)

    return run


def _gemm(at: dict, xs: list) -> Any:
    a, b = _t(xs[0]), _t(xs[1])
    if at.get("transA", 0):
        a = a.T
    if at.get("transB", 0):
        b = b.T
    y = a @ b
    if at.get("alpha", 1.0) != 1.0:
        y = y * at["alpha"]
    if len(xs) > 2 and xs[2] is not None:
        c = _t(xs[2])
        y = y + (c * at["beta"] if at.get("beta", 1.0) != 1.0 else c)
    return y


def _pads2d(at: dict, op: str) -> tuple[tuple[int, int], tuple[int, int]]:
    if at.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise _fail(op, f"with auto_pad={at['auto_pad']!r}")
    pads = list(at.get("pads", [0, 0, 0, 0]))
    if len(pads) != 4:
        raise _fail(op, "on other than 2-D images (N, C, H, W)")
    return (pads[0], pads[2]), (pads[1], pads[3])


def _padded(x: fg.Tensor, hpad: tuple, wpad: tuple, value: float) -> tuple[fg.Tensor, tuple]:
    """Symmetric pads go to the op; asymmetric ones are applied first."""
    if hpad[0] == hpad[1] and wpad[0] == wpad[1]:
        return x, (hpad[0], wpad[0])
    return F.pad(x, (wpad[0], wpad[1], hpad[0], hpad[1]), value=value), (0, 0)


def _conv(at: dict, xs: list) -> Any:
    x, w = _t(xs[0]), _t(xs[1])
    if x.ndim != 4:
        raise _fail("Conv", f"on a {x.ndim}-D input (only 2-D convolutions run)")
    x, pad = _padded(x, *_pads2d(at, "Conv"), 0.0)
    b = None if len(xs) < 3 or xs[2] is None else _t(xs[2])
    return F.conv2d(
        x, w, b, tuple(at.get("strides", (1, 1))), pad, tuple(at.get("dilations", (1, 1))), int(at.get("group", 1))
    )


def _pool(kind: str) -> Callable:
    def run(at: dict, xs: list) -> Any:
        x = _t(xs[0])
        if x.ndim != 4 or at.get("ceil_mode", 0):
            raise _fail(kind, "other than 2-D with ceil_mode=0")
        if len(at.get("kernel_shape", ())) != 2:
            raise _fail(kind, "other than 2-D kernels")
        kernel, stride = tuple(at["kernel_shape"]), tuple(at.get("strides", (1, 1)))
        dilation = tuple(at.get("dilations", (1, 1)))
        hpad, wpad = _pads2d(at, kind)
        if kind == "MaxPool":
            x, pad = _padded(x, hpad, wpad, -np.inf)
            return F.max_pool2d(x, kernel, stride, pad, dilation)
        if dilation != (1, 1):
            raise _fail(kind, "with dilations")
        padded, pad = _padded(x, hpad, wpad, 0.0)
        out = F.avg_pool2d(padded, kernel, stride, pad)
        if at.get("count_include_pad", 0) or (hpad == (0, 0) and wpad == (0, 0)):
            return out
        # padding excluded: divide by the share of real pixels in each window
        ones, _ = _padded(fg.ones(1, 1, *x.shape[2:], dtype=x.dtype), hpad, wpad, 0.0)
        return out / F.avg_pool2d(ones, kernel, stride, pad)

    return run


def _batch_norm(at: dict, xs: list) -> Any:
    if at.get("training_mode", 0):
        raise _fail("BatchNormalization", "in training mode")
    x, scale, bias, mean, var = (_t(v) for v in xs[:5])
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return (x - mean.reshape(shape)) / fg.sqrt(var.reshape(shape) + at.get("epsilon", 1e-5)) * scale.reshape(
        shape
    ) + bias.reshape(shape)


def _reshape(at: dict, xs: list) -> Any:
    x, shape = xs[0], [int(s) for s in _arr(xs[1])]
    if not at.get("allowzero", 0):
        shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
    return x.reshape(shape) if _static(x) else fnp.reshape(x, tuple(shape))


def _flatten(at: dict, xs: list) -> Any:
    x = xs[0]
    axis = int(at.get("axis", 1)) % (len(x.shape) + 1) if x.ndim else 0
    return fnp.reshape(_t(x), (math.prod(x.shape[:axis]), -1 if math.prod(x.shape[axis:]) else 0))


def _slice(at: dict, xs: list) -> Any:
    x = xs[0]
    starts, ends = _arr(xs[1]).reshape(-1), _arr(xs[2]).reshape(-1)
    axes = _arr(xs[3]).reshape(-1) if len(xs) > 3 and xs[3] is not None else np.arange(len(starts))
    steps = _arr(xs[4]).reshape(-1) if len(xs) > 4 and xs[4] is not None else np.ones(len(starts), np.int64)
    index = [slice(None)] * len(x.shape)
    for s, e, a, st in zip(starts, ends, axes, steps):
        size = x.shape[int(a)]
        lo, hi, _ = slice(int(max(min(s, 2**62), -(2**62))), int(max(min(e, 2**62), -(2**62))), int(st)).indices(size)
        index[int(a)] = slice(lo, hi if hi >= 0 else None, int(st))
    return x[tuple(index)]


def _gather(at: dict, xs: list) -> Any:
    x, idx = xs[0], _arr(xs[1]).astype(np.int64)
    axis = int(at.get("axis", 0)) % len(x.shape)
    index = (slice(None),) * axis + (idx,)
    return x[index] if _static(x) else _t(x)[index]


def _unsqueeze(at: dict, xs: list) -> Any:
    axes = _axes_arg(at, xs) or []
    x = xs[0]
    nd = len(x.shape) + len(axes)
    for a in sorted(a % nd for a in axes):
        x = np.expand_dims(x, a) if _static(x) else fnp.expand_dims(x, a)
    return x


def _squeeze(at: dict, xs: list) -> Any:
    axes = _axes_arg(at, xs)
    x = xs[0]
    axes_t = None if axes is None else tuple(a % len(x.shape) for a in axes)
    return np.squeeze(x, axes_t) if _static(x) else fnp.squeeze(x, axes_t)


def _concat(at: dict, xs: list) -> Any:
    axis = int(at["axis"])
    if all(_static(x) for x in xs):
        return np.concatenate(xs, axis=axis)
    return fnp.concatenate([_t(x) for x in xs], axis=axis)


def _cast(at: dict, xs: list) -> Any:
    from ._onnx import onnx

    dtype = onnx.helper.tensor_dtype_to_np_dtype(at["to"])
    x = xs[0]
    return x.astype(dtype) if _static(x) else _t(x).astype(dtype)


def _shape(at: dict, xs: list) -> Any:
    shape = np.asarray(xs[0].shape, np.int64)
    return shape[at.get("start", 0) : at.get("end", len(shape))]


def _constant(at: dict, xs: list) -> Any:
    for key, kind in (("value_float", np.float32), ("value_int", np.int64)):
        if key in at:
            return np.asarray(at[key], kind)
    for key, kind in (("value_floats", np.float32), ("value_ints", np.int64)):
        if key in at:
            return np.asarray(list(at[key]), kind)
    if "value" in at:
        from ._onnx import onnx

        return onnx.numpy_helper.to_array(at["value"])
    raise _fail("Constant", f"with attributes {sorted(at)}")


def _constant_of_shape(at: dict, xs: list) -> Any:
    from ._onnx import onnx

    value = onnx.numpy_helper.to_array(at["value"]) if "value" in at else np.zeros(1, np.float32)
    return np.full(tuple(int(s) for s in _arr(xs[0])), value.reshape(-1)[0], value.dtype)


def _expand(at: dict, xs: list) -> Any:
    x = xs[0]
    shape = np.broadcast_shapes(tuple(x.shape), tuple(int(s) for s in _arr(xs[1])))
    return np.broadcast_to(x, shape) if _static(x) else fnp.broadcast_to(x, shape)


def _pad(at: dict, xs: list) -> Any:
    x = _t(xs[0])
    pads = [int(p) for p in _arr(xs[1])]
    n = x.ndim
    if len(xs) > 3 and xs[3] is not None:
        raise _fail("Pad", "with axes")
    mode = at.get("mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    width = [(pads[i], pads[i + n]) for i in range(n)]
    if mode == "constant":
        value = 0.0 if len(xs) < 3 or xs[2] is None else float(_arr(xs[2]).reshape(-1)[0])
        return fnp.pad(x, width, mode="constant", constant_values=value)
    if mode in ("reflect", "edge"):
        return fnp.pad(x, width, mode=mode)
    raise _fail("Pad", f"mode {mode!r}")


def _softmax(fn: Callable[..., Any]) -> Callable:
    def run(at: dict, xs: list) -> Any:
        return fn(_t(xs[0]), int(at.get("axis", -1)))

    return run


def _elu(at: dict, xs: list) -> Any:
    x = _t(xs[0])
    return fg.where(x > 0, x, fnp.expm1(fnp.minimum(x, 0.0)) * at.get("alpha", 1.0))


def _gelu(at: dict, xs: list) -> Any:
    approximate = at.get("approximate", b"none")
    return F.gelu(_t(xs[0]), approximate.decode() if isinstance(approximate, bytes) else approximate)


def _clip(at: dict, xs: list) -> Any:
    lo = xs[1] if len(xs) > 1 else at.get("min")
    hi = xs[2] if len(xs) > 2 else at.get("max")
    return fnp.clip(_t(xs[0]), None if lo is None else _t(lo), None if hi is None else _t(hi))


def _variadic(fn: Callable[..., Any]) -> Callable:
    def run(at: dict, xs: list) -> Any:
        out = _t(xs[0])
        for x in xs[1:]:
            out = fn(out, _t(x))
        return out

    return run


def _leaky(at: dict, xs: list) -> Any:
    return fg.leaky_relu(_t(xs[0]), at.get("alpha", 0.01))


def _softplus(at: dict, xs: list) -> Any:
    return fg.softplus(_t(xs[0]), 1.0, math.inf)


def _cumsum(at: dict, xs: list) -> Any:
    if at.get("exclusive", 0) or at.get("reverse", 0):
        raise _fail("CumSum", "exclusive or reverse")
    return fnp.cumsum(_t(xs[0]), axis=int(_arr(xs[1]).reshape(-1)[0]))


def _transpose(at: dict, xs: list) -> Any:
    perm = at.get("perm")
    return fnp.transpose(_t(xs[0]), None if perm is None else tuple(perm))


def _not(at: dict, xs: list) -> Any:
    return np.logical_not(xs[0]) if _static(xs[0]) else fnp.logical_not(xs[0])


IMPORTERS: dict[str, Callable[[dict, list], Any]] = {
    "Identity": lambda at, xs: xs[0],
    "Dropout": lambda at, xs: xs[0],  # inference: the identity
    "Constant": _constant,
    "ConstantOfShape": _constant_of_shape,
    "Shape": _shape,
    "Cast": _cast,
    "Reshape": _reshape,
    "Flatten": _flatten,
    "Transpose": _transpose,
    "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze,
    "Concat": _concat,
    "Slice": _slice,
    "Gather": _gather,
    "Expand": _expand,
    "Pad": _pad,
    "Add": _elementwise(fnp.add, np.add),
    "Sub": _elementwise(fnp.subtract, np.subtract),
    "Mul": _elementwise(fnp.multiply, np.multiply),
    "Div": _elementwise(fnp.divide, lambda a, b: a // b if a.dtype.kind in "iu" else a / b),
    "Pow": _elementwise(fnp.power),
    "Neg": _elementwise(fnp.negative, np.negative),
    "Abs": _elementwise(fnp.abs),
    "Reciprocal": _elementwise(fnp.reciprocal),
    "Sqrt": _elementwise(fnp.sqrt),
    "Exp": _elementwise(fnp.exp),
    "Log": _elementwise(fnp.log),
    "Sin": _elementwise(fnp.sin),
    "Cos": _elementwise(fnp.cos),
    "Tan": _elementwise(fnp.tan),
    "Asin": _elementwise(fnp.arcsin),
    "Acos": _elementwise(fnp.arccos),
    "Atan": _elementwise(fnp.arctan),
    "Sinh": _elementwise(fnp.sinh),
    "Cosh": _elementwise(fnp.cosh),
    "Asinh": _elementwise(fnp.arcsinh),
    "Acosh": _elementwise(fnp.arccosh),
    "Atanh": _elementwise(fnp.arctanh),
    "Erf": _elementwise(fnp.erf),
    "Sign": _elementwise(fnp.sign),
    "Floor": _elementwise(fnp.floor),
    "Ceil": _elementwise(fnp.ceil),
    "Round": _elementwise(fnp.round),
    "IsNaN": _elementwise(fnp.isnan),
    "IsInf": _elementwise(fnp.isinf),
    "Equal": _elementwise(fnp.equal, np.equal),
    "Less": _elementwise(fnp.less, np.less),
    "LessOrEqual": _elementwise(fnp.less_equal, np.less_equal),
    "Greater": _elementwise(fnp.greater, np.greater),
    "GreaterOrEqual": _elementwise(fnp.greater_equal, np.greater_equal),
    "Not": _not,
    "And": _elementwise(fnp.logical_and, np.logical_and),
    "Or": _elementwise(fnp.logical_or, np.logical_or),
    "Xor": _elementwise(fnp.logical_xor, np.logical_xor),
    "Where": _elementwise(fnp.where),
    "Max": _variadic(fnp.maximum),
    "Min": _variadic(fnp.minimum),
    "Clip": _clip,
    "Relu": _elementwise(fg.relu),
    "Sigmoid": _elementwise(fg.sigmoid),
    "Tanh": _elementwise(fnp.tanh),
    "LeakyRelu": _leaky,
    "Elu": _elu,
    "Gelu": _gelu,
    "Softplus": _softplus,
    "Softmax": _softmax(fg.softmax),
    "LogSoftmax": _softmax(fg.log_softmax),
    "MatMul": _elementwise(fnp.matmul),
    "Gemm": _gemm,
    "Einsum": lambda at, xs: fnp.einsum(
        at["equation"].decode() if isinstance(at["equation"], bytes) else at["equation"], *[_t(x) for x in xs]
    ),
    "Det": _elementwise(fnp.linalg.det),
    "Conv": _conv,
    "MaxPool": _pool("MaxPool"),
    "AveragePool": _pool("AveragePool"),
    "GlobalAveragePool": lambda at, xs: fnp.mean(_t(xs[0]), axis=(2, 3), keepdims=True),
    "GlobalMaxPool": lambda at, xs: fnp.max(_t(xs[0]), axis=(2, 3), keepdims=True),
    "BatchNormalization": _batch_norm,
    "ReduceSum": _reduce(fnp.sum),
    "ReduceMean": _reduce(fnp.mean),
    "ReduceMax": _reduce(fnp.max),
    "ReduceMin": _reduce(fnp.min),
    "ReduceProd": _reduce(fnp.prod),
    "ReduceLogSumExp": _reduce(lambda x, axis, keepdims: fg.logsumexp(x, axis, keepdims=keepdims)),
    "ArgMax": _arg(fnp.argmax),
    "ArgMin": _arg(fnp.argmin),
    "CumSum": _cumsum,
}
