"""Traces: what each node computed on the way forward and received on the way back.

This is what MiniFlow's ``DEBUG`` prints tried to show, as data: one record
per node and pass, with the value (or gradient) summarized and, when small,
in full. Recording copies what it keeps, so it never changes a result.

>>> import numpy as np
>>> from flowgrad.flow import MSE, Input, Sigmoid, forward_and_backward, topological_sort
>>> y, x = Input("y"), Input("x")
>>> cost = MSE(y, Sigmoid(x, name="s"), name="cost")
>>> t = forward_and_backward(topological_sort({y: np.array([1.0]), x: np.array([0.0])}), trace=True)
>>> [(r["phase"], r["name"]) for r in t.to_records()][:3]
[('forward', 'y'), ('forward', 'x'), ('forward', 's')]
>>> back = [r for r in t.to_records() if r["phase"] == "backward" and r["name"] == "s"][0]
>>> back["received"][0]["from"], back["value"]
('cost', [-1.0])
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from .base import Node, gradient_parts, sum_gradients

__all__ = ["Trace", "trace", "describe_array", "SMALL_ARRAY"]

# Arrays with at most this many elements are kept in full in a record.
SMALL_ARRAY = 16
_VALUE_WIDTH = 60

_local = threading.local()


def active_traces() -> list[Trace]:
    """The traces recording on this thread (innermost last)."""
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


def describe_array(value: Any) -> dict[str, Any]:
    """Plain data about a value: shape, dtype, a short summary, its norm, and the array itself when small.

    >>> describe_array(np.array([3.0, 4.0]))
    {'shape': (2,), 'dtype': 'float64', 'summary': '[3., 4.]', 'norm': 5.0, 'value': [3.0, 4.0]}
    """
    array = np.asarray(value)
    numeric = array.dtype.kind in "biufc"
    norm = float(np.linalg.norm(array.ravel())) if numeric and array.size else None
    small = array.size <= SMALL_ARRAY
    if array.ndim == 0:
        summary = str(array[()])
    elif small:
        summary = np.array2string(array, precision=5, separator=", ", max_line_width=10**9)
        summary = " ".join(summary.split())
    elif numeric:
        summary = f"mean {array.mean():.4g}, std {array.std():.4g}, min {array.min():.4g}, max {array.max():.4g}"
    else:
        summary = f"{array.size} values of dtype {array.dtype}"
    return {
        "shape": tuple(array.shape),
        "dtype": str(array.dtype),
        "summary": summary,
        "norm": norm,
        "value": array.tolist() if small else None,
    }


class Trace:
    """The records of one or more runs (``forward_and_backward(graph, trace=True)`` or ``with trace()``).

    Each record is a dict. Forward records hold ``run``, ``step``, ``phase``
    (``"forward"``), ``name``, ``kind`` (the node's class), ``inputs`` (names)
    and the value's ``shape``, ``dtype``, ``summary``, ``norm`` and ``value``
    (the full array as nested lists when it has at most ``SMALL_ARRAY``
    elements, else None). Backward records hold ``received``, one entry per
    outbound node (``from`` is its name, or None for the seed of an output),
    and the summed gradient's ``shape``, ``dtype``, ``summary``, ``norm`` and
    ``value``. ``print(trace)`` shows them as a table.
    """

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self._runs: dict[int, int] = {}  # run stamp -> run number within this trace
        self._steps: dict[int, int] = {}  # run number -> records so far

    def _run_number(self, stamp: int) -> int:
        return self._runs.setdefault(stamp, len(self._runs) + 1)

    def _start(self, node: Node, stamp: int, phase: str) -> dict[str, Any]:
        run = self._run_number(stamp)
        step = self._steps[run] = self._steps.get(run, 0) + 1
        return {"run": run, "step": step, "phase": phase, "name": node.name, "kind": type(node).__name__}

    def record_forward(self, node: Node, stamp: int) -> None:
        """Record ``node``'s value after its ``forward()``."""
        record = self._start(node, stamp, "forward")
        record["inputs"] = [n.name for n in node.inbound_nodes]
        record.update(describe_array(node.value))
        self.records.append(record)

    def record_backward(self, node: Node, stamp: int) -> None:
        """Record the gradients ``node`` receives, just before its ``backward()``."""
        record = self._start(node, stamp, "backward")
        parts = gradient_parts(node)
        received = []
        for consumer, grad in parts:
            entry = {"from": None if consumer is None else consumer.name}
            entry.update(describe_array(grad))
            received.append(entry)
        record["received"] = received
        record.update(describe_array(sum_gradients(node, parts)))
        self.records.append(record)

    @property
    def runs(self) -> int:
        """How many runs were recorded."""
        return len(self._runs)

    def to_records(self) -> list[dict[str, Any]]:
        """The records as plain data (dicts, lists, strings and numbers), copied."""
        return copy.deepcopy(self.records)

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.to_records())

    def __repr__(self) -> str:
        return f"<Trace: {len(self.records)} records from {self.runs} run(s)>"

    def __str__(self) -> str:
        if not self.records:
            return "Trace: nothing recorded"
        lines: list[str] = []
        for run in range(1, self.runs + 1):
            for phase in ("forward", "backward"):
                records = [r for r in self.records if r["run"] == run and r["phase"] == phase]
                if records:
                    lines.append(f"run {run}, {phase}")
                    lines.extend(_table(records, phase))
        return "\n".join(lines)


