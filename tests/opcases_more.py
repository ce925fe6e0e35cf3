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

from .opcases import SAME, UNARY, UNIF, F, OpCase, Shape, T, boolean, distinct, each, one, signed, unif, with_zeros

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
    torch: Callable | None = None,
    **kw: Any,
) -> list[OpCase]:
    """One case per (axis, keepdims) configuration: ``fn(x, axis, keepdims)``, ``torch(x, axis, keepdims)``."""
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
                torch=None if torch is None else lambda x, a=axis, k=keepdims: torch(x, a, k),
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


def dims(f: Callable, **kw: Any) -> Callable:
    """A reduction spelled as PyTorch's, ``f(x, dim=axis, keepdim=keepdims)``."""
    return lambda x, a, k: f(x, dim=a, keepdim=k, **kw)


def axes(f: Callable, **kw: Any) -> Callable:
    """A reduction spelled as NumPy's, ``f(x, axis=axis, keepdims=keepdims)``."""
    return lambda x, a, k: f(x, axis=a, keepdims=k, **kw)


def every_dim(f: Callable) -> Callable:
    """torch.amax and logsumexp take no ``dim=None``: every dim spelled out."""
    return lambda x, a, k: f(x, dim=tuple(range(x.dim())) if a is None else a, keepdim=k)


def sse(a: Any, b: Any) -> Any:
    return F.mse_loss(a, b, reduction="sum")


def torch_cumsum(x: Any, axis: Any) -> Any:
    """NumPy's cumsum with ``axis=None`` runs over the flattened array."""
    return x.reshape(-1).cumsum(0) if axis is None else x.cumsum(axis)


