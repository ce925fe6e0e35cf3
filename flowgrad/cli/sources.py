"""Data for ``flowgrad train``: built-in sets by name, or a CSV file with label columns."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import flowgrad as fg

BUILTIN = ("digits", "iris", "diabetes", "housing", "linear", "gender", "and", "moons", "blobs")


@dataclass
class Source:
    X: np.ndarray
    y: np.ndarray
    task: str  # "classification" or "regression"
    n_classes: int = 0
    feature_names: list = field(default_factory=list)
    label_names: list = field(default_factory=list)


def _builtin(name: str, seed: int) -> tuple[np.ndarray, np.ndarray, str, list]:
    ds = fg.datasets
    if name in ("digits", "iris", "diabetes", "housing"):
        bunch = getattr(ds, f"load_{name}")()
        task = "regression" if name in ("diabetes", "housing") else "classification"
        return bunch.data, bunch.target, task, list(getattr(bunch, "feature_names", []))
    if name == "linear":
        x, y = ds.make_linear(100, seed=seed)
        return x, y, "regression", ["x"]
    if name == "gender":
        X, y = ds.gender()  # noqa: N806
        return X, y, "classification", ["weight - 135", "height - 66"]
    if name == "and":
        X, y = ds.and_gate()  # noqa: N806
        return X, y, "regression", ["x1", "x2"]
    if name == "moons":
        X, y = ds.make_moons(400, noise=0.15, seed=seed)  # noqa: N806
        return X, y, "classification", ["x1", "x2"]
    X, y = ds.make_blobs(600, centers=4, seed=seed)  # noqa: N806
    return X, y, "classification", ["x1", "x2"]


def read_csv(
    path: str, label_columns: list[str] | None, header: bool = True
) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """All rows of a numeric CSV file (errors name the file, line and column)."""
    ds = fg.data.CSVDataset(path, label_columns=label_columns or None, dtype=np.float64, header=header)
    if header and _all_numbers(ds.columns):
        print(
            f"flowgrad: warning: {path}: the first line ({', '.join(map(str, ds.columns[:4]))}"
            f"{', ...' if len(ds.columns) > 4 else ''}) is all numbers but was read as the header, not as "
            "data; give --no-header if the file has no header",
            file=sys.stderr,
        )
    xs, ys = [], []
    for batch in ds.batch(4096):
        xs.append(batch[0].numpy())
        if len(batch) > 1:
            ys.append(batch[1].numpy())
    names = [str(ds.columns[k]) for k in ds.feature_idx]
    X = np.concatenate(xs)  # noqa: N806
    y = np.concatenate(ys) if ys else None
    return X, y, names


def _all_numbers(names: Any) -> bool:
    try:
        [float(str(n)) for n in names]
    except ValueError:
        return False
    return True


def load(data_cfg: dict, seed: int) -> Source:
    """The data set a config names, with its task decided."""
    source = data_cfg["source"]
    if source in BUILTIN:
        X, y, task, names = _builtin(source, seed)  # noqa: N806
    else:
        if not Path(source).exists():
            raise fg.DataError(
                f"data.source: {source!r} is neither a built-in data set ({', '.join(BUILTIN)}) nor an existing CSV file"
            )
        if not data_cfg["label_columns"]:
            raise fg.DataError(f"{source}: data.label_columns must name the target column(s) of the CSV file")
        X, labels, names = read_csv(source, data_cfg["label_columns"])  # noqa: N806
        assert labels is not None  # label_columns is not empty (checked above)
        y, task = labels, "auto"
        if y is not None and y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
    if data_cfg["task"] != "auto":
        task = data_cfg["task"]
    elif task == "auto":
        integral = np.all(np.equal(np.mod(y, 1), 0))
        task = "classification" if y.ndim == 1 and integral and len(np.unique(y)) <= 50 else "regression"
    X = np.asarray(X, dtype=np.float32)  # noqa: N806
    if task == "classification":
        labels, y = np.unique(np.asarray(y).reshape(-1), return_inverse=True)
        return Source(X, y.astype(np.int64), task, len(labels), names, labels.tolist())
    y = np.asarray(y, dtype=np.float32)
    return Source(X, y.reshape(len(y), -1), task, 0, names, [])


def split(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices: a seeded permutation, independent of flowgrad's generator."""
    order = np.random.default_rng(seed).permutation(n)
    n_test = int(round(n * test_fraction))
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def line_of(path: str, label_columns: list[str] | None, row: int) -> int | str:
    """The line of ``path`` that holds data row ``row`` (from 0), for messages."""
    ds = fg.data.CSVDataset(path, label_columns=label_columns or None, dtype=np.float64)
    return ds._line_of(row)  # the dataset's own row-to-line map (quoted fields may span lines)
