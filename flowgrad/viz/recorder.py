"""``fg.viz.record()``: record an eager step as it runs, for pictures of the finished step.

Inside the context every op adds a node (a copy of its value, the line of user code that made it,
its inputs with numbers written in the code as constant nodes) and every backward pass adds its
walk: each tensor's gradient as the engine had it, and what went along each edge. The record
keeps copies and weak references only: the graph is freed by ``backward()`` as always.

It is an observer of ``fg.autograd.graph.observe``: outside the context nothing is recorded,
and ops and the engine check one counter and go on.
"""

from __future__ import annotations

import inspect
import linecache
import os
import sys
import types
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import numpy as np

import flowgrad as fg

from .record import BackwardStep, Contribution, GraphRecord, RecordNode, SourceLine
from .sources import Builder, copy_array, shown_params

__all__ = ["record", "Recorder"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(fg.__file__)) + os.sep


def user_source() -> SourceLine | None:
    """The innermost frame outside flowgrad: file, line number and the code on that line."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not os.path.abspath(filename).startswith(_PACKAGE_DIR):
            code = linecache.getline(filename, frame.f_lineno, frame.f_globals).strip()
            return SourceLine(filename, frame.f_lineno, code)
        frame = frame.f_back  # type: ignore[assignment]
    return None


def _raw(g: Any) -> np.ndarray:
    return copy_array(g)


class Recorder(fg.autograd.graph.Observer):
    """The context manager :func:`record` returns; ``rec.record`` (also what ``with ... as rec``
    gives) is the :class:`~flowgrad.viz.record.GraphRecord` filled in.

    >>> import flowgrad as fg
    >>> recorder = fg.viz.record(local_names=False)
    >>> with recorder as rec:
    ...     y = fg.tensor(2.0, requires_grad=True) * 3.0
    >>> rec is recorder.record, [n.op for n in rec.nodes.values()]
    (True, ['leaf', 'constant', 'mul'])
    """

    def __init__(self, names: Mapping[str, Any] | None = None, local_names: bool = True, prune: bool = True) -> None:
        self.record = GraphRecord(origin="eager")
        self._prune = prune
        self._build = Builder(self.record)
        self._names = dict(names or {})
        self._local_names = local_names
        self._positions: dict[str, dict[int, int]] = {}
        self._passes = 0
        self._observing: Any = None
        self._active = False

    # -- the context ---------------------------------------------------------------------------
    def __enter__(self) -> GraphRecord:
        if self._active:
            raise fg.FlowgradError("fg.viz.record: this recorder is already recording; make a new one")
        self._active = True
        self._observing = fg.autograd.graph.observe(self)
        self._observing.__enter__()
        return self.record

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._observing.__exit__(exc_type, exc, tb)
        self._active = False
        self._build.name_tensors(self._names)
        if self._local_names:
            self._name_from_locals(sys._getframe(1))
        if self._prune and self.record.outputs:
            self._keep_what_outputs_need()

    def _keep_what_outputs_need(self) -> None:
        """Drop what no backward root depends on (an accuracy, an optimizer's update): the picture
        is of the step's graph."""
        nodes = self.record.nodes
        needed: set[str] = set()
        stack = list(self.record.outputs)
        while stack:
            nid = stack.pop()
            if nid not in needed:
                needed.add(nid)
                stack.extend(nodes[nid].inputs)
        self.record.nodes = {k: v for k, v in nodes.items() if k in needed}
        self.record._tensor_ids = {k: v for k, v in self.record._tensor_ids.items() if v[1] in needed}

    def _name_from_locals(self, frame: types.FrameType) -> None:
        """Names the learner gave: the variables of the code around the with block."""
        local_vars = frame.f_locals
        try:
            self._build.name_tensors(dict(local_vars), overwrite=False)
        finally:
            # Before Python 3.13 a function's frame keeps that snapshot of its variables, which
            # would keep tensors the code deletes alive. Emptied, it keeps none; whatever reads it
            # later (locals(), a debugger) fills it again first. Only that snapshot is emptied:
            # at module level f_locals is the module's namespace itself.
            if type(local_vars) is dict and frame.f_code.co_flags & inspect.CO_OPTIMIZED:
                local_vars.clear()

    # -- hooks called by flowgrad.core (ops.apply and the engine's walk) ------------------------
    def on_op(self, name: str, args: tuple, params: dict, out: fg.Tensor) -> None:
        build = self._build
        inputs, positions = build.input_nodes(args)
        data = out._data
        node = RecordNode(
            build.new_id(), name, "op", None, tuple(data.shape), str(data.dtype), copy_array(data),
            source=user_source(), inputs=inputs, params=shown_params(params), requires_grad=bool(out.requires_grad),
        )  # fmt: skip
        self._positions[node.id] = positions
        build.remember(out, node.id)
        build.add(node)

    def on_backward_start(self, roots: list, seeds: list) -> None:
        if self.record.backward_order:
            self._passes += 1
        for r in roots:
            nid = self._build.tensor_node(r)
            if nid not in self.record.outputs:
                self.record.outputs.append(nid)

    def on_visit(self, t: fg.Tensor, g: Any) -> None:
        nid = self._build.tensor_node(t)
        grad = _raw(g)
        node = self.record.nodes[nid]
        node.grad = grad.copy() if node.grad is None else node.grad + grad
        self.record.backward_order.append(BackwardStep(nid, grad, backward_pass=self._passes))

    def on_contribution(self, t: fg.Tensor, node: Any, i: int, g: Any, gi: Any) -> None:
        step = self.record.backward_order[-1]
        inp = node.inputs[i]
        src = self._build.tensor_node(inp)
        position = self._positions.get(step.node, {}).get(i, i)
        local = fg.autograd.graph.local_derivative(t, node, i) if t._data.size == 1 else None
        step.contributions.append(Contribution(src, step.node, position, step.grad, local, _raw(gi)))


def record(names: Mapping[str, Any] | None = None, local_names: bool = True, prune: bool = True) -> Recorder:
    """Record the ops and backward passes run inside ``with fg.viz.record() as rec:``.

    ``rec`` is a :class:`~flowgrad.viz.record.GraphRecord`: draw it after the step with
    ``rec.render("step.svg")``. Nodes are named after ``names`` (``dict(model.named_parameters())``
    works) and, with ``local_names``, after the variables of the code around the ``with`` block.
    With ``prune``, once a backward pass has run, only what its roots depend on is kept (not an
    accuracy computed beside the loss, nor an optimizer's update); ``prune=False`` keeps every op.

    >>> import flowgrad as fg
    >>> x = fg.tensor(4.0, requires_grad=True)
    >>> y, z = fg.tensor(5.0, requires_grad=True), fg.tensor(10.0, requires_grad=True)
    >>> with fg.viz.record() as rec:
    ...     f = x + y
    ...     g = f * z
    ...     g.backward()
    >>> node = rec.node("x")
    >>> float(node.value), float(node.grad), float(x.grad), node.kind
    (4.0, 10.0, 10.0, 'leaf')
    >>> [rec.nodes[s.node].name for s in rec.backward_order]
    ['g', 'z', 'f', 'y', 'x']
    >>> rec.node("f").source.code
    'f = x + y'
    """
    return Recorder(names, local_names, prune)


def record_backward(output: fg.Tensor, names: Mapping[str, Any] | None = None) -> GraphRecord:
    """The graph behind ``output`` and one backward pass through it, recorded after the fact.

    For a step that ran outside :func:`record`: the graph must still be alive (before
    ``backward()``, or after one with ``retain_graph=True``). The pass runs through
    ``fg.autograd.grad`` with ``retain_graph=True``, so no ``.grad`` changes. Nodes carry values,
    gradients and the engine's order, but no source lines (the forward pass ran unobserved).

    >>> import flowgrad as fg
    >>> x = fg.tensor(3.0, requires_grad=True)
    >>> rec = record_backward(x * x + x, names={"x": x})
    >>> float(rec.node("x").grad), x.grad is None
    (7.0, True)
    """
    from .sources import record_tensor

    if not isinstance(output, fg.Tensor) or not output.requires_grad:
        raise fg.DTypeError(
            f"record_backward: expected a tensor with a graph behind it (requires_grad=True), got {type(output).__name__}"
        )
    rec = record_tensor(output, dict(names or {}))
    for node in rec.nodes.values():
        node.grad = None  # from_tensor shows leaves' .grad; here the gradients come from this pass
    leaves = []
    for ref, node_id in rec._tensor_ids.values():
        t = ref()
        if t is not None and rec.nodes[node_id].kind == "leaf":
            leaves.append(t)
    recorder = Recorder(names, local_names=False)
    recorder.record = rec
    recorder._build = Builder(rec)
    with recorder:
        fg.autograd.grad(output, leaves, retain_graph=True, allow_unused=True)
    return rec
