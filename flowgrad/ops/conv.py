"""Sliding-window primitives for convolution and pooling: ``unfold2d`` and ``fold2d``.

``unfold2d`` takes every kernel window of an (N, C, H, W) array as a strided
view - no copy, no loop over pixels - giving (N, C, kh, kw, oh, ow).
Convolution is then one matrix product, pooling one reduction. Its gradient,
``fold2d``, adds each window back into place with one slice-add per kernel
position (kh * kw of them), and ``fold2d``'s gradient is ``unfold2d`` again,
so second derivatives work.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.exports import xp_helper
from ..core.ops import apply, defop
from ..core.tensor import Tensor
from ..errors import ShapeError, check_int


def out_size(size: int, k: int, stride: int, pad: int, dilation: int) -> int:
    return (size + 2 * pad - dilation * (k - 1) - 1) // stride + 1


def _unfold_forward(
    x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple, pad_value: float
) -> np.ndarray:
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=pad_value)
    n, c, h, w = x.shape
    oh = (h - dh * (kh - 1) - 1) // sh + 1
    ow = (w - dw * (kw - 1) - 1) // sw + 1
    if oh <= 0 or ow <= 0:
        raise ShapeError(
            f"unfold2d: a {kh}x{kw} kernel (dilation {dilation}) does not fit an input of "
            f"{h - 2 * ph}x{w - 2 * pw} with padding {padding}"
        )
    s0, s1, s2, s3 = x.strides
    return np.lib.stride_tricks.as_strided(
        x, (n, c, kh, kw, oh, ow), (s0, s1, s2 * dh, s3 * dw, s2 * sh, s3 * sw), writeable=False
    )


def _fold_forward(
    cols: np.ndarray, shape: tuple, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple
) -> np.ndarray:
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    n, c, h, w = shape
    oh, ow = cols.shape[-2:]
    out = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            out[:, :, i * dh : i * dh + sh * oh : sh, j * dw : j * dw + sw * ow : sw] += cols[:, :, i, j]
    return out[:, :, ph : ph + h, pw : pw + w]


UNFOLD2D = defop(
    "unfold2d",
    _unfold_forward,
    lambda xp, g, ans, x, kernel, stride, padding, dilation, pad_value: xp.fold2d(
        g, x.shape, kernel, stride, padding, dilation
    ),
)
FOLD2D = defop(
    "fold2d",
    _fold_forward,
    lambda xp, g, ans, cols, shape, kernel, stride, padding, dilation: xp.unfold2d(
        g, kernel, stride, padding, dilation, 0.0
    ),
)


def _pair(v: Any, name: str, where: str = "unfold2d") -> tuple:
    # Checked: int() took "a" with a bare ValueError, and a kernel or stride of 0 divided by zero.
    minimum = 0 if name == "padding" else 1
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ShapeError(f"{where}: {name} must be an int or a pair, got {v!r}")
        return check_int(v[0], where, name, minimum), check_int(v[1], where, name, minimum)
    number = check_int(v, where, name, minimum)
    return number, number


def unfold2d(
    x: Any,
    kernel: Any,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    pad_value: float = 0.0,
    where: str = "unfold2d",
) -> Tensor:
    """All kernel windows of an (N, C, H, W) input as (N, C, kh, kw, oh, ow).

    >>> import flowgrad as fg
    >>> from flowgrad.ops.conv import unfold2d
    >>> unfold2d(fg.ones(1, 1, 4, 4), 3).shape
    (1, 1, 3, 3, 2, 2)
    """
    if len(getattr(x, "shape", ())) != 4:
        raise ShapeError(f"{where}: expected an (N, C, H, W) input, got shape {getattr(x, 'shape', None)}")
    params = {
        "kernel": _pair(kernel, "kernel_size", where),
        "stride": _pair(stride, "stride", where),
        "padding": _pair(padding, "padding", where),
        "dilation": _pair(dilation, "dilation", where),
        "pad_value": float(pad_value),
    }
    return apply(UNFOLD2D, (x,), params)


def fold2d(cols: Any, shape: Any, kernel: Any, stride: Any, padding: Any, dilation: Any) -> Tensor:
    """Add windows (N, C, kh, kw, oh, ow) back into an array of ``shape``: unfold2d's adjoint."""
    params = {
        "shape": tuple(int(s) for s in shape),
        "kernel": _pair(kernel, "kernel_size"),
        "stride": _pair(stride, "stride"),
        "padding": _pair(padding, "padding"),
        "dilation": _pair(dilation, "dilation"),
    }
    return apply(FOLD2D, (cols,), params)


xp_helper("unfold2d", _unfold_forward, unfold2d)
xp_helper("fold2d", _fold_forward, fold2d)
