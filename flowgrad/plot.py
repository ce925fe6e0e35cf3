"""Pictures of training: loss curves, fitted lines, decision boundaries, confusion matrices.

Each function returns a matplotlib ``Figure`` (drawn with the Agg backend, so
no display is needed) and saves a PNG when ``path`` is given. matplotlib is an
optional dependency: ``pip install "flowgrad[plot]"``.

>>> import flowgrad as fg
>>> fig = fg.plot.loss_curve({"loss": [1.0, 0.5, 0.25], "val_loss": [1.1, 0.7, 0.4]})
>>> [line.get_label() for line in fig.axes[0].lines]
['loss', 'val_loss']
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

import flowgrad as fg
from flowgrad.errors import ArgumentError, DTypeError, check_int, given

__all__ = ["loss_curve", "fit_line", "decision_boundary", "confusion_matrix", "weights_histogram"]


def _figure(figsize: tuple = (6.4, 4.8)) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            'flowgrad.plot needs matplotlib, which is optional: pip install "flowgrad[plot]" '
            "(or pip install matplotlib)"
        ) from None
    return Figure(figsize=figsize, dpi=100, layout="tight")


def _save(fig: Any, path: str | os.PathLike | None) -> Any:
    if path is not None:
        folder = os.path.dirname(os.fspath(path))
        if folder:
            os.makedirs(folder, exist_ok=True)
        fig.savefig(path, format="png")
    return fig


def _history(history: Any) -> dict:
    hist = getattr(history, "history", history)
    if not isinstance(hist, dict):  # dict(5): a bare TypeError
        raise DTypeError(f"loss_curve: history must be fit's History or a dict of lists, got {given(history)}")
    return dict(hist)


def loss_curve(history: Any, path: str | None = None, keys: list[str] | None = None, title: str | None = None) -> Any:
    """Loss per epoch (training and validation), from ``fit``'s History or a dict of lists, with
    an accuracy panel beside it when the history has accuracy. Epochs are whole numbers on the
    axis; ``title`` (say, the run's name and its test figure) heads the figure.
    """
    hist = _history(history)
    keys = keys or [k for k in ("loss", "val_loss") if k in hist]
    if not keys:
        raise ArgumentError(f"loss_curve: no 'loss' in the history (it has {sorted(hist)})")
    missing = [k for k in keys if k not in hist]
    if missing:  # a message naming what is missing, not a bare KeyError
        raise ArgumentError(f"loss_curve: keys {missing} are not in the history (it has {sorted(hist)})")
    accuracy = [k for k in ("accuracy", "val_accuracy", "acc", "val_acc") if k in hist]
    fig = _figure((11.0, 4.4) if accuracy else (6.4, 4.8))
    panels = [("loss", keys)] + ([("accuracy", accuracy)] if accuracy else [])
    for i, (what, names) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        for k in names:
            values = hist[k]
            ax.plot(range(1, len(values) + 1), values, marker="o" if len(values) < 30 else None, label=k)
        ax.xaxis.set_major_locator(_integer_ticks())
        ax.set_xlabel("epoch")
        ax.set_ylabel(what)
        ax.set_title(what.capitalize())
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def _integer_ticks() -> Any:
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)  # epoch 1, 2, 3: never 2.5


def fit_line(
    x: Any,
    y: Any,
    predict_fn: Callable[[np.ndarray], Any],
    path: str | None = None,
    true_fn: Callable | None = None,
    title: str | None = None,
    label: str = "fitted",
) -> Any:
    """Data points and the fitted line ``predict_fn(x)`` over their range (seed 003's picture).
    ``label`` names the line in the legend (the fitted parameters, say); ``title`` heads it."""
    if not callable(predict_fn):
        raise DTypeError(f"fit_line: predict_fn must be a function of x, got {given(predict_fn)}")
    try:
        xs = np.asarray(x, dtype=np.float64).reshape(-1)
        ys = np.asarray(y, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):  # NumPy's bare error for strings
        raise DTypeError(f"fit_line: x and y must be arrays of numbers, got {given(x)} and {given(y)}") from None
    if xs.size != ys.size or not xs.size:
        raise fg.ShapeError(f"fit_line: x and y must hold the same number (> 0) of points, got {xs.size} and {ys.size}")
    grid = np.linspace(xs.min(), xs.max(), 200)
    pred = predict_fn(grid.reshape(-1, 1).astype(np.float32))
    pred = np.asarray(pred._data if isinstance(pred, fg.Tensor) else pred).reshape(-1)
    fig = _figure()
    ax = fig.add_subplot()
    ax.scatter(xs, ys, s=12, color="tab:red", label="data")
    ax.plot(grid, pred, color="tab:blue", label=label)
    if true_fn is not None:
        ax.plot(grid, true_fn(grid), "--", color="gray", label="true")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    if title:
        ax.set_title(title)
    ax.legend()
    return _save(fig, path)


def _predict(model: Any, x: np.ndarray) -> np.ndarray:
    if hasattr(model, "predict"):
        return np.asarray(model.predict(x))
    with fg.no_grad():
        out = model(x)
    return np.asarray(out._data if isinstance(out, fg.Tensor) else out)


def decision_boundary(model: Any, X: Any, y: Any, path: str | None = None, resolution: int = 200) -> Any:  # noqa: N803
    """Class regions of a 2-feature classifier (a Module, a Model or a function) with the data."""
    if not (callable(model) or hasattr(model, "predict")):  # checked here, not as "'str' object is not callable" later
        raise DTypeError(f"decision_boundary: model must be a Module, a Model or a function, got {given(model)}")
    X = np.asarray(X, dtype=np.float32)  # noqa: N806
    if X.ndim != 2 or X.shape[1] != 2:
        raise fg.ShapeError(f"decision_boundary: needs two input features, got X of shape {X.shape}")
    pad = 0.1 * (X.max(0) - X.min(0) + 1e-9)
    lo, hi = X.min(0) - pad, X.max(0) + pad
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    scores = _predict(model, np.c_[gx.ravel(), gy.ravel()].astype(np.float32))
    classes = scores.argmax(1) if scores.ndim == 2 and scores.shape[1] > 1 else (scores.reshape(-1) > 0.5).astype(int)
    fig = _figure()
    ax = fig.add_subplot()
    ax.contourf(gx, gy, classes.reshape(gx.shape), alpha=0.3, cmap="viridis")
    ax.scatter(X[:, 0], X[:, 1], c=np.asarray(y).reshape(-1), s=14, cmap="viridis", edgecolors="k", linewidths=0.3)
    ax.set_title("Decision boundary")
    return _save(fig, path)


def confusion_matrix(
    y_true: Any, y_pred: Any = None, path: str | None = None, labels: list | None = None, title: str | None = None
) -> Any:
    """A confusion matrix (given, or computed from labels and predictions) with counts in the
    cells, its colour bar as tall as the matrix."""
    if y_pred is None:
        cm = np.asarray(y_true)
    else:
        from .train.metrics import confusion_matrix as compute

        cm = compute(y_true, y_pred)
    n = cm.shape[0]
    fig = _figure((1.2 + 0.5 * n, 1.0 + 0.5 * n) if n > 8 else (5.5, 4.8))
    ax = fig.add_subplot()
    im = ax.imshow(cm, cmap="Blues")
    from mpl_toolkits.axes_grid1 import make_axes_locatable

    bar = make_axes_locatable(ax).append_axes("right", size="5%", pad=0.1)  # exactly the matrix's height
    fig.colorbar(im, cax=bar)
    ticks = list(range(n))
    ax.set_xticks(ticks, labels or ticks)
    ax.set_yticks(ticks, labels or ticks)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    top = cm.max() if cm.size else 0
    for i in range(n):
        for j in range(n):
            ax.text(
                j,
                i,
                str(int(cm[i, j])),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if cm[i, j] > top / 2 else "black",
            )
    ax.set_title(title or "Confusion matrix")
    return _save(fig, path)


def weights_histogram(model: Any, path: str | None = None, bins: int = 40) -> Any:
    """One histogram of values per parameter of a module (or of ``Model.network``)."""
    network = getattr(model, "network", model)
    if not callable(getattr(network, "named_parameters", None)):  # otherwise an AttributeError
        raise DTypeError(f"weights_histogram: model must be a Module or a Model, got {given(model)}")
    bins = check_int(bins, "weights_histogram", "bins", minimum=1)
    params = [(name, p.numpy().reshape(-1)) for name, p in network.named_parameters()]
    if not params:
        raise ArgumentError(f"weights_histogram: the model ({type(network).__name__}) has no parameters")
    cols = min(3, len(params))
    rows = -(-len(params) // cols)
    fig = _figure((4 * cols, 3 * rows))
    for k, (name, values) in enumerate(params):
        ax = fig.add_subplot(rows, cols, k + 1)
        ax.hist(values, bins=bins, color="tab:blue", alpha=0.8)
        ax.set_title(f"{name} {tuple(dict(network.named_parameters())[name].shape)}", fontsize=9)
    return _save(fig, path)
