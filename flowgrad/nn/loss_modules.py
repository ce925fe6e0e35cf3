"""Loss modules (``nn.MSELoss()`` and friends) over ``flowgrad.nn.functional``'s losses."""

from __future__ import annotations

from typing import Any

import flowgrad as fg

from . import losses
from .module import Module


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise fg.ArgumentError(
                f"{type(self).__name__}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}"
            )
        self.reduction = reduction

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Mean squared error (MindSpore and Keras call it MSE too)."""

    def forward(self, input: Any, target: Any) -> fg.Tensor:  # noqa: A002
        return losses.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    def forward(self, input: Any, target: Any) -> fg.Tensor:  # noqa: A002
        return losses.l1_loss(input, target, self.reduction)


class HuberLoss(_Loss):
    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Any, target: Any) -> fg.Tensor:  # noqa: A002
        return losses.huber_loss(input, target, self.reduction, self.delta)


class SmoothL1Loss(_Loss):
    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input: Any, target: Any) -> fg.Tensor:  # noqa: A002
        return losses.smooth_l1_loss(input, target, self.reduction, self.beta)


class BCELoss(_Loss):
    def __init__(self, weight: Any = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.weight = weight

    def forward(self, input: Any, target: Any) -> fg.Tensor:  # noqa: A002
        return losses.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_Loss):
    def __init__(self, weight: Any = None, reduction: str = "mean", pos_weight: Any = None) -> None:
        super().__init__(reduction)
        self.weight, self.pos_weight = weight, pos_weight

    def forward(self, input: Any, target: Any) -> fg.Tensor:  # noqa: A002
        return losses.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction, self.pos_weight)


class CrossEntropyLoss(_Loss):
    """Cross-entropy from logits with integer labels or class probabilities."""

    def __init__(
        self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean", label_smoothing: float = 0.0
    ) -> None:
        super().__init__(reduction)
        self.weight, self.ignore_index, self.label_smoothing = weight, ignore_index, label_smoothing

    def forward(self, input: Any, target: Any) -> fg.Tensor:  # noqa: A002
        return losses.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing)


class NLLLoss(_Loss):
    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.weight, self.ignore_index = weight, ignore_index

    def forward(self, input: Any, target: Any) -> fg.Tensor:  # noqa: A002
        return losses.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class SoftmaxCrossEntropyWithLogits(_Loss):
    """MindSpore's name: ``sparse=True`` takes integer labels, else one-hot/probabilities."""

    def __init__(self, sparse: bool = False, reduction: str = "none") -> None:
        super().__init__(reduction)
        self.sparse = sparse

    def forward(self, logits: Any, labels: Any) -> fg.Tensor:
        if not self.sparse:
            labels = labels._data if isinstance(labels, fg.Tensor) else labels
            labels = fg.tensor(labels)._data.astype(logits.dtype)
        return losses.cross_entropy(logits, labels, reduction=self.reduction)
