"""Loss functions, with PyTorch's names, arguments and numbers.

``reduction`` is ``'mean'``, ``'sum'`` or ``'none'``. Regression losses refuse
predictions and targets of different shapes (an (N,) target against an (N, 1)
prediction would otherwise broadcast into an (N, N) matrix and train on
nonsense). Cross-entropy works from logits through ``log_softmax``, so logits
of +-1e4 give finite losses and gradients.

>>> import flowgrad as fg
>>> import flowgrad.nn.functional as F
>>> F.mse_loss(fg.tensor([1.0, 2.0]), fg.tensor([1.0, 4.0]))
tensor(2.)
>>> F.cross_entropy(fg.tensor([[1e4, -1e4]]), fg.tensor([1]))
tensor(20000.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

import flowgrad as fg
from flowgrad.errors import ArgumentError, check_number, given

_REDUCTIONS = ("mean", "sum", "none")


def _pair(name: str, input: Any, target: Any) -> tuple[fg.Tensor, fg.Tensor]:  # noqa: A002
    # Checked: a string became a tensor of strings, or an error naming fg.tensor, not the loss.
    for what, value in (("input", input), ("target", target)):
        kind = (value._data if isinstance(value, fg.Tensor) else np.asarray(value)).dtype.kind
        if kind not in "biuf":
            raise fg.DTypeError(f"{name}: {what} must be a tensor or an array of numbers, got {given(value)}")
    if not isinstance(input, fg.Tensor):
        input = fg.tensor(input) if not isinstance(input, np.ndarray) else fg.from_numpy(input)
    if not isinstance(target, fg.Tensor):
        target = fg.from_numpy(np.asarray(target))
    if target.dtype != input.dtype and input.dtype.kind == "f":
        target = target.astype(input.dtype)
    if input.shape != target.shape:
        raise fg.ShapeError(
            f"{name}: input shape {input.shape} and target shape {target.shape} differ; reshape one "
            "of them (for example target.reshape(input.shape)) - broadcasting them would silently "
            "compare every prediction with every target"
        )
    return input, target


def _reduce(name: str, loss: fg.Tensor, reduction: str) -> fg.Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ArgumentError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> fg.Tensor:  # noqa: A002
    """Mean squared error."""
    input, target = _pair("mse_loss", input, target)
    if reduction in ("mean", "sum"):
        return fg.squared_error(input, target, reduction)  # one primitive: one graph node
    d = input - target
    return _reduce("mse_loss", d * d, reduction)


def l1_loss(input: Any, target: Any, reduction: str = "mean") -> fg.Tensor:  # noqa: A002
    """Mean absolute error."""
    input, target = _pair("l1_loss", input, target)
    return _reduce("l1_loss", fg.abs(input - target), reduction)


def huber_loss(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0) -> fg.Tensor:  # noqa: A002
    """Quadratic below ``delta``, linear above."""
    if check_number(delta, "huber_loss", "delta") <= 0:  # as PyTorch
        raise ArgumentError(f"huber_loss: delta must be > 0, got {delta}")
    input, target = _pair("huber_loss", input, target)
    d = fg.abs(input - target)
    loss = fg.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))
    return _reduce("huber_loss", loss, reduction)


def smooth_l1_loss(input: Any, target: Any, reduction: str = "mean", beta: float = 1.0) -> fg.Tensor:  # noqa: A002
    """Huber loss divided by ``beta`` (PyTorch's SmoothL1Loss)."""
    if check_number(beta, "smooth_l1_loss", "beta") < 0:  # as PyTorch
        raise ArgumentError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    input, target = _pair("smooth_l1_loss", input, target)
    d = fg.abs(input - target)
    if beta == 0:
        return _reduce("smooth_l1_loss", d, reduction)
    loss = fg.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)
    return _reduce("smooth_l1_loss", loss, reduction)


def binary_cross_entropy(input: Any, target: Any, weight: Any = None, reduction: str = "mean") -> fg.Tensor:  # noqa: A002
    """BCE on probabilities; each log is clamped at -100 as in PyTorch."""
    input, target = _pair("binary_cross_entropy", input, target)
    if np.any((input._data < 0) | (input._data > 1)):  # log of a negative number: NaN and a RuntimeWarning
        raise ArgumentError(
            "binary_cross_entropy: input must be probabilities in [0, 1], got values from "
            f"{input._data.min()} to {input._data.max()} (for logits use binary_cross_entropy_with_logits)"
        )
    log_p = fg.clamp(fg.log(input), min=-100)
    log_q = fg.clamp(fg.log(1 - input), min=-100)
    loss = -(target * log_p + (1 - target) * log_q)
    if weight is not None:
        loss = loss * weight
    return _reduce("binary_cross_entropy", loss, reduction)


