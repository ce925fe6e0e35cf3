"""The op table, part 7: sliding windows (``flowgrad/ops/conv.py``'s unfold2d and fold2d), against
loops written out here and against ``torch.nn.functional.unfold`` and ``fold``."""

from __future__ import annotations

from typing import Any

import numpy as np

import flowgrad.numpy as fnp

from .opcases import F, OpCase, Shape, one

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


def torch_unfold(x: Any, k: tuple, s: tuple, p: tuple, d: tuple) -> Any:
    """torch's unfold, (N, C*kh*kw, oh*ow), in flowgrad's layout (N, C, kh, kw, oh, ow)."""
    grid = window_grid(tuple(x.shape), k, s, p, d)[1]
    cols = F.unfold(x, k, dilation=d, padding=p, stride=s)
    return cols.reshape(*x.shape[:2], *k, *grid)


def torch_fold(cols: Any, shape: Shape, k: tuple, s: tuple, p: tuple, d: tuple) -> Any:
    flat = cols.reshape(cols.shape[0], cols.shape[1] * k[0] * k[1], cols.shape[4] * cols.shape[5])
    return F.fold(flat, shape[2:], k, dilation=d, padding=p, stride=s)


def window_label(k: tuple, s: tuple, p: tuple, d: tuple) -> str:
    return f"k={k},s={s},p={p},d={d}"


def unfold_case(k: tuple, s: tuple, p: tuple, d: tuple, shapes: list[Shape]) -> OpCase:
    return OpCase(
        "unfold2d",
        lambda x: fnp.unfold2d(x, k, s, p, d),
        lambda x: unfold_ref(x, k, s, p, d),
        one(shapes),
        label=window_label(k, s, p, d),
        torch=lambda x: torch_unfold(x, k, s, p, d),
    )


def fold_case(k: tuple, s: tuple, p: tuple, d: tuple, t: Shape) -> OpCase:
    return OpCase(
        "fold2d",
        lambda x: fnp.fold2d(x, t, k, s, p, d),
        lambda x: fold_ref(x, t, k, s, p, d),
        one([cols_shape(t, k, s, p, d)]),
        label=f"{t},{window_label(k, s, p, d)}",
        torch=lambda x: torch_fold(x, t, k, s, p, d),
    )


PAD1 = ((2, 2), (1, 1), (1, 1), (1, 1))  # kernel, stride, padding, dilation of the pad_value rows
PAD2 = ((2, 2), (2, 2), (1, 1), (1, 1))


WINDOW_CASES = [
    *[unfold_case(*c, shapes) for *c, shapes in WINDOWS],
    OpCase("unfold2d", lambda x: fnp.unfold2d(x, 2, 1, 1, 1, 0.5), lambda x: unfold_ref(x, *PAD1, 0.5),
        one([(1, 2, 3, 3)]), label="pad_value 0.5"),
    OpCase("unfold2d", lambda x: fnp.unfold2d(x, 2, 2, 1, 1, -np.inf),
        lambda x: unfold_ref(x, *PAD2, -np.inf), one([(1, 1, 3, 3)]), grad_inputs=(), label="pad_value -inf"),
    *[fold_case(*c, t) for *c, shapes in WINDOWS for t in shapes],
]  # fmt: skip

CASES = WINDOW_CASES
