"""``flowgrad.nn.functional`` (import it as ``F``): layers and losses as functions.

Everything here is composed from flowgrad's public primitives, so gradients
(and second derivatives) come from the core's rules.

>>> import flowgrad as fg
>>> import flowgrad.nn.functional as F
>>> F.relu(fg.tensor([-1.0, 2.0]))
tensor([0., 2.])
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

import flowgrad as fg
from flowgrad.errors import ArgumentError, check_number, given
from flowgrad.numpy import unfold2d  # the differentiable strided windows (conv, pooling)

from .losses import (  # noqa: F401  (re-exported: F.mse_loss, F.cross_entropy, ...)
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)

relu = fg.relu
sigmoid = fg.sigmoid
tanh = fg.tanh
leaky_relu = fg.leaky_relu
softplus = fg.softplus
log_softmax = fg.log_softmax


def as_input(x: Any, like: fg.Tensor | None = None) -> fg.Tensor:
    """A tensor from ``x``; floats are cast to ``like``'s dtype (a float32 layer stays float32)."""
    if not isinstance(x, fg.Tensor):
        x = fg.from_numpy(x) if isinstance(x, np.ndarray) else fg.tensor(x)
    if like is not None and x.dtype != like.dtype and x.dtype.kind == "f":
        x = x.astype(like.dtype)
    return x


def _softmax_dim(ndim: int) -> int:
    return 0 if ndim in (0, 1, 3) else 1  # PyTorch's rule when dim is not given


def softmax(x: Any, dim: int | None = None) -> fg.Tensor:
    """Softmax along ``dim`` (PyTorch's implicit choice when None)."""
    x = as_input(x)
    return fg.softmax(x, _softmax_dim(x.ndim) if dim is None else dim)


def gelu(x: Any, approximate: str = "none") -> fg.Tensor:
    """GELU: ``x * Phi(x)`` (exact, with erf) or its tanh approximation."""
    x = as_input(x)
    if approximate == "tanh":
        inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)
        return 0.5 * x * (1 + fg.tanh(inner))
    if approximate != "none":
        raise ArgumentError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return 0.5 * x * (1 + fg.erf(x * (1 / math.sqrt(2.0))))


def silu(x: Any) -> fg.Tensor:
    """SiLU (swish): ``x * sigmoid(x)``."""
    x = as_input(x)
    return x * fg.sigmoid(x)


def linear(x: Any, weight: fg.Tensor, bias: fg.Tensor | None = None) -> fg.Tensor:
    """``x @ weight.T + bias`` with weight of shape (out, in), as PyTorch."""
    if not isinstance(weight, fg.Tensor):  # otherwise an AttributeError on weight.dtype
        raise fg.DTypeError(f"linear: weight must be a tensor, got {given(weight)}")
    x = as_input(x, weight)
    if x.shape[-1:] != weight.shape[-1:]:
        raise fg.ShapeError(
            f"linear: input has {x.shape[-1] if x.ndim else 'no'} features (shape {x.shape}) but the "
            f"weight expects {weight.shape[-1]} (weight shape {weight.shape})"
        )
    return fg.linear(x, weight, bias)  # one primitive: one node, the weight gradient in its layout


