"""Metrics on NumPy arrays: ``metric(y_true, y_pred) -> float`` (confusion_matrix -> array).

Predictions may be class scores/logits (N, C), probabilities of the positive
class (N,) or (N, 1) for binary problems, or values for regression; labels
may be integers or one-hot rows. ``get(name)`` resolves Keras-style names.

>>> import numpy as np
>>> from flowgrad.train import metrics
>>> metrics.accuracy(np.array([0, 1, 1]), np.array([[2.0, 1.0], [0.1, 0.9], [3.0, 0.0]]))
0.6666666666666666
>>> metrics.r2(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0]))
1.0
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import flowgrad as fg

__all__ = [
    "accuracy", "top_k_accuracy", "mae", "mse", "rmse", "r2", "precision", "recall", "f1",
    "confusion_matrix", "get",
]  # fmt: skip


def _arr(x: Any) -> np.ndarray:
    return x._data if isinstance(x, fg.Tensor) else np.asarray(x)


def _labels(y_true: Any) -> np.ndarray:
    y = _arr(y_true)
    if y.ndim >= 2 and y.shape[-1] > 1:  # one-hot or probabilities
        return y.argmax(-1)
    return y.reshape(y.shape[0], *y.shape[1:-1]) if y.ndim >= 2 and y.shape[-1] == 1 else y


def _predicted_classes(y_pred: Any) -> np.ndarray:
    p = _arr(y_pred)
    if p.ndim >= 2 and p.shape[-1] > 1:
        return p.argmax(-1)
    p = p.reshape(p.shape[:-1]) if p.ndim >= 2 else p
    if p.dtype.kind == "f":  # one score per sample: a binary probability
        return (p > 0.5).astype(np.int64)
    return p


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of samples whose predicted class equals the label."""
    t, p = _labels(y_true), _predicted_classes(y_pred)
    if t.shape != p.shape:
        raise fg.ShapeError(f"accuracy: labels of shape {t.shape} and predictions of shape {p.shape} do not match")
    return float(np.mean(t.astype(np.int64) == p.astype(np.int64))) if t.size else 0.0


def top_k_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> float:
    """Fraction of samples whose label is among the ``k`` highest scores."""
    t, p = _labels(y_true).astype(np.int64), _arr(y_pred)
    top = np.argsort(-p, axis=-1)[..., :k]
    return float(np.mean(np.any(top == t[..., None], axis=-1))) if t.size else 0.0


def _regression(y_true: Any, y_pred: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    t, p = _arr(y_true).astype(np.float64), _arr(y_pred).astype(np.float64)
    if t.size != p.size:
        raise fg.ShapeError(f"{name}: targets of shape {t.shape} and predictions of shape {p.shape} differ")
    return t.reshape(-1), p.reshape(-1)


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error."""
    t, p = _regression(y_true, y_pred, "mae")
    return float(np.mean(np.abs(t - p)))


def mse(y_true: Any, y_pred: Any) -> float:
    """Mean squared error."""
    t, p = _regression(y_true, y_pred, "mse")
    return float(np.mean((t - p) ** 2))


def rmse(y_true: Any, y_pred: Any) -> float:
    """Root mean squared error."""
    return float(np.sqrt(mse(y_true, y_pred)))


def r2(y_true: Any, y_pred: Any) -> float:
    """Coefficient of determination, 1 - SS_res / SS_tot (as scikit-learn)."""
    t, p = _regression(y_true, y_pred, "r2")
    ss_tot = float(np.sum((t - t.mean()) ** 2))
    ss_res = float(np.sum((t - p) ** 2))
    if ss_tot == 0:
        return 1.0 if ss_res == 0 else 0.0
    return 1.0 - ss_res / ss_tot


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int | None = None) -> np.ndarray:
    """Counts: row = true class, column = predicted class."""
    t, p = _labels(y_true).reshape(-1), _predicted_classes(y_pred).reshape(-1)
    # Checked: unchecked, a length mismatch is a bare IndexError and 0.5 or -1 are silently counted
    # as class 0 or the last class.
    if t.shape != p.shape:
        raise fg.ShapeError(f"confusion_matrix: {t.size} labels but {p.size} predictions")
    for name, v in (("labels", t), ("predictions", p)):
        if v.size and not (np.all(v == np.floor(v)) and v.min() >= 0):
            raise fg.ArgumentError(
                f"confusion_matrix: {name} must be class indices (integers >= 0), got {v[:5].tolist()}..."
            )
    t, p = t.astype(np.int64), p.astype(np.int64)
    n = num_classes or int(max(t.max(initial=-1), p.max(initial=-1)) + 1)
    cm = np.zeros((n, n), dtype=np.int64)
    np.add.at(cm, (t, p), 1)
    return cm


def _per_class(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cm = confusion_matrix(y_true, y_pred)
    tp = np.diag(cm).astype(np.float64)
    return tp, cm.sum(0).astype(np.float64), cm.sum(1).astype(np.float64)


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros_like(a), where=b > 0)


def precision(y_true: Any, y_pred: Any) -> float:
    """Macro-averaged precision (classes never predicted count as 0, as scikit-learn)."""
    tp, predicted, _ = _per_class(y_true, y_pred)
    return float(np.mean(_safe_div(tp, predicted)))


def recall(y_true: Any, y_pred: Any) -> float:
    """Macro-averaged recall."""
    tp, _, actual = _per_class(y_true, y_pred)
    return float(np.mean(_safe_div(tp, actual)))


def f1(y_true: Any, y_pred: Any) -> float:
    """Macro-averaged F1: the mean over classes of 2PR / (P + R)."""
    tp, predicted, actual = _per_class(y_true, y_pred)
    p, r = _safe_div(tp, predicted), _safe_div(tp, actual)
    return float(np.mean(_safe_div(2 * p * r, p + r)))


_NAMES: dict[str, Callable[..., Any]] = {
    "accuracy": accuracy, "acc": accuracy, "top_k_accuracy": top_k_accuracy, "top5": top_k_accuracy,
    "mae": mae, "mean_absolute_error": mae, "mse": mse, "mean_squared_error": mse, "rmse": rmse,
    "r2": r2, "precision": precision, "recall": recall, "f1": f1,
}  # fmt: skip


def get(metric: str | Callable[..., Any]) -> tuple[str, Callable[..., Any]]:
    """``(name, function)`` for a metric name or a callable ``f(y_true, y_pred)``."""
    if callable(metric):
        return getattr(metric, "__name__", "metric"), metric
    key = str(metric).lower()
    if key not in _NAMES:
        import difflib

        close = difflib.get_close_matches(key, _NAMES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise fg.ArgumentError(f"metrics: unknown metric {metric!r}{hint} (known: {', '.join(sorted(_NAMES))})")
    fn = _NAMES[key]
    return ("accuracy" if fn is accuracy else key), fn
