"""The op table, part 8: the primitives made for speed (``flowgrad/ops/conv_gemm.py``'s conv2d and
max_pool2d, ``flowgrad/ops/fused.py``'s softmax_cross_entropy), against loops and NumPy written
out here and against ``torch.conv2d``, ``torch.max_pool2d`` and ``torch.nn.functional.cross_entropy``."""

from __future__ import annotations

import numpy as np

import flowgrad as fg

from .opcases import F, OpCase, Shape, T, distinct, each, one
from .opcases_windows import unfold_ref

# kernel, stride, padding, dilation, groups, (x shape, w shape)
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
# kernel, stride, padding, dilation, x shapes; windows apart (one index each) and overlapping
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


def sce_case(ignore: bool, reduction: str) -> OpCase:
    def torch_twin(x: object) -> object:
        import torch

        return F.cross_entropy(x, torch.as_tensor(sce_labels(tuple(x.shape), ignore)), reduction=reduction)

    return OpCase(
        "softmax_cross_entropy",
        lambda x: fg.softmax_cross_entropy(x, fg.tensor(sce_labels(x.shape, ignore)), reduction=reduction),
        lambda x: sce_ref(x, sce_labels(x.shape, ignore), reduction == "mean"),
        one(SCE_SHAPES),
        label=f"{reduction},ignore={ignore}",
        torch=torch_twin,
    )


def conv_case(s: tuple, p: tuple, d: tuple, g: int, shapes: tuple, bias: bool = False) -> OpCase:
    if bias:
        shapes = (*shapes, (shapes[1][0],))
        return OpCase(
            "conv2d",
            lambda x, w, b: fg.conv2d(x, w, b, s, p, d, g),
            lambda x, w, b: conv_ref(x, w, s, p, d, g) + b.reshape(-1, 1, 1),
            [shapes], sample=each(eighths), label=f"bias,s={s},p={p},d={d},g={g},x={shapes[0]}",
            torch=lambda x, w, b: T.conv2d(x, w, b, s, p, d, g),
        )  # fmt: skip
    return OpCase(
        "conv2d",
        lambda x, w: fg.conv2d(x, w, None, s, p, d, g),
        lambda x, w: conv_ref(x, w, s, p, d, g),
        [shapes], sample=each(eighths), label=f"s={s},p={p},d={d},g={g},x={shapes[0]}",
        torch=lambda x, w: T.conv2d(x, w, None, s, p, d, g),
    )  # fmt: skip


def pool_case(k: tuple, s: tuple, p: tuple, d: tuple, shapes: list[Shape]) -> OpCase:
    return OpCase(
        "max_pool2d",
        lambda x: fg.max_pool2d(x, k, s, p, d),
        lambda x: pool_ref(x, k, s, p, d),
        one(shapes), sample=each(distinct), label=f"k={k},s={s},p={p},d={d}",
        torch=lambda x: T.max_pool2d(x, k, s, p, d),
    )  # fmt: skip


CASES = [
    *[sce_case(i, r) for i in (False, True) for r in ("mean", "sum")],
    *[conv_case(*c, shapes) for _, *c, shapes in CONVS],
    conv_case((1, 1), (1, 1), (1, 1), 1, ((2, 2, 3, 4), (3, 2, 2, 2)), bias=True),
    conv_case((2, 2), (0, 0), (1, 1), 2, ((1, 4, 5, 5), (2, 2, 3, 3)), bias=True),
    *[pool_case(*c, shapes) for *c, shapes in POOLS],
]
