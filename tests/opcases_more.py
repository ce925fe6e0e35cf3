"""The op-case table, part 2: reductions, softmax family, products, shapes and indexing.

See ``tests/opcases.py`` for :class:`OpCase` and the samplers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import flowgrad as fg
import flowgrad.numpy as fnp
from flowgrad.ops.conv_gemm import conv2d_op, max_pool2d_op
from flowgrad.ops.fused import softmax_cross_entropy
from flowgrad.ops.random import uniform

from .opcases import UNARY, UNIF, OpCase, Shape, boolean, distinct, each, one, signed, unif, with_zeros

# ----- reductions ---------------------------------------------------------------------------
# (axis, keepdims, shapes); shapes whose reduced elements are fewer than an op's
# ``min_count`` are left out for that op (max of nothing, var with ddof=1 of one value).
REDUCE_CONFIGS = [
    (None, False, [(), (1,), (5,), (2, 3), (2, 3, 4), (0,), (2, 0)]),
    (None, True, [(2, 3), (1, 1, 1), (0, 3)]),
    (0, False, [(3,), (1,), (3, 2), (2, 3, 4), (0, 2), (2, 0)]),
    (-1, True, [(4,), (2, 3), (2, 1, 3), (0, 3), (3, 0)]),
    ((0, 2), False, [(2, 3, 4), (1, 2, 1), (2, 1, 3, 2), (2, 0, 3)]),
    ((1, -1), True, [(2, 3, 4), (3, 1, 2)]),
]


def reduced_count(shape: Shape, axis: Any) -> int:
    if axis is None:
        return math.prod(shape)
    axes = axis if isinstance(axis, tuple) else (axis,)
    return math.prod(shape[a] for a in axes)


def reductions(
    name: str,
    fn: Callable,
    ref: Callable,
    dist: Any = UNIF,
    min_count: int = 0,
    single_axis: bool = False,
    label: str = "",
    **kw: Any,
) -> list[OpCase]:
    """One case per (axis, keepdims) configuration; ``fn(x, axis, keepdims)``."""
    cases = []
    for axis, keepdims, shapes in REDUCE_CONFIGS:
        if single_axis and isinstance(axis, tuple):
            continue
        ok = [s for s in shapes if reduced_count(s, axis) >= min_count]
        cases.append(
            OpCase(
                name,
                lambda x, a=axis, k=keepdims: fn(x, a, k),
                lambda x, a=axis, k=keepdims: ref(x, a, k),
                one(ok),
                each(dist),
                label=f"{label}axis={axis},keepdims={keepdims}",
                **kw,
            )
        )
    return cases


def softmax_ref(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax_ref(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def logsumexp_ref(x: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    top = np.max(x, axis=axis, keepdims=True)
    return np.log(np.sum(np.exp(x - top), axis=axis, keepdims=keepdims)) + (
        top if keepdims else np.squeeze(top, axis=axis)
    )


SOFTMAX_AXES = [
    (-1, [(1,), (5,), (2, 3), (3, 1), (0, 3), (2, 3, 4), (1, 1)]),
    (0, [(4,), (3, 2), (1, 3)]),
    (1, [(2, 3, 4), (2, 1, 3)]),
]
CUMSUM_AXES = [
    (0, [(4,), (1,), (0,), (3, 2), (2, 3, 4)]),
    (-1, [(2, 3), (3, 1), (2, 0)]),
    (None, [(), (2, 3), (2, 3, 4)]),
]

SQUARED_ERROR_SHAPES = [(), (1,), (5,), (1, 1), (4, 1), (2, 3), (3, 1, 2), (2, 3, 4), (6,), (1, 7)]

REDUCTIONS = [
    *reductions("sum", lambda x, a, k: fg.sum(x, dim=a, keepdim=k), lambda x, a, k: np.sum(x, axis=a, keepdims=k)),
    *reductions("mean", lambda x, a, k: fnp.mean(x, axis=a, keepdims=k), lambda x, a, k: np.mean(x, axis=a, keepdims=k), min_count=1),
    *reductions("var", lambda x, a, k: fnp.var(x, axis=a, keepdims=k), lambda x, a, k: np.var(x, axis=a, keepdims=k), min_count=1),
    *reductions("var", lambda x, a, k: fg.var(x, dim=a, keepdim=k), lambda x, a, k: np.var(x, axis=a, ddof=1, keepdims=k), min_count=2, label="ddof=1,"),
    *reductions("max", lambda x, a, k: fg.amax(x, dim=a, keepdim=k), lambda x, a, k: np.max(x, axis=a, keepdims=k), distinct, min_count=1),
    *reductions("min", lambda x, a, k: fnp.min(x, axis=a, keepdims=k), lambda x, a, k: np.min(x, axis=a, keepdims=k), distinct, min_count=1),
    *reductions("prod", lambda x, a, k: fg.prod(x, dim=a, keepdim=k), lambda x, a, k: np.prod(x, axis=a, keepdims=k), signed(0.5, 1.5)),
    *reductions("prod", lambda x, a, k: fnp.prod(x, axis=a, keepdims=k), lambda x, a, k: np.prod(x, axis=a, keepdims=k), with_zeros(1), label="one zero,"),
    *reductions("prod", lambda x, a, k: fnp.prod(x, axis=a, keepdims=k), lambda x, a, k: np.prod(x, axis=a, keepdims=k), with_zeros(2), label="two zeros,"),
    *reductions("logsumexp", lambda x, a, k: fg.logsumexp(x, dim=a, keepdim=k), logsumexp_ref, min_count=1),
    *[OpCase("softmax", lambda x, a=a: fg.softmax(x, dim=a), lambda x, a=a: softmax_ref(x, a), one(s), label=f"axis={a}") for a, s in SOFTMAX_AXES],
    *[OpCase("log_softmax", lambda x, a=a: x.log_softmax(a), lambda x, a=a: log_softmax_ref(x, a), one(s), label=f"axis={a}") for a, s in SOFTMAX_AXES],
    OpCase("squared_error", fg.squared_error, lambda a, b: np.mean((a - b) ** 2), [(s, s) for s in SQUARED_ERROR_SHAPES]),
    OpCase("squared_error", lambda a, b: fg.squared_error(a, b, "sum"), lambda a, b: np.sum((a - b) ** 2), [(s, s) for s in SQUARED_ERROR_SHAPES[:5]], label="sum"),
    OpCase("squared_error", fg.squared_error, lambda a, b: np.mean((a - b) ** 2), [((3, 2), (3, 2))], grad_inputs=(1,), label="target only"),
    *[OpCase("cumsum", lambda x, a=a: fnp.cumsum(x, axis=a), lambda x, a=a: np.cumsum(x, axis=a), one(s), label=f"axis={a}") for a, s in CUMSUM_AXES],
    # forward-only reductions
    *reductions("argmax", lambda x, a, k: fg.argmax(x, a, k), lambda x, a, k: np.argmax(x, axis=a, keepdims=k), distinct, 1, True, grad_inputs=()),
    *reductions("argmin", lambda x, a, k: fnp.argmin(x, axis=a, keepdims=k), lambda x, a, k: np.argmin(x, axis=a, keepdims=k), distinct, 1, True, grad_inputs=()),
    *reductions("any", lambda x, a, k: fg.any(x, dim=a, keepdim=k), lambda x, a, k: np.any(x, axis=a, keepdims=k), boolean, grad_inputs=()),
    *reductions("all", lambda x, a, k: fg.all(x, dim=a, keepdim=k), lambda x, a, k: np.all(x, axis=a, keepdims=k), boolean, grad_inputs=()),
]  # fmt: skip

# ----- products -------------------------------------------------------------------------------
MATMUL_SHAPES = [
    ((3,), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3,)),
    ((2, 3), (3, 4)),
    ((1, 1), (1, 1)),
    ((2, 3, 4), (4, 5)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((3,), (2, 3, 4)),
    ((2, 3, 4), (4,)),
    ((0, 3), (3, 2)),
    ((2, 0), (0, 3)),
    ((2, 2, 3), (2, 3, 2)),
]
EINSUMS = [
    ("ij,jk->ik", [((2, 3), (3, 4)), ((1, 1), (1, 1)), ((0, 3), (3, 2)), ((2, 0), (0, 3))]),
    ("i,i->", [((3,), (3,)), ((0,), (0,))]),
    ("i,j->ij", [((3,), (4,))]),
    ("ij->ji", [((2, 3),)]),
    ("ij->", [((2, 3),)]),
    ("ij->i", [((2, 3),), ((3, 1),)]),
    ("bij,bjk->bik", [((2, 2, 3), (2, 3, 4))]),
    ("ijk,k->ij", [((2, 3, 4), (4,))]),
    ("ij,jk", [((2, 3), (3, 4))]),
    ("ij,jk,kl->il", [((2, 3), (3, 4), (4, 2))]),
    ("ij,k->i", [((2, 3), (4,))]),
]
LINEAR_SHAPES = [  # (x, weight (out, in), bias (out,))
    ((4, 3), (2, 3), (2,)),
    ((3,), (2, 3), (2,)),
    ((2, 4, 3), (5, 3), (5,)),
    ((1, 1), (1, 1), (1,)),
    ((0, 3), (2, 3), (2,)),
    ((4, 0), (2, 0), (2,)),
    ((4, 3), (0, 3), (0,)),
    ((2, 1, 2, 3), (4, 3), (4,)),
    ((6, 5), (1, 5), (1,)),
    ((1, 7), (3, 7), (3,)),
    ((2, 3, 0), (4, 0), (4,)),  # batch dimensions with no input features (once a reshape error)
    ((2, 1, 3), (0, 3), (0,)),
    ((0, 2, 3), (4, 3), (4,)),
]
PRODUCTS = [
    OpCase("matmul", lambda a, b: a @ b, np.matmul, MATMUL_SHAPES),
    OpCase("matmul", fg.matmul, np.matmul, MATMUL_SHAPES[:4], grad_inputs=(1,), label="b only"),
    OpCase("matmul", fnp.dot, np.dot, MATMUL_SHAPES[2:5], grad_inputs=(0,), label="dot, a only"),
    *[OpCase("einsum", lambda *xs, s=spec: fg.einsum(s, *xs), lambda *xs, s=spec: np.einsum(s, *xs), shapes, label=spec) for spec, shapes in EINSUMS],
    OpCase("einsum", lambda a, b: fnp.einsum("ij,jk->ik", a, b), lambda a, b: np.einsum("ij,jk->ik", a, b), EINSUMS[0][1][:1], grad_inputs=(0,), label="a only"),
    OpCase("linear", fg.linear, lambda x, w, b: x @ w.T + b, LINEAR_SHAPES),
    OpCase("linear", fg.linear, lambda x, w: x @ w.T, [s[:2] for s in LINEAR_SHAPES[:4]], label="no bias"),
    OpCase("linear", fg.linear, lambda x, w, b: x @ w.T + b, LINEAR_SHAPES[:3], grad_inputs=(1,), label="weight only"),
]  # fmt: skip


# ----- shapes -----------------------------------------------------------------------------------
def roll_axes(nd: int) -> tuple[int, ...]:
    return tuple(range(1, nd)) + (0,)


def widen(shape: Shape) -> Shape:
    """A broadcast target for ``shape``: a new leading 2, size-1 dims widened to 3."""
    return (2,) + tuple(3 if s == 1 else s for s in shape)


def mask_of(shape: Shape) -> np.ndarray:
    return np.arange(math.prod(shape)).reshape(shape) % 3 == 0


def scatter_ref(target: Callable[[Shape], Shape], index: Any) -> Callable[[np.ndarray], np.ndarray]:
    def ref(g: np.ndarray) -> np.ndarray:
        out = np.zeros(target(g.shape), g.dtype)
        np.add.at(out, index, g)
        return out

    return ref


def scatter_case(target: Callable[[Shape], Shape], index: Any, shapes: list[Shape], label: str) -> OpCase:
    return OpCase(
        "index_scatter",
        lambda g: fnp.index_scatter(g, target(g.shape), index),
        scatter_ref(target, index),
        one(shapes),
        label=label,
    )


def same(fn: Callable) -> tuple[Callable, Callable]:
    """(flowgrad fn, NumPy ref) for code that reads the same on tensors and arrays."""
    return fn, fn


MASK23 = np.array([[True, False, True], [False, True, False]])
SAME_INDEX = [
    ("int", lambda x: x[0], [(3,), (1,), (2, 3), (1, 0), (2, 3, 4)]),
    ("ellipsis slice", lambda x: x[..., 1:3], [(4,), (2, 3), (2, 3, 4), (3, 0)]),
    ("None, reversed", lambda x: x[None, ::-1], [(3,), (2, 3)]),
    ("slice None int", lambda x: x[:, None, -1], [(2, 3), (3, 1, 2)]),
    ("ellipsis only", lambda x: x[...], [(), (2, 3)]),
    ("empty tuple", lambda x: x[()], [(), (3,)]),
    ("empty slice", lambda x: x[1:1], [(3,), (3, 2)]),
    ("repeated ints", lambda x: x[np.array([0, 2, 0, 0])], [(3,), (3, 2), (4, 1, 2)]),
    ("negative ints", lambda x: x[np.array([-1, 0, -1])], [(3,), (2, 2)]),
    ("2-D ints", lambda x: x[np.array([[1, 0], [1, 1]])], [(2,), (2, 3)]),
    ("int pairs", lambda x: x[np.array([0, 1, 0]), np.array([2, 2, 0])], [(2, 3), (2, 3, 4)]),
    ("slice, list", lambda x: x[:, [1, 1, 0]], [(2, 2), (3, 2, 4)]),
    ("empty int array", lambda x: x[np.array([], dtype=np.int64)], [(3,), (2, 3)]),
    ("mask", lambda x: x[mask_of(x.shape)], [(), (5,), (0,), (2, 3), (2, 3, 4)]),
    ("row mask", lambda x: x[np.arange(x.shape[0]) != 1], [(3,), (4, 2)]),
    ("false mask", lambda x: x[np.zeros(x.shape, bool)], [(3,), (2, 3)]),
    ("slice, mask", lambda x: x[:, np.array([True, False, True])], [(2, 3), (1, 3, 2)]),
]

SHAPES = [
    OpCase("reshape", lambda x: fg.reshape(x, -1), lambda x: x.reshape(-1), one(UNARY), label="-1"),
    OpCase("reshape", lambda x: x.reshape(x.shape[::-1]), lambda x: x.reshape(x.shape[::-1]), one([(2, 3), (2, 3, 4), (0, 3)]), label="reversed"),
    OpCase("reshape", lambda x: fnp.reshape(x, (1,) + x.shape + (1,)), lambda x: x.reshape((1,) + x.shape + (1,)), one([(), (3,), (2, 3)]), label="ones"),
    OpCase("transpose", fnp.transpose, np.transpose, one(UNARY), label="reverse"),
    OpCase("transpose", lambda x: fnp.transpose(x, roll_axes(x.ndim)), lambda x: np.transpose(x, roll_axes(x.ndim)), one([(2, 3), (2, 3, 4), (2, 1, 3, 1), (0, 2, 3)]), label="roll"),
    OpCase("transpose", lambda x: x.permute(-1, 0, -2), lambda x: np.transpose(x, (2, 0, 1)), one([(2, 3, 4), (1, 2, 3)]), label="negative axes"),
    OpCase("transpose", lambda x: fg.transpose(x, 0, 1), lambda x: np.swapaxes(x, 0, 1), one([(2, 3), (3, 1, 2)]), label="swap"),
    OpCase("broadcast_to", lambda x: fg.broadcast_to(x, widen(x.shape)), lambda x: np.broadcast_to(x, widen(x.shape)), one(UNARY)),
    OpCase("sum_to", lambda x: fnp.sum_to(x, ()), lambda x: np.sum(x), one([(), (3,), (2, 3), (0,)]), label="()"),
    OpCase("sum_to", lambda x: fnp.sum_to(x, x.shape[1:]), lambda x: np.sum(x, axis=0), one([(3,), (2, 3), (2, 3, 4), (2, 0)]), label="drop lead"),
    OpCase("sum_to", lambda x: fnp.sum_to(x, (1,) + x.shape[1:]), lambda x: np.sum(x, axis=0, keepdims=True), one([(2, 3), (4, 1)]), label="keep lead"),
    OpCase("sum_to", lambda x: fnp.sum_to(x, (1, 3, 1)), lambda x: np.sum(x, axis=(0, 2), keepdims=True), one([(2, 3, 4), (1, 3, 1)]), label="inner ones"),
    OpCase("expand_dims", lambda x: fnp.expand_dims(x, 0), lambda x: np.expand_dims(x, 0), one(UNARY), label="0"),
    OpCase("expand_dims", lambda x: x.unsqueeze(-1), lambda x: np.expand_dims(x, -1), one([(3,), (2, 3)]), label="-1"),
    OpCase("expand_dims", lambda x: fnp.expand_dims(x, (0, 2)), lambda x: np.expand_dims(x, (0, 2)), one([(3,), (2, 3)]), label="(0, 2)"),
    OpCase("squeeze", fnp.squeeze, np.squeeze, one([(), (1,), (1, 1), (3, 1), (2, 1, 3, 1), (0, 1), (2, 3)]), label="all"),
    OpCase("squeeze", lambda x: fnp.squeeze(x, 0), lambda x: np.squeeze(x, 0), one([(1, 3), (1,), (1, 0)]), label="0"),
    OpCase("squeeze", lambda x: fnp.squeeze(x, (1, 3)), lambda x: np.squeeze(x, (1, 3)), one([(2, 1, 3, 1)]), label="(1, 3)"),
    OpCase("squeeze", lambda x: fg.squeeze(x, -1), lambda x: np.squeeze(x, -1), one([(3, 1)]), label="-1"),
    OpCase("flip", fnp.flip, np.flip, one(UNARY), label="all"),
    OpCase("flip", lambda x: x.flip(0), lambda x: np.flip(x, 0), one([(3,), (2, 3), (0, 2)]), label="0"),
    OpCase("flip", lambda x: fnp.flip(x, (0, -1)), lambda x: np.flip(x, (0, -1)), one([(2, 3), (2, 3, 4)]), label="(0, -1)"),
    OpCase("copy", fnp.copy, np.copy, one(UNARY)),
    OpCase("copy", lambda x: x.clone(), np.copy, one([(2, 3)]), label="clone"),
    OpCase("astype", lambda x: x.astype(np.float64), lambda x: x.astype(np.float64), one(UNARY), label="float64"),
    OpCase("astype", lambda x: x.astype(np.int64), lambda x: x.astype(np.int64), one([(), (2, 3)]), each(unif(-5, 5)), grad_inputs=(), label="int64"),
    OpCase("pad", lambda x: fnp.pad(x, 1), lambda x: np.pad(x, 1), one([(3,), (2, 3), (0,), (1, 1), (2, 0, 1)]), label="1"),
    OpCase("pad", lambda x: fnp.pad(x, ((1, 2), (0, 1)), constant_values=0.5), lambda x: np.pad(x, ((1, 2), (0, 1)), constant_values=0.5), one([(2, 3), (1, 1), (0, 2)]), label="widths, value"),
    OpCase("pad", lambda x: fnp.pad(x, ((2, 0),)), lambda x: np.pad(x, ((2, 0),)), one([(3,), (1,)]), label="one side"),
    OpCase("pad", lambda x: fnp.pad(x, 0), lambda x: np.pad(x, 0), one([(), (2, 3)]), label="0"),
    OpCase("pad", lambda x: fnp.pad(x, 1, mode="reflect"), lambda x: np.pad(x, 1, mode="reflect"), one([(3,), (2, 3)]), grad_inputs=(), label="reflect"),
]  # fmt: skip

JOIN = [
    OpCase("concatenate", lambda *xs: fg.cat(list(xs), dim=0), lambda *xs: np.concatenate(xs, 0), [((2, 3), (4, 3)), ((1,), (2,), (0,)), ((3,),), ((0, 2), (1, 2))], label="0"),
    OpCase("concatenate", lambda *xs: fnp.concatenate(xs, axis=-1), lambda *xs: np.concatenate(xs, -1), [((2, 3), (2, 1)), ((2, 1, 2), (2, 1, 3), (2, 1, 0))], label="-1"),
    OpCase("concatenate", lambda *xs: fg.cat(xs, 1), lambda *xs: np.concatenate(xs, 1), [((2, 1, 2), (2, 3, 2), (2, 0, 2))], label="1"),
    OpCase("concatenate", lambda *xs: fnp.concatenate(xs, axis=None), lambda *xs: np.concatenate(xs, None), [((2, 3), (4,)), ((), (2,))], label="None"),
    OpCase("concatenate", lambda *xs: fg.cat(xs), lambda *xs: np.concatenate(xs), [((2, 3), (1, 3)), ((2,), (3,), (1,))], grad_inputs=(0,), label="first only"),
    OpCase("stack", lambda *xs: fg.stack(xs), lambda *xs: np.stack(xs), [((3,), (3,)), ((), ()), ((2, 3), (2, 3), (2, 3)), ((0,), (0,)), ((1,),)], label="0"),
    OpCase("stack", lambda *xs: fnp.stack(xs, axis=-1), lambda *xs: np.stack(xs, -1), [((2, 3), (2, 3)), ((1, 2), (1, 2), (1, 2))], label="-1"),
    OpCase("stack", lambda *xs: fg.stack(xs, dim=1), lambda *xs: np.stack(xs, 1), [((2, 3), (2, 3)), ((2, 1, 2),) * 3], label="1"),
    OpCase("stack", lambda *xs: fg.stack(xs), lambda *xs: np.stack(xs), [((2,), (2,), (2,)), ((2, 2), (2, 2))], grad_inputs=(1,), label="middle only"),
]  # fmt: skip

INDEXING = [
    *[OpCase("getitem", *same(f), one(s), label=label) for label, f, s in SAME_INDEX],
    OpCase("getitem", lambda x: fnp.split(x, [1, 3])[1], lambda x: np.split(x, [1, 3])[1], one([(4,), (5, 2)]), label="split"),
    scatter_case(lambda s: (4,) + s[1:], (np.array([0, 2, 0]),), [(3,), (3, 2), (3, 0), (3, 1, 2)], "repeated ints"),
    scatter_case(lambda s: (4,) + s[1:], (slice(1, 3),), [(2,), (2, 3)], "slice"),
    scatter_case(lambda s: (2, 3) + s[1:], MASK23, [(3,), (3, 2)], "mask"),
    scatter_case(lambda s: (3,) + s, 1, [(), (2,)], "int"),
    scatter_case(lambda s: s[1:] + (2,), (None, Ellipsis, 0), [(1,), (1, 3)], "None ellipsis int"),
    scatter_case(lambda s: (2, 3), (np.array([1, 1, 0]), np.array([2, 2, 2])), [(3,)], "int pairs"),
]  # fmt: skip

# ----- sliding windows (flowgrad/ops/conv.py) ---------------------------------------------------
# kernel, stride, padding, dilation, image shapes (N, C, H, W)
WINDOWS = [
    ((2, 2), (1, 1), (0, 0), (1, 1), [(1, 1, 3, 3), (2, 3, 4, 5), (1, 2, 2, 2), (0, 1, 3, 3)]),
    ((2, 3), (2, 1), (1, 0), (1, 2), [(1, 1, 4, 6), (2, 2, 3, 5)]),
    ((1, 1), (2, 2), (0, 0), (1, 1), [(1, 2, 3, 3), (1, 1, 1, 1)]),
    ((3, 3), (1, 1), (1, 1), (1, 1), [(1, 1, 3, 3), (2, 1, 5, 4)]),
]


def window_grid(shape: Shape, k: tuple, s: tuple, p: tuple, d: tuple) -> tuple[list[tuple[int, ...]], tuple[int, int]]:
    """(i, j, a, b) -> padded pixel (a * sh + i * dh, b * sw + j * dw), written out by loops."""
    oh = (shape[2] + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (shape[3] + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    return [(i, j, a, b) for i in range(k[0]) for j in range(k[1]) for a in range(oh) for b in range(ow)], (oh, ow)


def unfold_ref(x: np.ndarray, k: tuple, s: tuple, p: tuple, d: tuple, pad_value: float = 0.0) -> np.ndarray:
    grid, (oh, ow) = window_grid(x.shape, k, s, p, d)
    padded = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])), constant_values=pad_value)
    out = np.empty(x.shape[:2] + k + (oh, ow), x.dtype)
    for i, j, a, b in grid:
        out[:, :, i, j, a, b] = padded[:, :, a * s[0] + i * d[0], b * s[1] + j * d[1]]
    return out


def fold_ref(cols: np.ndarray, shape: Shape, k: tuple, s: tuple, p: tuple, d: tuple) -> np.ndarray:
    grid, _ = window_grid(shape, k, s, p, d)
    out = np.zeros(shape[:2] + (shape[2] + 2 * p[0], shape[3] + 2 * p[1]), cols.dtype)
    for i, j, a, b in grid:
        out[:, :, a * s[0] + i * d[0], b * s[1] + j * d[1]] += cols[:, :, i, j, a, b]
    return out[:, :, p[0] : p[0] + shape[2], p[1] : p[1] + shape[3]]


def cols_shape(shape: Shape, k: tuple, s: tuple, p: tuple, d: tuple) -> Shape:
    return shape[:2] + k + window_grid(shape, k, s, p, d)[1]


WINDOW_CASES = [
    *[OpCase("unfold2d", lambda x, c=c: fnp.unfold2d(x, *c), lambda x, c=c: unfold_ref(x, *c), one(shapes), label=f"k={c[0]},s={c[1]},p={c[2]},d={c[3]}") for *c, shapes in WINDOWS],
    OpCase("unfold2d", lambda x: fnp.unfold2d(x, 2, 1, 1, 1, 0.5), lambda x: unfold_ref(x, (2, 2), (1, 1), (1, 1), (1, 1), 0.5), one([(1, 2, 3, 3)]), label="pad_value 0.5"),
    OpCase("unfold2d", lambda x: fnp.unfold2d(x, 2, 2, 1, 1, -np.inf), lambda x: unfold_ref(x, (2, 2), (2, 2), (1, 1), (1, 1), -np.inf), one([(1, 1, 3, 3)]), grad_inputs=(), label="pad_value -inf"),
    *[OpCase("fold2d", lambda x, c=c, t=t: fnp.fold2d(x, t, *c), lambda x, c=c, t=t: fold_ref(x, t, *c), one([cols_shape(t, *c)]), label=f"{t},k={c[0]},s={c[1]},p={c[2]},d={c[3]}") for *c, shapes in WINDOWS for t in shapes],
]  # fmt: skip


# conv2d and max_pool2d (flowgrad/ops/conv_gemm.py): the GEMM and index-scatter paths against
# the loop references above. kernel, stride, padding, dilation, groups, (x shape, w shape)
CONVS = [
    ((3, 3), (1, 1), (1, 1), (1, 1), 1, ((2, 3, 5, 5), (4, 3, 3, 3))),
    ((2, 3), (2, 1), (1, 0), (1, 2), 1, ((1, 2, 4, 6), (3, 2, 2, 3))),  # non-square, batch 1
    ((3, 2), (2, 2), (2, 1), (2, 1), 2, ((2, 4, 7, 6), (4, 2, 3, 2))),  # groups
    ((1, 1), (1, 1), (0, 0), (1, 1), 3, ((1, 3, 2, 3), (6, 1, 1, 1))),  # depthwise
    ((2, 2), (1, 1), (0, 0), (1, 1), 1, ((0, 2, 3, 3), (2, 2, 2, 2))),  # empty batch
    ((3, 3), (3, 3), (0, 0), (1, 1), 1, ((1, 1, 7, 8), (2, 1, 3, 3))),  # stride as large as the kernel
    ((2, 2), (1, 1), (1, 1), (3, 3), 1, ((1, 2, 4, 4), (1, 2, 2, 2))),  # dilation wider than the image
    ((1, 3), (1, 2), (0, 2), (1, 1), 2, ((3, 2, 1, 5), (2, 1, 1, 3))),  # one row, groups
]
# kernel, stride, padding, dilation, x shape; windows apart (one index each) and overlapping
POOLS = [
    ((2, 2), (2, 2), (0, 0), (1, 1), [(2, 3, 4, 4), (1, 1, 2, 2), (1, 2, 5, 3)]),
    ((2, 3), (2, 3), (1, 1), (1, 1), [(1, 2, 5, 7), (2, 1, 2, 3)]),
    ((3, 3), (1, 1), (1, 1), (1, 1), [(2, 1, 4, 5), (1, 2, 3, 3)]),  # overlapping: a pixel can win several windows
    ((2, 2), (1, 2), (0, 1), (2, 1), [(1, 2, 5, 4), (2, 1, 3, 2)]),
    ((1, 1), (1, 1), (0, 0), (1, 1), [(1, 1, 1, 1)]),
]


def conv_ref(x: np.ndarray, w: np.ndarray, s: tuple, p: tuple, d: tuple, groups: int) -> np.ndarray:
    cols = unfold_ref(x, w.shape[2:], s, p, d)
    n, c, kh, kw, oh, ow = cols.shape
    o = w.shape[0]
    cols = cols.reshape(n, groups, (c // groups) * kh * kw, oh, ow)
    return np.einsum("gok,ngkhw->ngohw", w.reshape(groups, o // groups, -1), cols).reshape(n, o, oh, ow)


def pool_ref(x: np.ndarray, k: tuple, s: tuple, p: tuple, d: tuple) -> np.ndarray:
    cols = unfold_ref(x, k, s, p, d, -np.inf)
    return cols.reshape(cols.shape[:2] + (-1,) + cols.shape[4:]).max(axis=2)


def eighths(rng: np.random.Generator, s: Shape) -> np.ndarray:
    """Multiples of 1/8 in [-2, 2]: every product and sum a convolution here makes is exact in
    float32, so the GEMM's summation order cannot change a digit of the float32 forward check."""
    return rng.integers(-16, 17, s) / 8.0