def torch_prod(x: Any, axis: Any, keepdims: bool) -> Any:
    """torch.prod reduces one dim or all: tuples of dims one at a time."""
    if axis is None:
        return x.prod().reshape((1,) * x.dim() if keepdims else ())
    for a in sorted((d % x.dim() for d in (axis if isinstance(axis, tuple) else (axis,))), reverse=True):
        x = x.prod(a, keepdim=keepdims)
    return x


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
    *reductions("sum", dims(fg.sum), axes(np.sum), torch=dims(T.sum)),
    *reductions("mean", axes(fnp.mean), axes(np.mean), min_count=1, torch=dims(T.mean)),
    *reductions("var", axes(fnp.var), axes(np.var), min_count=1, torch=dims(T.var, correction=0)),
    *reductions("var", dims(fg.var), axes(np.var, ddof=1), min_count=2, label="ddof=1,",
        torch=dims(T.var, correction=1)),
    *reductions("max", dims(fg.amax), axes(np.max), distinct, min_count=1, torch=every_dim(T.amax)),
    *reductions("min", axes(fnp.min), axes(np.min), distinct, min_count=1, torch=every_dim(T.amin)),
    *reductions("prod", dims(fg.prod), axes(np.prod), signed(0.5, 1.5), torch=torch_prod),
    *reductions("prod", axes(fnp.prod), axes(np.prod), with_zeros(1), label="one zero,", torch=torch_prod),
    *reductions("prod", axes(fnp.prod), axes(np.prod), with_zeros(2), label="two zeros,", torch=torch_prod),
    *reductions("logsumexp", dims(fg.logsumexp), logsumexp_ref, min_count=1, torch=every_dim(T.logsumexp)),
    *[OpCase("softmax", lambda x, a=a: fg.softmax(x, dim=a), lambda x, a=a: softmax_ref(x, a), one(s),
        label=f"axis={a}", torch=lambda x, a=a: T.softmax(x, a)) for a, s in SOFTMAX_AXES],
    *[OpCase("log_softmax", lambda x, a=a: x.log_softmax(a), lambda x, a=a: log_softmax_ref(x, a), one(s),
        label=f"axis={a}", torch=lambda x, a=a: T.log_softmax(x, a)) for a, s in SOFTMAX_AXES],
    OpCase("squared_error", fg.squared_error, lambda a, b: np.mean((a - b) ** 2),
        [(s, s) for s in SQUARED_ERROR_SHAPES], torch=F.mse_loss),
    OpCase("squared_error", lambda a, b: fg.squared_error(a, b, "sum"), lambda a, b: np.sum((a - b) ** 2),
        [(s, s) for s in SQUARED_ERROR_SHAPES[:5]], label="sum", torch=lambda a, b: sse(a, b)),
    OpCase("squared_error", fg.squared_error, lambda a, b: np.mean((a - b) ** 2), [((3, 2), (3, 2))],
        grad_inputs=(1,), label="target only", torch=F.mse_loss),
    *[OpCase("cumsum", lambda x, a=a: fnp.cumsum(x, axis=a), lambda x, a=a: np.cumsum(x, axis=a), one(s),
        label=f"axis={a}", torch=lambda x, a=a: torch_cumsum(x, a)) for a, s in CUMSUM_AXES],
    # forward-only reductions
    *reductions("argmax", lambda x, a, k: fg.argmax(x, a, k), axes(np.argmax), distinct, 1, True,
        grad_inputs=(), torch=dims(T.argmax)),
    *reductions("argmin", axes(fnp.argmin), axes(np.argmin), distinct, 1, True, grad_inputs=(),
        torch=dims(T.argmin)),
    *reductions("any", dims(fg.any), axes(np.any), boolean, grad_inputs=(), torch=dims(T.any)),
    *reductions("all", dims(fg.all), axes(np.all), boolean, grad_inputs=(), torch=dims(T.all)),
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
    OpCase("matmul", lambda a, b: a @ b, np.matmul, MATMUL_SHAPES, torch=SAME),
    OpCase("matmul", fg.matmul, np.matmul, MATMUL_SHAPES[:4], grad_inputs=(1,), label="b only",
        torch=T.matmul),
    OpCase("matmul", fnp.dot, np.dot, MATMUL_SHAPES[2:5], grad_inputs=(0,), label="dot, a only",
        torch=T.matmul),
    *[OpCase("einsum", lambda *xs, s=spec: fg.einsum(s, *xs), lambda *xs, s=spec: np.einsum(s, *xs), shapes,
        label=spec, torch=lambda *xs, s=spec: T.einsum(s, *xs)) for spec, shapes in EINSUMS],
    OpCase("einsum", lambda a, b: fnp.einsum("ij,jk->ik", a, b), lambda a, b: np.einsum("ij,jk->ik", a, b),
        EINSUMS[0][1][:1], grad_inputs=(0,), label="a only", torch=lambda a, b: T.einsum("ij,jk->ik", a, b)),
    OpCase("linear", fg.linear, lambda x, w, b: x @ w.T + b, LINEAR_SHAPES, torch=F.linear),
    OpCase("linear", fg.linear, lambda x, w: x @ w.T, [s[:2] for s in LINEAR_SHAPES[:4]], label="no bias",
        torch=F.linear),
    OpCase("linear", fg.linear, lambda x, w, b: x @ w.T + b, LINEAR_SHAPES[:3], grad_inputs=(1,),
        label="weight only", torch=F.linear),
]  # fmt: skip


# ----- shapes -----------------------------------------------------------------------------------
def rolled(x: Any) -> tuple[int, ...]:
    """The axes of ``x`` rolled by one: (1, 2, ..., 0)."""
    return tuple(range(1, x.ndim)) + (0,)


def ones_around(x: Any) -> tuple[int, ...]:
    return (1, *x.shape, 1)


def pads(*args: Any, **kw: Any) -> tuple[Callable, Callable]:
    """(flowgrad fn, NumPy ref) of one ``pad`` call."""
    return lambda x: fnp.pad(x, *args, **kw), lambda x: np.pad(x, *args, **kw)