def binary_cross_entropy_with_logits(
    input: Any,  # noqa: A002
    target: Any,
    weight: Any = None,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> fg.Tensor:
    """BCE on logits, computed stably: ``max(x, 0) - x*y + log(1 + exp(-|x|))``."""
    input, target = _pair("binary_cross_entropy_with_logits", input, target)
    softplus_neg = fg.log1p(fg.exp(-fg.abs(input))) + fg.relu(-input)  # log(1 + exp(-x))
    if pos_weight is None:
        loss = (1 - target) * input + softplus_neg
    else:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * softplus_neg
    if weight is not None:
        loss = loss * weight
    return _reduce("binary_cross_entropy_with_logits", loss, reduction)


def _class_dim(input: fg.Tensor) -> int:
    return 0 if input.ndim == 1 else 1


def _check_labels(name: str, input: fg.Tensor, labels: np.ndarray, ignore_index: int) -> None:
    cd = _class_dim(input)
    expected = input.shape[:cd] + input.shape[cd + 1 :]
    if labels.shape != expected:
        raise fg.ShapeError(
            f"{name}: input of shape {input.shape} (classes on axis {cd}) needs integer labels of shape "
            f"{expected}, got {labels.shape}"
        )
    valid = labels[labels != ignore_index]
    n_classes = input.shape[cd]
    if valid.size and (valid.min() < 0 or valid.max() >= n_classes):
        raise fg.ShapeError(f"{name}: labels must be in [0, {n_classes}), got values {valid.min()}..{valid.max()}")


def _label_tensor(target: Any, name: str) -> fg.Tensor:
    t = target if isinstance(target, fg.Tensor) else fg.from_numpy(np.asarray(target))
    if t.dtype.kind not in "iu":
        raise fg.DTypeError(f"{name}: target must hold integer class labels, got {t.dtype}")
    return t


def _picked(logp: fg.Tensor, labels: fg.Tensor, weight: Any, ignore_index: int, name: str) -> tuple:
    """(log p of each sample's class, each sample's weight: 0 where ignored).

    Everything that depends on the labels is computed with flowgrad ops, so a compiled
    step (fg.compile) replays it on each batch's labels instead of baking in the first.
    """
    _check_labels(name, logp, labels._data, ignore_index)
    cd = _class_dim(logp)
    keep = labels != ignore_index
    safe = fg.where(keep, labels, 0)
    if logp.ndim == 1:
        picked = logp[safe._data]
    else:
        moved = fg.moveaxis(logp, cd, -1)  # (N, d1.., C)
        picked = moved[tuple(np.indices(labels.shape)) + (safe._data,)]
    n_classes = logp.shape[cd]
    w = fg.ones(n_classes, dtype=logp.dtype) if weight is None else fg.tensor(_as_array(weight, logp.dtype))
    sample_w = fg.where(keep, w[safe._data], 0).astype(logp.dtype)
    return picked, sample_w, keep


def nll_loss(
    input: Any,  # noqa: A002
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> fg.Tensor:
    """Negative log-likelihood of integer labels given log-probabilities."""
    input = input if isinstance(input, fg.Tensor) else fg.tensor(input)
    picked, sample_w, _ = _picked(input, _label_tensor(target, "nll_loss"), weight, ignore_index, "nll_loss")
    loss = -picked * sample_w
    if reduction == "mean":
        return loss.sum() / sample_w.sum()
    return _reduce("nll_loss", loss, reduction)


def _as_array(x: Any, dtype: Any) -> np.ndarray:
    return (x._data if isinstance(x, fg.Tensor) else np.asarray(x)).astype(dtype, copy=False)


def cross_entropy(
    input: Any,  # noqa: A002
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> fg.Tensor:
    """Cross-entropy from logits; ``target`` is integer labels or class probabilities.

    Same numbers as ``torch.nn.functional.cross_entropy``, ``weight``,
    ``ignore_index`` and ``label_smoothing`` included.
    """
    input = input if isinstance(input, fg.Tensor) else fg.tensor(input)
    cd = _class_dim(input)
    n_classes = input.shape[cd]
    logp = fg.log_softmax(input, cd)
    w_shape = [1] * input.ndim
    w_shape[cd] = n_classes
    if weight is not None and np.size(weight._data if isinstance(weight, fg.Tensor) else weight) != n_classes:
        raise fg.ShapeError(
            f"cross_entropy: weight must have one value per class ({n_classes}), got shape {np.shape(weight)}"
        )
    if not 0 <= check_number(label_smoothing, "cross_entropy", "label_smoothing") <= 1:
        raise ArgumentError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    w = None if weight is None else _as_array(weight, input.dtype).reshape(w_shape)
    t = target if isinstance(target, fg.Tensor) else fg.from_numpy(np.asarray(target))
    if t.dtype.kind == "f":  # class probabilities
        if t.shape != input.shape:
            raise fg.ShapeError(
                f"cross_entropy: probability targets must have the input's shape {input.shape}, got {t.shape}"
            )
        probs = t.astype(input.dtype)
        if label_smoothing > 0:
            probs = probs * (1 - label_smoothing) + label_smoothing / n_classes
        terms = logp * probs if w is None else logp * probs * w
        loss = -terms.sum(axis=cd)
        if reduction == "mean":
            return loss.sum() / (input.size // n_classes if input.size else 1)
        return _reduce("cross_entropy", loss, reduction)
    labels = _label_tensor(t, "cross_entropy")
    if input.ndim == 2 and weight is None and label_smoothing <= 0 and reduction in ("mean", "sum"):
        _check_labels("cross_entropy", input, labels._data, ignore_index)
        return fg.softmax_cross_entropy(input, labels, ignore_index, reduction)  # one fused primitive
    picked, sample_w, keep = _picked(logp, labels, weight, ignore_index, "cross_entropy")
    nll = -picked * sample_w
    nll = nll.sum() / sample_w.sum() if reduction == "mean" else _reduce("cross_entropy", nll, reduction)
    if label_smoothing <= 0:
        return nll
    smooth = -(logp if w is None else logp * w).sum(axis=cd) * keep.astype(input.dtype)
    if reduction == "mean":
        smooth = smooth.sum() / (keep.astype(input.dtype).sum() if w is None else sample_w.sum())
    else:
        smooth = _reduce("cross_entropy", smooth, reduction)
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / n_classes)