def sce_ref(x: np.ndarray, labels: np.ndarray, mean: bool) -> np.ndarray:
    keep = labels != -100
    logp = x - x.max(axis=1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(axis=1, keepdims=True))
    terms = -logp[np.arange(len(x)), np.where(keep, labels, 0)] * keep
    return np.asarray(terms.sum() / (keep.sum() if mean else 1), dtype=x.dtype)


SCE_SHAPES = [(1, 1), (1, 5), (2, 3), (3, 4), (4, 2), (5, 10), (8, 3), (2, 7), (6, 6), (3, 1)]


def sce_labels(shape: tuple, ignore: bool) -> np.ndarray:
    labels = (np.arange(shape[0]) * 7 + 1) % shape[1]
    if ignore and shape[0] > 1:
        labels[1] = -100  # ignored: counts for nothing
    return labels


GEMM_CASES = [
    *[OpCase("softmax_cross_entropy", lambda x, i=i, r=r: softmax_cross_entropy(x, fg.tensor(sce_labels(x.shape, i)), reduction=r), lambda x, i=i, r=r: sce_ref(x, sce_labels(x.shape, i), r == "mean"), one(SCE_SHAPES), label=f"{r},ignore={i}") for i in (False, True) for r in ("mean", "sum")],
    *[OpCase("conv2d", lambda x, w, c=c: conv2d_op(x, w, *c), lambda x, w, c=c: conv_ref(x, w, *c), [shapes], sample=each(eighths), label=f"s={c[0]},p={c[1]},d={c[2]},g={c[3]},x={shapes[0]}") for _, *c, shapes in CONVS],
    OpCase("conv2d", lambda x, w, b: conv2d_op(x, w, 1, 1, 1, 1, b), lambda x, w, b: conv_ref(x, w, (1, 1), (1, 1), (1, 1), 1) + b.reshape(-1, 1, 1), [((2, 2, 3, 4), (3, 2, 2, 2), (3,))], sample=each(eighths), label="bias"),
    OpCase("conv2d", lambda x, w, b: conv2d_op(x, w, 2, 0, 1, 2, b), lambda x, w, b: conv_ref(x, w, (2, 2), (0, 0), (1, 1), 2) + b.reshape(-1, 1, 1), [((1, 4, 5, 5), (2, 2, 3, 3), (2,))], sample=each(eighths), label="bias, groups"),
    *[OpCase("max_pool2d", lambda x, c=c: max_pool2d_op(x, *c), lambda x, c=c: pool_ref(x, *c), one(shapes), sample=each(distinct), label=f"k={c[0]},s={c[1]},p={c[2]},d={c[3]}") for *c, shapes in POOLS],
]  # fmt: skip


def _seeded_uniform(x: Any) -> Any:
    fg.manual_seed(7)
    return uniform(x.shape, x.dtype)


RANDOM_CASES = [
    OpCase("uniform", _seeded_uniform, lambda x: np.random.default_rng(7).random(x.shape).astype(x.dtype), one(UNARY), grad_inputs=()),
]  # fmt: skip

CASES: list[OpCase] = REDUCTIONS + PRODUCTS + SHAPES + JOIN + INDEXING + WINDOW_CASES + GEMM_CASES + RANDOM_CASES