def cat0(*xs: Any) -> Any:
    return T.cat(xs, 0)


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
# where torch spells the index differently: no negative steps, and a 0-d mask as a tensor
TORCH_INDEX = {
    "None, reversed": lambda x: x[None].flip(1),
    "mask": lambda x: x[T.tensor(mask_of(tuple(x.shape)))],
}

SHAPES = [
    OpCase("reshape", lambda x: fg.reshape(x, -1), lambda x: x.reshape(-1), one(UNARY), label="-1",
        torch=lambda x: x.reshape(-1)),
    OpCase("reshape", lambda x: x.reshape(x.shape[::-1]), lambda x: x.reshape(x.shape[::-1]),
        one([(2, 3), (2, 3, 4), (0, 3)]), label="reversed", torch=SAME),
    OpCase("reshape", lambda x: fnp.reshape(x, ones_around(x)), lambda x: x.reshape(ones_around(x)),
        one([(), (3,), (2, 3)]), label="ones", torch=lambda x: x.reshape(ones_around(x))),
    OpCase("transpose", fnp.transpose, np.transpose, one(UNARY), label="reverse",
        torch=lambda x: x.permute(tuple(reversed(range(x.dim()))))),
    OpCase("transpose", lambda x: fnp.transpose(x, rolled(x)), lambda x: np.transpose(x, rolled(x)),
        one([(2, 3), (2, 3, 4), (2, 1, 3, 1), (0, 2, 3)]), label="roll", torch=lambda x: x.permute(rolled(x))),
    OpCase("transpose", lambda x: x.permute(-1, 0, -2), lambda x: np.transpose(x, (2, 0, 1)),
        one([(2, 3, 4), (1, 2, 3)]), label="negative axes", torch=SAME),
    OpCase("transpose", lambda x: fg.transpose(x, 0, 1), lambda x: np.swapaxes(x, 0, 1),
        one([(2, 3), (3, 1, 2)]), label="swap", torch=lambda x: x.transpose(0, 1)),
    OpCase("broadcast_to", lambda x: fg.broadcast_to(x, widen(x.shape)), lambda x: np.broadcast_to(x,
        widen(x.shape)), one(UNARY), torch=lambda x: x.broadcast_to(widen(tuple(x.shape)))),
    OpCase("sum_to", lambda x: fnp.sum_to(x, ()), lambda x: np.sum(x), one([(), (3,), (2, 3), (0,)]),
        label="()", torch=lambda x: x.sum_to_size(())),
    OpCase("sum_to", lambda x: fnp.sum_to(x, x.shape[1:]), lambda x: np.sum(x, axis=0),
        one([(3,), (2, 3), (2, 3, 4), (2, 0)]), label="drop lead", torch=lambda x: x.sum(0)),
    OpCase("sum_to", lambda x: fnp.sum_to(x, (1,) + x.shape[1:]), lambda x: np.sum(x, axis=0, keepdims=True),
        one([(2, 3), (4, 1)]), label="keep lead", torch=lambda x: x.sum_to_size((1, *x.shape[1:]))),
    OpCase("sum_to", lambda x: fnp.sum_to(x, (1, 3, 1)), lambda x: np.sum(x, axis=(0, 2), keepdims=True),
        one([(2, 3, 4), (1, 3, 1)]), label="inner ones", torch=lambda x: x.sum_to_size((1, 3, 1))),
    OpCase("expand_dims", lambda x: fnp.expand_dims(x, 0), lambda x: np.expand_dims(x, 0), one(UNARY),
        label="0", torch=lambda x: x.unsqueeze(0)),
    OpCase("expand_dims", lambda x: x.unsqueeze(-1), lambda x: np.expand_dims(x, -1), one([(3,), (2, 3)]),
        label="-1", torch=SAME),
    OpCase("expand_dims", lambda x: fnp.expand_dims(x, (0, 2)), lambda x: np.expand_dims(x, (0, 2)),
        one([(3,), (2, 3)]), label="(0, 2)", torch=lambda x: x.unsqueeze(0).unsqueeze(2)),
    OpCase("squeeze", fnp.squeeze, np.squeeze, one([(), (1,), (1, 1), (3, 1), (2, 1, 3, 1), (0, 1), (2, 3)]),
        label="all", torch=T.squeeze),
    OpCase("squeeze", lambda x: fnp.squeeze(x, 0), lambda x: np.squeeze(x, 0), one([(1, 3), (1,), (1, 0)]),
        label="0", torch=lambda x: x.squeeze(0)),
    OpCase("squeeze", lambda x: fnp.squeeze(x, (1, 3)), lambda x: np.squeeze(x, (1, 3)), one([(2, 1, 3, 1)]),
        label="(1, 3)", torch=lambda x: x.squeeze((1, 3))),
    OpCase("squeeze", lambda x: fg.squeeze(x, -1), lambda x: np.squeeze(x, -1), one([(3, 1)]), label="-1",
        torch=lambda x: x.squeeze(-1)),
    OpCase("flip", fnp.flip, np.flip, one(UNARY), label="all", torch=lambda x: x.flip(tuple(range(x.dim())))),
    OpCase("flip", lambda x: x.flip(0), lambda x: np.flip(x, 0), one([(3,), (2, 3), (0, 2)]), label="0",
        torch=SAME),
    OpCase("flip", lambda x: fnp.flip(x, (0, -1)), lambda x: np.flip(x, (0, -1)), one([(2, 3), (2, 3, 4)]),
        label="(0, -1)", torch=lambda x: x.flip((0, -1))),
    OpCase("copy", fnp.copy, np.copy, one(UNARY), torch=T.clone),
    OpCase("copy", lambda x: x.clone(), np.copy, one([(2, 3)]), label="clone", torch=SAME),
    OpCase("astype", lambda x: x.astype(np.float64), lambda x: x.astype(np.float64), one(UNARY),
        label="float64", torch=lambda x: x.double()),
    OpCase("astype", lambda x: x.astype(np.int64), lambda x: x.astype(np.int64), one([(), (2, 3)]),
        each(unif(-5, 5)), grad_inputs=(), label="int64", torch=lambda x: x.long()),
    OpCase("pad", *pads(1), one([(3,), (2, 3), (0,), (1, 1), (2, 0, 1)]), label="1",
        torch=lambda x: F.pad(x, (1, 1) * x.dim())),
    OpCase("pad", *pads(((1, 2), (0, 1)), constant_values=0.5), one([(2, 3), (1, 1), (0, 2)]),
        label="widths, value", torch=lambda x: F.pad(x, (0, 1, 1, 2), value=0.5)),
    OpCase("pad", *pads(((2, 0),)), one([(3,), (1,)]), label="one side", torch=lambda x: F.pad(x, (2, 0))),
    OpCase("pad", *pads(0), one([(), (2, 3)]), label="0", torch=lambda x: F.pad(x, (0, 0) * x.dim())),
    OpCase("pad", *pads(1, mode="reflect"), one([(3,), (2, 3)]), grad_inputs=(), label="reflect"),
]  # fmt: skip