def dropout(x: Any, p: float = 0.5, training: bool = True) -> fg.Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (training only)."""
    x = as_input(x)
    if not 0 <= check_number(p, "dropout", "p") <= 1:
        raise ArgumentError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0
    keep = fg.rand(x.shape, dtype=fg.float64) >= p  # an op: a compiled step draws a new mask every time
    return x * (keep.astype(x.dtype) * (1 / (1 - p)))


def _channel_dropout(x: fg.Tensor, p: float, inplace: bool, batched: bool) -> fg.Tensor:
    """Zero whole channels: one draw per (batch, channel), or per channel without a batch dim."""
    lead = 2 if batched else 1
    shape = tuple(x.shape[:lead]) + (1,) * (x.ndim - lead)
    if p == 1:
        mask = fg.zeros(*shape, dtype=x.dtype)
    else:  # an op, as in dropout, so a compiled step draws a new mask every time
        mask = (fg.rand(shape, dtype=fg.float64) >= p).astype(x.dtype) * (1 / (1 - p))
    return x.mul_(mask) if inplace else x * mask


def _check_p(p: Any, where: str) -> float:
    if not 0 <= check_number(p, where, "p") <= 1:
        raise ArgumentError(f"{where}: p must be in [0, 1], got {p}")
    return float(p)


def dropout1d(x: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> fg.Tensor:
    """Zero whole channels of an (N, C, L) or (C, L) input with probability ``p`` (training only).

    >>> import flowgrad as fg
    >>> import flowgrad.nn.functional as F
    >>> y = F.dropout1d(fg.ones(2, 3, 4), 0.5)
    >>> bool(((y == 0).all(-1) | (y == 2).all(-1)).all())   # each channel is dropped or kept whole
    True
    """
    x, p = as_input(x), _check_p(p, "dropout1d")
    if x.ndim not in (2, 3):
        raise fg.ShapeError(f"dropout1d: expected an (N, C, L) or (C, L) input, got shape {tuple(x.shape)}")
    if not training or p == 0:
        return x
    return _channel_dropout(x, p, inplace, batched=x.ndim == 3)


def dropout2d(x: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> fg.Tensor:
    """Zero whole channels of an (N, C, H, W) input with probability ``p`` (training only).

    As PyTorch, a 3-D input is taken as (N, C, L) (with a warning), not as an unbatched (C, H, W).

    >>> import flowgrad as fg
    >>> import flowgrad.nn.functional as F
    >>> F.dropout2d(fg.ones(2, 3, 4, 4), 0.5, training=False).sum().item()
    96.0
    """
    x, p = as_input(x), _check_p(p, "dropout2d")
    if x.ndim < 2:
        raise fg.ShapeError(f"dropout2d: expected an (N, C, H, W) input, got shape {tuple(x.shape)}")
    if x.ndim == 3:
        warnings.warn(
            "dropout2d: a 3-D input is taken as (N, C, L), dropping channels of a 1-D signal as PyTorch does; "
            "for an unbatched (C, H, W) image add the batch dim (x.unsqueeze(0)), or use dropout1d",
            UserWarning,
            stacklevel=2,
        )
    elif x.ndim != 4:
        warnings.warn(
            f"dropout2d: expected a 4-D (N, C, H, W) input, got {x.ndim}-D; dropping (dim 0, dim 1) slices",
            UserWarning,
            stacklevel=2,
        )
    if not training or p == 0:
        return x
    return _channel_dropout(x, p, inplace, batched=True)


def dropout3d(x: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> fg.Tensor:
    """Zero whole channels of an (N, C, D, H, W) or (C, D, H, W) input with probability ``p``.

    >>> import flowgrad as fg
    >>> import flowgrad.nn.functional as F
    >>> F.dropout3d(fg.ones(3, 2, 2, 2), 1.0).sum().item()
    0.0
    """
    x, p = as_input(x), _check_p(p, "dropout3d")
    if x.ndim < 1:
        raise fg.ShapeError(f"dropout3d: expected an (N, C, D, H, W) input, got shape {tuple(x.shape)}")
    if x.ndim not in (4, 5):
        warnings.warn(
            f"dropout3d: expected a 5-D (N, C, D, H, W) or 4-D (C, D, H, W) input, got {x.ndim}-D; "
            "dropping slices along dim 0",
            UserWarning,
            stacklevel=2,
        )
    if not training or p == 0:
        return x
    return _channel_dropout(x, p, inplace, batched=x.ndim == 5)


def conv2d(
    x: Any,
    weight: fg.Tensor,
    bias: fg.Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> fg.Tensor:
    """2-D convolution (cross-correlation, as PyTorch): im2col from one strided view, one GEMM per group.

    >>> import flowgrad as fg
    >>> import flowgrad.nn.functional as F
    >>> F.conv2d(fg.ones(1, 1, 3, 3), fg.ones(1, 1, 2, 2)).shape
    (1, 1, 2, 2)
    """
    return fg.conv2d(as_input(x, weight), weight, bias, stride, padding, dilation, groups)


def max_pool2d(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1) -> fg.Tensor:
    """Max over each window; the gradient goes to each window's first maximum, as PyTorch's.

    >>> import flowgrad as fg
    >>> import flowgrad.nn.functional as F
    >>> F.max_pool2d(fg.arange(16.0).reshape(1, 1, 4, 4), 2).shape
    (1, 1, 2, 2)
    """
    return fg.max_pool2d(as_input(x), kernel_size, stride, padding, dilation)


def avg_pool2d(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> fg.Tensor:
    """Mean over each window (padding counts as zeros, as PyTorch's default)."""
    x = as_input(x)
    cols = unfold2d(x, kernel_size, kernel_size if stride is None else stride, padding, 1, where="avg_pool2d")
    n, c, kh, kw, oh, ow = cols.shape
    return cols.reshape(n, c, kh * kw, oh, ow).mean(axis=2)


def batch_norm(
    x: Any,
    running_mean: fg.Tensor | None,
    running_var: fg.Tensor | None,
    weight: fg.Tensor | None = None,
    bias: fg.Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> fg.Tensor:
    """Normalize over the batch (and spatial) axes per channel (axis 1)."""
    if (running_mean is None) != (running_var is None):
        raise ArgumentError("batch_norm: give running_mean and running_var together, or neither")
    x = as_input(x, weight)
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if training or running_mean is None or running_var is None:
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True, ddof=0)
        if training and running_mean is not None and running_var is not None:
            n = x.size // x.shape[1]
            with fg.no_grad():
                unbiased = var.detach().reshape(-1) * (n / max(n - 1, 1))
                running_mean.mul_(1 - momentum).add_(mean.detach().reshape(-1) * momentum)
                running_var.mul_(1 - momentum).add_(unbiased * momentum)
    else:
        mean = running_mean.reshape(shape)
        var = running_var.reshape(shape)
    out = (x - mean) / fg.sqrt(var + eps)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def layer_norm(x: Any, normalized_shape: Any, weight: Any = None, bias: Any = None, eps: float = 1e-5) -> fg.Tensor:
    """Normalize over the last ``len(normalized_shape)`` axes."""
    x = as_input(x, weight)
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if x.shape[x.ndim - len(shape) :] != shape:
        raise fg.ShapeError(f"layer_norm: input shape {x.shape} does not end with normalized_shape {shape}")
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True, ddof=0)
    out = (x - mean) / fg.sqrt(var + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def embedding(
    indices: Any,
    weight: fg.Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> fg.Tensor:
    """Rows of ``weight`` picked by integer ``indices``, as PyTorch's ``F.embedding``.

    Positions holding ``padding_idx`` send no gradient to that row (its value is still
    returned). With ``max_norm``, the rows looked up are first rescaled in place to norms of at
    most ``max_norm``. ``sparse=True`` is accepted; the gradient is dense (the same numbers).

    >>> import flowgrad as fg
    >>> import flowgrad.nn.functional as F
    >>> w = fg.ones(4, 2, requires_grad=True)
    >>> F.embedding(fg.tensor([0, 3, 0]), w, padding_idx=0).sum().backward()
    >>> w.grad.tolist()
    [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [1.0, 1.0]]
    """
    idx = indices._data if isinstance(indices, fg.Tensor) else np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise fg.DTypeError(f"embedding: indices must be integers, got {idx.dtype}")
    rows = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= rows):
        raise fg.ShapeError(f"embedding: indices must be in [0, {rows}), got {idx.min()}..{idx.max()}")
    if scale_grad_by_freq:  # refused rather than silently ignored: it changes the gradient
        raise ArgumentError("embedding: scale_grad_by_freq=True is not supported")
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise ArgumentError(f"embedding: padding_idx must be in [-{rows}, {rows}), got {padding_idx}")
        padding_idx %= rows
    if max_norm is not None and idx.size:
        with fg.no_grad():  # PyTorch's renormalisation: in place, outside the graph
            used = np.unique(idx)
            values = np.asarray(weight.detach())[used]
            norms = np.linalg.norm(values, ord=norm_type, axis=1, keepdims=True)
            scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
            weight[used] = fg.from_numpy((values * scale).astype(values.dtype))
    out = weight[idx]
    if padding_idx is not None and weight.requires_grad and bool((idx == padding_idx).any()):
        keep = fg.from_numpy((idx != padding_idx)[..., None])
        out = fg.where(keep, out, out.detach())  # the same values; no gradient from padding positions
    return out


def one_hot(labels: Any, num_classes: int = -1) -> fg.Tensor:
    """Integer labels as one-hot int64 rows."""
    idx = labels._data if isinstance(labels, fg.Tensor) else np.asarray(labels)
    if idx.dtype.kind not in "iu":  # NumPy's IndexError said nothing of one_hot
        raise fg.DTypeError(f"one_hot: labels must be integers, got dtype {idx.dtype}")
    n = int(idx.max()) + 1 if num_classes < 0 else num_classes
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise fg.ShapeError(f"one_hot: labels must be in [0, {n}), got {idx.min()}..{idx.max()}")
    return fg.tensor(np.eye(n, dtype=np.int64)[idx])


def pad(x: Any, pad: Any, mode: str = "constant", value: float = 0.0) -> fg.Tensor:
    """PyTorch's pad: ``pad = (left, right, top, bottom, ...)`` from the last axis backwards."""
    x = as_input(x)
    if len(pad) % 2:
        raise ArgumentError(f"pad: expected an even number of sizes, got {len(pad)}")
    widths = [(0, 0)] * x.ndim
    for k in range(len(pad) // 2):
        widths[x.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    return fg.pad(x, widths, mode=mode, constant_values=value)


# At the end: functional_attention uses as_input and dropout from this module.
from .functional_attention import scaled_dot_product_attention  # noqa: E402, F401