def _short(text: str) -> str:
    return text if len(text) <= _VALUE_WIDTH else text[: _VALUE_WIDTH - 3] + "..."


def _norm(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


def _table(records: list[dict[str, Any]], phase: str) -> list[str]:
    if phase == "forward":
        header = ["step", "node", "kind", "inputs", "shape", "dtype", "value"]
        rows = [
            [
                str(r["step"]),
                r["name"],
                r["kind"],
                ", ".join(r["inputs"]) or "-",
                str(r["shape"]),
                r["dtype"],
                _short(r["summary"]),
            ]
            for r in records
        ]
    else:
        header = ["step", "node", "kind", "gradient from", "shape", "norm", "gradient"]
        rows = []
        for r in records:
            for i, part in enumerate(r["received"]):
                source = "(output seed)" if part["from"] is None else part["from"]
                lead = [str(r["step"]), r["name"], r["kind"]] if i == 0 else ["", "", ""]
                rows.append(lead + [source, str(part["shape"]), _norm(part["norm"]), _short(part["summary"])])
            if len(r["received"]) > 1:
                rows.append(["", "", "", "= sum", str(r["shape"]), _norm(r["norm"]), _short(r["summary"])])
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [header, *rows]]


@contextlib.contextmanager
def trace() -> Iterator[Trace]:
    """Record every ``forward_pass`` and ``forward_and_backward`` run inside the block.

    >>> import flowgrad as fg
    >>> from flowgrad.flow import Input, Sigmoid, forward_pass, topological_sort
    >>> x = Input("x"); s = Sigmoid(x, name="s")
    >>> with fg.flow.trace() as t:
    ...     _ = forward_pass(s, topological_sort({x: 0.0}))
    >>> print(t)
    run 1, forward
      step  node  kind     inputs  shape  dtype    value
      1     x     Input    -       ()     float64  0.0
      2     s     Sigmoid  x       ()     float64  0.5
    """
    recorder = Trace()
    with _pushed(recorder):
        yield recorder


@contextlib.contextmanager
def _pushed(recorder: Trace) -> Iterator[None]:
    stack = active_traces()
    stack.append(recorder)
    try:
        yield
    finally:
        stack.remove(recorder)


@contextlib.contextmanager
def recording(enabled: bool) -> Iterator[Trace | None]:
    """A fresh trace recording inside the block when ``enabled``, else nothing."""
    if not enabled:
        yield None
        return
    recorder = Trace()
    with _pushed(recorder):
        yield recorder