JOIN = [
    OpCase("concatenate", lambda *xs: fg.cat(list(xs), dim=0), lambda *xs: np.concatenate(xs, 0),
        [((2, 3), (4, 3)), ((1,), (2,), (0,)), ((3,),), ((0, 2), (1, 2))], label="0", torch=cat0),
    OpCase("concatenate", lambda *xs: fnp.concatenate(xs, axis=-1), lambda *xs: np.concatenate(xs, -1),
        [((2, 3), (2, 1)), ((2, 1, 2), (2, 1, 3), (2, 1, 0))], label="-1", torch=lambda *xs: T.cat(xs, -1)),
    OpCase("concatenate", lambda *xs: fg.cat(xs, 1), lambda *xs: np.concatenate(xs, 1),
        [((2, 1, 2), (2, 3, 2), (2, 0, 2))], label="1", torch=lambda *xs: T.cat(xs, 1)),
    OpCase("concatenate", lambda *xs: fnp.concatenate(xs, axis=None), lambda *xs: np.concatenate(xs, None),
        [((2, 3), (4,)), ((), (2,))], label="None", torch=lambda *xs: T.cat([x.reshape(-1) for x in xs])),
    OpCase("concatenate", lambda *xs: fg.cat(xs), lambda *xs: np.concatenate(xs), [((2, 3), (1, 3)),
        ((2,), (3,), (1,))], grad_inputs=(0,), label="first only", torch=lambda *xs: T.cat(xs)),
    OpCase("stack", lambda *xs: fg.stack(xs), lambda *xs: np.stack(xs), [((3,), (3,)), ((), ()),
        ((2, 3), (2, 3), (2, 3)), ((0,), (0,)), ((1,),)], label="0", torch=lambda *xs: T.stack(xs)),
    OpCase("stack", lambda *xs: fnp.stack(xs, axis=-1), lambda *xs: np.stack(xs, -1),
        [((2, 3), (2, 3)), ((1, 2), (1, 2), (1, 2))], label="-1", torch=lambda *xs: T.stack(xs, -1)),
    OpCase("stack", lambda *xs: fg.stack(xs, dim=1), lambda *xs: np.stack(xs, 1),
        [((2, 3), (2, 3)), ((2, 1, 2),) * 3], label="1", torch=lambda *xs: T.stack(xs, 1)),
    OpCase("stack", lambda *xs: fg.stack(xs), lambda *xs: np.stack(xs), [((2,), (2,), (2,)),
        ((2, 2), (2, 2))], grad_inputs=(1,), label="middle only", torch=lambda *xs: T.stack(xs)),
]  # fmt: skip

