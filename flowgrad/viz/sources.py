"""Building a :class:`~flowgrad.viz.record.GraphRecord`: shared node making, an eager graph as it
stands, and a flow graph after its passes. (Recording a step as it runs is ``recorder.py``.)"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

import flowgrad as fg

from .record import BackwardStep, Contribution, GraphRecord, RecordNode

__all__ = ["record_tensor", "record_flow", "Builder"]

_NUMERIC = "biufc"


def copy_array(value: Any) -> np.ndarray:
    """An ndarray copy of a tensor, array or number (a picture must not share the engine's buffers)."""
    if isinstance(value, fg.Tensor):
        value = value._data
    return np.array(value, copy=True)


def shown_params(params: dict | None) -> dict[str, str]:
    """Settings that change what the op does (axis=1, keepdims=True), short enough for a label."""
    shown = {}
    for k, v in (params or {}).items():
        if isinstance(v, (int, float, str, tuple)) and v is not False and v is not None and len(repr(v)) <= 20:
            shown[k] = repr(v)
    return shown


class Builder:
    """Adds nodes to a record, one per tensor (looked up by identity while it lives) and one per
    number written in the code. Keeps weak references only."""

    def __init__(self, record: GraphRecord) -> None:
        self.record = record
        self._next = len(record.nodes)

    def new_id(self) -> str:
        self._next += 1  # never reused, even after pruning
        return f"n{self._next - 1}"

    def add(self, node: RecordNode) -> str:
        self.record.nodes[node.id] = node
        return node.id

    def known(self, t: fg.Tensor) -> str | None:
        entry = self.record._tensor_ids.get(id(t))
        if entry is not None and entry[0]() is t:
            return entry[1]
        return None

    def remember(self, t: fg.Tensor, node_id: str) -> None:
        self.record._tensor_ids[id(t)] = (weakref.ref(t), node_id)

    def tensor_node(self, t: fg.Tensor) -> str:
        """The id of ``t``'s node, made as a leaf or constant when ``t`` is new here."""
        found = self.known(t)
        if found is not None:
            return found
        kind = "leaf" if t.requires_grad else "constant"
        data = t._data
        node = RecordNode(
            self.new_id(), kind, kind, None, tuple(data.shape), str(data.dtype), copy_array(data),
            requires_grad=bool(t.requires_grad),
        )  # fmt: skip
        self.remember(t, node.id)
        return self.add(node)

    def constant_node(self, value: Any) -> str | None:
        """A node for a number or array written in the code (None for what is no number: an index)."""
        try:
            arr = np.array(value, copy=True)
        except (TypeError, ValueError):
            return None
        if arr.dtype.kind not in _NUMERIC:
            return None
        node = RecordNode(self.new_id(), "constant", "constant", None, tuple(arr.shape), str(arr.dtype), arr)
        return self.add(node)

    def input_nodes(self, args: Sequence[Any]) -> tuple[list[str], dict[int, int]]:
        """Node ids of an op's arguments, and each argument's position among them."""
        inputs: list[str] = []
        positions: dict[int, int] = {}
        for i, a in enumerate(args):
            nid = self.tensor_node(a) if isinstance(a, fg.Tensor) else self.constant_node(a)
            if nid is not None:
                positions[i] = len(inputs)
                inputs.append(nid)
        return inputs, positions

    def name_tensors(self, names: dict[str, Any], overwrite: bool = True) -> None:
        for name, t in names.items():
            if isinstance(t, fg.Tensor):
                nid = self.known(t)
                if nid is not None and (overwrite or self.record.nodes[nid].name is None):
                    self.record.nodes[nid].name = name


def record_tensor(output: fg.Tensor | Sequence[fg.Tensor], names: dict[str, Any] | None = None) -> GraphRecord:
    """The graph behind ``output`` now (see :meth:`GraphRecord.from_tensor`)."""
    outputs = [output] if isinstance(output, fg.Tensor) else list(output)
    for i, t in enumerate(outputs):
        if not isinstance(t, fg.Tensor):
            raise fg.DTypeError(f"GraphRecord.from_tensor: output {i} is a {type(t).__name__}, not a flowgrad Tensor")
    record = GraphRecord(origin="eager")
    build = Builder(record)
    # Post-order without recursion, so that each node comes after its inputs.
    stack: list[tuple[fg.Tensor, bool]] = [(t, False) for t in reversed(outputs)]
    while stack:
        t, expanded = stack.pop()
        if build.known(t) is not None:
            continue
        node = t._node
        args = () if node is None or node.inputs is None else node.inputs
        if node is None:
            build.tensor_node(t)
            continue
        if not expanded:
            stack.append((t, True))
            stack.extend((a, False) for a in reversed(args) if isinstance(a, fg.Tensor) and build.known(a) is None)
            continue
        inputs, _ = build.input_nodes(args)
        params = shown_params(node.params)
        if node.inputs is None:
            params["inputs"] = "'freed by backward'"
        data = t._data
        op_node = RecordNode(
            build.new_id(), node.op.name, "op", None, tuple(data.shape), str(data.dtype), copy_array(data),
            inputs=inputs, params=params, requires_grad=True,
        )  # fmt: skip
        build.remember(t, op_node.id)
        build.add(op_node)
    for t in outputs:
        record.outputs.append(build.tensor_node(t))
    _leaf_grads(build, outputs)
    build.name_tensors(names or {})
    return record


def _leaf_grads(build: Builder, outputs: list[fg.Tensor]) -> None:
    """Leaves' ``.grad`` as their gradients (what a backward pass left there)."""
    seen: set[int] = set()
    stack = list(outputs)
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        if t._node is None:
            if t.grad is not None:
                build.record.nodes[build.tensor_node(t)].grad = copy_array(t.grad)
        elif t._node.inputs is not None:
            stack.extend(a for a in t._node.inputs if isinstance(a, fg.Tensor))


def record_flow(graph_or_output: Any) -> GraphRecord:
    """The record of a flow graph after its passes (see :meth:`GraphRecord.from_flow`)."""
    from ..flow.base import Input
    from ..flow.dot import _collect, _gradient

    nodes = _collect(graph_or_output)
    record = GraphRecord(origin="flow")
    ids = {id(n): f"n{i}" for i, n in enumerate(nodes)}
    for n in nodes:
        value = None if n.value is None else copy_array(n.value)
        grad = _gradient(n)
        shape = () if value is None else tuple(value.shape)
        dtype = "" if value is None else str(value.dtype)
        kind = "leaf" if isinstance(n, Input) else "op"
        inputs = [ids[id(m)] for m in n.inbound_nodes if id(m) in ids]
        record.nodes[ids[id(n)]] = RecordNode(
            ids[id(n)], "leaf" if kind == "leaf" else type(n).__name__, kind, n.name, shape, dtype, value,
            None if grad is None else copy_array(grad), inputs=inputs, requires_grad=kind == "op" or grad is not None,
        )  # fmt: skip
    record.outputs = [ids[id(n)] for n in nodes if not any(id(m) in ids for m in n.outbound_nodes)]
    if any(record.nodes[i].grad is not None for i in ids.values()):
        for n in reversed(nodes):
            nid = ids[id(n)]
            mine = record.nodes[nid]
            step = BackwardStep(nid, mine.grad if mine.grad is not None else np.zeros(mine.shape))
            for position, m in enumerate(n.inbound_nodes):
                sent = n.gradients.get(m) if id(m) in ids and m is not n else None
                if sent is None or any(m is p for p in n.inbound_nodes[:position]):
                    continue  # the consumer's gradient for a repeated input already sums its uses
                value = copy_array(sent).reshape(np.shape(m.value))
                step.contributions.append(Contribution(ids[id(m)], nid, position, step.grad, None, value))
            record.backward_order.append(step)
    return record
