"""Convolution and max-pooling as primitives of their own, for speed: ``conv2d`` and ``max_pool2d``.

``conv2d`` gathers every kernel window of the (N, C, H, W) input with one strided
view and copies it once into im2col rows ordered (C, kh, kw) x (N, oh, ow), so the
convolution is one GEMM per group, ``W (O, C*kh*kw) @ cols``, whose (O, N, oh, ow)
result is returned as an (N, O, oh, ow) view: no transpose is copied. Elementwise
ops keep that memory order, so the next layer's gradient arrives in the layout
its GEMM reads without a copy. The input's gradient is ``W.T @ g`` followed by a
col2im of one slice-add per kernel offset (kh * kw of them, no loop over pixels);
the weight's gradient is ``g @ cols.T`` (the transpose a BLAS flag).

``max_pool2d`` takes the maximum over kh * kw strided views; its gradient goes to
the first maximum of each window (as PyTorch) by one index scatter.

With ``create_graph=True`` both rules are composed from ``unfold2d``, ``fold2d``
and ``einsum``, whose own rules give second and higher derivatives.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from ..backend import is_array
from ..core import mode
from ..core.exports import export
from ..core.ops import apply, defop
from ..core.tensor import Tensor
from ..errors import ShapeError
from .conv import _pair, _unfold_forward, out_size

_SAVED: dict[int, np.ndarray] = {}


def _save(owner: np.ndarray, value: np.ndarray) -> None:
    """Keep ``value`` (im2col rows, pooling choices) for the rule, as long as ``owner`` (the op's
    output buffer) lives: the rule then reads it instead of computing it again."""
    if not mode.state.grad_enabled:
        return
    key = id(owner)
    _SAVED[key] = value
    weakref.finalize(owner, _SAVED.pop, key, None)


def _saved(ans: Any) -> np.ndarray | None:
    base = ans.base if ans.base is not None else ans
    return _SAVED.get(id(base))


def _padded(x: np.ndarray, padding: tuple, fill: float = 0.0) -> np.ndarray:
    ph, pw = padding
    if not (ph or pw):
        return x
    n, c, h, w = x.shape
    out = np.full((n, c, h + 2 * ph, w + 2 * pw), fill, dtype=x.dtype)
    out[:, :, ph : ph + h, pw : pw + w] = x
    return out


def _im2col(x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple) -> tuple:
    """(C*kh*kw, N*oh*ow) rows of every window, copied once from one strided view; and (oh, ow)."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    xp = _padded(x, padding)
    n, c, h, w = xp.shape
    oh, ow = (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1
    s0, s1, s2, s3 = xp.strides
    view = np.lib.stride_tricks.as_strided(
        xp, (c, kh, kw, n, oh, ow), (s1, s2 * dh, s3 * dw, s0, s2 * sh, s3 * sw), writeable=False
    )
    return view.reshape(c * kh * kw, n * oh * ow), (oh, ow)


def _conv_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    *,
    stride: tuple,
    padding: tuple,
    dilation: tuple,
    groups: int,
) -> np.ndarray:
    n = x.shape[0]
    o, cg, kh, kw = w.shape
    cols, (oh, ow) = _im2col(x, (kh, kw), stride, padding, dilation)
    if groups == 1:
        out = w.reshape(o, -1) @ cols
    else:
        k = cg * kh * kw
        out = np.matmul(w.reshape(groups, o // groups, k), cols.reshape(groups, k, -1)).reshape(o, -1)
    if b is not None:  # into the GEMM's fresh result: no second full-size array
        out += b.reshape(o, 1)
    _save(out if out.base is None else out.base, cols)
    return out.reshape(o, n, oh, ow).transpose(1, 0, 2, 3)


def _g_rows(g: np.ndarray) -> np.ndarray:
    """(N, O, oh, ow) -> (O, N*oh*ow): a view when g is in the layout the forward produced."""
    o = g.shape[1]
    return g.transpose(1, 0, 2, 3).reshape(o, -1)


def _col2im(gcols: np.ndarray, shape: tuple, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple) -> Any:
    """Add (C, kh, kw, N, oh, ow) windows back into an (N, C, H, W) array: one slice-add per offset."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    n, c, h, w = shape
    oh, ow = gcols.shape[-2:]
    out = np.zeros((c, n, h + 2 * ph, w + 2 * pw), dtype=gcols.dtype)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
            out[:, :, rows, j * dw : j * dw + sw * (ow - 1) + 1 : sw] += gcols[:, i, j]
    return out[:, :, ph : ph + h, pw : pw + w].transpose(1, 0, 2, 3)


def _conv_composed(
    xp: Any, g: Any, needs: list, x: Any, w: Any, stride: tuple, padding: tuple, dilation: tuple, groups: int
) -> list:
    out = _conv_composed_xw(xp, g, needs, x, w, stride, padding, dilation, groups)
    if len(needs) > 2 and needs[2]:
        out.append(g.sum(axis=(0, 2, 3)))
    return out


def _conv_composed_xw(
    xp: Any, g: Any, needs: list, x: Any, w: Any, stride: tuple, padding: tuple, dilation: tuple, groups: int
) -> list:
    # For create_graph: the same gradients from differentiable primitives.
    n, c = x.shape[:2]
    o, cg, kh, kw = w.shape
    oh, ow = g.shape[2:]
    k = cg * kh * kw
    g4 = g.reshape(n, groups, o // groups, oh * ow)
    out: list = [None, None]
    if needs[0]:
        gcols = xp.einsum("gok,ngop->ngkp", w.reshape(groups, o // groups, k), g4)
        out[0] = xp.fold2d(gcols.reshape(n, c, kh, kw, oh, ow), x.shape, (kh, kw), stride, padding, dilation)
    if needs[1]:
        cols = xp.unfold2d(x, (kh, kw), stride, padding, dilation, 0.0).reshape(n, groups, k, oh * ow)
        out[1] = xp.einsum("ngop,ngkp->gok", g4, cols).reshape(w.shape)
    return out


def _conv_rule(
    xp: Any,
    g: Any,
    ans: Any,
    needs: list,
    x: Any,
    w: Any,
    b: Any = None,
    *,
    stride: tuple,
    padding: tuple,
    dilation: tuple,
    groups: int,
) -> list:
    if not is_array(g):
        return _conv_composed(xp, g, needs, x, w, stride, padding, dilation, groups)
    o, cg, kh, kw = w.shape
    k = cg * kh * kw
    grows = _g_rows(g)
    out: list = [None, None, grows.sum(axis=1) if len(needs) > 2 and needs[2] else None]
    if needs[0]:
        if groups == 1:
            gcols = w.reshape(o, k).T @ grows
        else:
            wt = w.reshape(groups, o // groups, k).transpose(0, 2, 1)
            gcols = np.matmul(wt, grows.reshape(groups, o // groups, -1))
        oh, ow = g.shape[2:]
        gcols = gcols.reshape(x.shape[1], kh, kw, x.shape[0], oh, ow)
        out[0] = _col2im(gcols, x.shape, (kh, kw), stride, padding, dilation)
    if needs[1]:
        cols = _saved(ans)
        if cols is None:
            cols, _ = _im2col(x, (kh, kw), stride, padding, dilation)
        if groups == 1:
            gw = (cols @ grows.T).T  # (K, N*P) @ (N*P, O): OpenBLAS is faster this way round than with O rows
        else:
            gw = np.matmul(grows.reshape(groups, o // groups, -1), cols.reshape(groups, k, -1).transpose(0, 2, 1))
        out[1] = gw.reshape(w.shape)
    return out


CONV2D = defop("conv2d", _conv_forward, vjp_all=_conv_rule)


@export(top="conv2d")
def conv2d(
    input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1
) -> Tensor:
    """Cross-correlation of an (N, C, H, W) input with (O, C/groups, kh, kw) weights, plus ``bias`` (O,),
    as ``torch.conv2d`` (``fg.nn.functional.conv2d`` and ``fg.nn.Conv2d`` call it).

    >>> import flowgrad as fg
    >>> fg.conv2d(fg.ones(1, 1, 4, 4), fg.ones(2, 1, 3, 3)).shape
    (1, 2, 2, 2)
    """
    x, w = input, weight
    if len(x.shape) != 4 or len(w.shape) != 4:
        raise ShapeError(
            f"conv2d: expected an (N, C, H, W) input and (O, C/groups, kh, kw) weights, got shapes "
            f"{tuple(x.shape)} and {tuple(w.shape)}"
        )
    c, (out_ch, c_per_group) = x.shape[1], w.shape[:2]
    if c != c_per_group * groups or out_ch % groups:
        raise ShapeError(
            f"conv2d: input has {c} channels but the weight {tuple(w.shape)} with groups={groups} "
            f"expects {c_per_group * groups}"
        )
    s, p, d = (
        _pair(stride, "stride", "conv2d"),
        _pair(padding, "padding", "conv2d"),
        _pair(dilation, "dilation", "conv2d"),
    )
    _check_fits("conv2d", tuple(x.shape), tuple(w.shape[2:]), s, p, d)
    params = {"stride": s, "padding": p, "dilation": d, "groups": int(groups)}
    # The bias goes into the GEMM's result when it is a plain (O,) vector of the same dtype;
    # otherwise it is broadcast-added after, with that op's own rules.
    fused = bias is not None and getattr(bias, "dtype", None) == w.dtype == x.dtype and tuple(bias.shape) == (out_ch,)
    out = apply(CONV2D, (x, w, bias) if fused else (x, w), params)
    if bias is not None and not fused:
        out = out + bias.reshape(1, out_ch, 1, 1)
    return out


def _check_fits(where: str, shape: tuple, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple) -> None:
    if len(shape) != 4:
        raise ShapeError(f"{where}: expected an (N, C, H, W) input, got shape {shape}")
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    if out_size(shape[2], kh, sh, ph, dh) <= 0 or out_size(shape[3], kw, sw, pw, dw) <= 0:
        raise ShapeError(
            f"{where}: a {kh}x{kw} kernel (dilation {dilation}) does not fit an input of "
            f"{shape[2]}x{shape[3]} with padding {padding}"
        )


def _pool_forward(x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple) -> np.ndarray:
    view = _unfold_forward(x, kernel, stride, padding, dilation, -np.inf)  # (N, C, kh, kw, oh, ow)
    out = view[:, :, 0, 0].copy(order="K")  # the input's memory order: no transposing loops
    kind = np.uint8 if kernel[0] * kernel[1] < 256 else np.intp
    choice = np.zeros_like(out, dtype=kind)
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            if i or j:
                v = view[:, :, i, j]
                # A strictly greater value moves the choice to this offset, larger than any before
                # it: so the choice is a running maximum (fast), and the first maximum stays.
                hit = np.greater(v, out).view(np.uint8)
                np.maximum(choice, hit * kind(i * kernel[1] + j), out=choice)
                np.maximum(out, v, out=out)  # NaN wins, as in PyTorch
    if not np.isnan(out).any():  # with NaN the rule finds the choice itself
        _save(out, choice)
    return out


def _first_max(
    x: np.ndarray, ans: np.ndarray, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple
) -> np.ndarray:
    """Which kernel offset (i * kw + j) holds each window's first maximum."""
    view = _unfold_forward(x, kernel, stride, padding, dilation, -np.inf)
    choice = np.zeros_like(ans, dtype=np.intp)
    found = np.zeros_like(ans, dtype=bool)
    nan = np.isnan(ans)
    has_nan = bool(nan.any())
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            v = view[:, :, i, j]
            hit = v == ans
            if has_nan:
                hit |= nan & np.isnan(v)
            hit &= ~found
            np.copyto(choice, i * kernel[1] + j, where=hit)
            found |= hit
    return choice


def _pool_rule(xp: Any, g: Any, ans: Any, x: Any, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple) -> Any:
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    data = x._data if isinstance(x, Tensor) else x
    result = ans._data if isinstance(ans, Tensor) else ans
    choice = _saved(result)
    if choice is None:
        choice = _first_max(data, result, kernel, stride, padding, dilation)
    n, c, h, w = data.shape
    oh, ow = choice.shape[2:]
    if not is_array(g):  # create_graph: a one-hot mask (a constant) times g, folded back
        mask = (choice[:, :, None, None] == np.arange(kh * kw).reshape(kh, kw)[:, :, None, None]).astype(data.dtype)
        return xp.fold2d(g.reshape(n, c, 1, 1, oh, ow) * mask, data.shape, kernel, stride, padding, dilation)
    hp, wp = h + 2 * ph, w + 2 * pw
    # Flat index into the padded input of each window's chosen pixel: the window's corner plus the offset.
    # The gradient takes the input's memory order when that is conv2d's (C, N, H, W): the
    # convolution's rule then reads it without a copy.
    channels_first = data.transpose(1, 0, 2, 3).flags.c_contiguous and not data.flags.c_contiguous
    planes = (
        np.arange(n * c).reshape(c, n).T.reshape(n, c, 1, 1) if channels_first else np.arange(n * c).reshape(n, c, 1, 1)
    )
    corner = (planes * hp + np.arange(oh).reshape(oh, 1) * sh) * wp
    corner = corner + np.arange(ow) * sw
    offsets = (np.arange(kh)[:, None] * dh * wp + np.arange(kw) * dw).ravel()
    index = (corner + offsets[choice]).ravel()
    if sh >= dh * (kh - 1) + 1 and sw >= dw * (kw - 1) + 1:  # windows apart: every index once
        flat = np.zeros(n * c * hp * wp, dtype=g.dtype)
        flat[index] = g.ravel()
    else:  # overlapping windows: a pixel can be the maximum of several
        flat = np.bincount(index, weights=g.ravel(), minlength=n * c * hp * wp).astype(g.dtype)
    if channels_first:
        return flat.reshape(c, n, hp, wp)[:, :, ph : ph + h, pw : pw + w].transpose(1, 0, 2, 3)
    return flat.reshape(n, c, hp, wp)[:, :, ph : ph + h, pw : pw + w]


MAX_POOL2D = defop("max_pool2d", _pool_forward, _pool_rule)


@export(top="max_pool2d")
def max_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1) -> Tensor:
    """Max over each window of an (N, C, H, W) input; the gradient goes to each window's first
    maximum, as ``torch.max_pool2d`` (``fg.nn.functional.max_pool2d`` and ``fg.nn.MaxPool2d`` call it).

    >>> import flowgrad as fg
    >>> fg.max_pool2d(fg.arange(16.0).reshape(1, 1, 4, 4), 2)
    tensor([[[[ 5.,  7.],
              [13., 15.]]]])
    """
    x, k = input, _pair(kernel_size, "kernel_size", "max_pool2d")
    params = {
        "kernel": k,
        "stride": k if stride is None else _pair(stride, "stride", "max_pool2d"),
        "padding": _pair(padding, "padding", "max_pool2d"),
        "dilation": _pair(dilation, "dilation", "max_pool2d"),
    }
    _check_fits("max_pool2d", tuple(x.shape), k, params["stride"], params["padding"], params["dilation"])
    return apply(MAX_POOL2D, (x,), params)