INDEXING = [
    *[OpCase("getitem", *same(f), one(s), label=label,
        torch=TORCH_INDEX.get(label, f)) for label, f, s in SAME_INDEX],
    OpCase("getitem", lambda x: fnp.split(x, [1, 3])[1], lambda x: np.split(x, [1, 3])[1],
        one([(4,), (5, 2)]), label="split", torch=lambda x: T.tensor_split(x, [1, 3])[1]),
    scatter_case(lambda s: (4,) + s[1:], (np.array([0, 2, 0]),), [(3,), (3, 2), (3, 0), (3, 1, 2)],
        "repeated ints"),
    scatter_case(lambda s: (4,) + s[1:], (slice(1, 3),), [(2,), (2, 3)], "slice"),
    scatter_case(lambda s: (2, 3) + s[1:], MASK23, [(3,), (3, 2)], "mask"),
    scatter_case(lambda s: (3,) + s, 1, [(), (2,)], "int"),
    scatter_case(lambda s: s[1:] + (2,), (None, Ellipsis, 0), [(1,), (1, 3)], "None ellipsis int"),
    scatter_case(lambda s: (2, 3), (np.array([1, 1, 0]), np.array([2, 2, 2])), [(3,)], "int pairs"),
]  # fmt: skip


def _seeded(kind: str) -> Any:
    def draw(x: Any) -> Any:
        fg.manual_seed(7)
        return (fg.rand if kind == "uniform" else fg.randn)(x.shape, dtype=x.dtype)

    return draw


RANDOM_CASES = [
    OpCase("draw", _seeded("uniform"), lambda x: np.random.default_rng(7).random(x.shape).astype(x.dtype),
        one(UNARY), grad_inputs=(), label="rand"),
    OpCase("draw", _seeded("normal"), lambda x: np.random.default_rng(7).standard_normal(x.shape).astype(x.dtype),
        one(UNARY), grad_inputs=(), label="randn"),
]  # fmt: skip

CASES: list[OpCase] = REDUCTIONS + PRODUCTS + SHAPES + JOIN + INDEXING + RANDOM_CASES
