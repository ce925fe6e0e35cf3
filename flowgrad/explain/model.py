"""What the explain page shows, independent of where the graph came from (flow or eager).

``Explained`` holds the nodes (operation, name, kind, shape, value, gradient, source line, inputs),
the forward order and the backward steps: for each node the engine visited, the contribution
it sent to each of its inputs. ``to_json_dict`` adds the layout and the texts the page prints.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from flowgrad.errors import DTypeError, given
from flowgrad.viz import numbers

# Arrays up to this many elements travel to the page as numbers (the page adds a fan-out's
# contributions itself); larger ones only as text.
MAX_NUMBERS = 64


@dataclasses.dataclass
class ExplainedNode:
    id: str
    op: str
    name: str
    kind: str  # "leaf", "constant" or "op"
    value: np.ndarray | None
    grad: np.ndarray | None
    inputs: list[str]
    source: dict[str, Any] | None = None


@dataclasses.dataclass
class Contribution:
    edge: str  # the edge input -> node along which the gradient flows back
    upstream: np.ndarray  # d cost / d node
    contribution: np.ndarray  # d cost / d input through this edge (already summed to the input's shape)


@dataclasses.dataclass
class BackwardStep:
    node: str
    contributions: list[Contribution]


@dataclasses.dataclass
class Explained:
    """A graph ready for the explain page (see ``flowgrad.explain``)."""

    nodes: list[ExplainedNode]
    forward: list[str]
    backward: list[BackwardStep]
    output: str
    title: str = "flowgrad: one training step, explained"

    def edges(self) -> list[tuple[str, str, str]]:
        """(edge id, input id, consumer id) for every input of every node, in input order."""
        return [(f"{n.id}:{i}", src, n.id) for n in self.nodes for i, src in enumerate(n.inputs)]

    def to_json_dict(self) -> dict[str, Any]:
        from .layout import layered

        texts = {n.id: _node_texts(n) for n in self.nodes}
        sizes = {n.id: (max(len(t) for t in texts[n.id]["lines"]) * 7.4 + 20, 70.0) for n in self.nodes}
        edges = self.edges()
        boxes, routes, width, height = layered([n.id for n in self.nodes], [(s, d) for _, s, d in edges], sizes)
        nodes_json = []
        for n in self.nodes:
            x, y, w, h = boxes[n.id]
            item: dict[str, Any] = {"id": n.id, "op": n.op, "name": n.name, "kind": n.kind, "inputs": n.inputs}
            item["source"] = n.source
            item.update({"x": x, "y": y, "w": w, "h": h})
            item.update({k: v for k, v in texts[n.id].items() if k != "lines"})
            nodes_json.append(item)
        edges_json = [{"id": eid, "src": s, "dst": d, "points": routes[(s, d)]} for eid, s, d in edges]
        backward_json = [
            {"node": step.node, "edges": [_contribution_json(c) for c in step.contributions]} for step in self.backward
        ]
        return {
            "nodes": nodes_json,
            "edges": edges_json,
            "forward": self.forward,
            "backward": backward_json,
            "output": self.output,
            "width": width,
            "height": height,
        }


def _flat_numbers(a: np.ndarray | None) -> list[float] | None:
    if a is None or a.size > MAX_NUMBERS or a.dtype.kind not in "biuf":
        return None
    flat = np.asarray(a, dtype=np.float64).ravel()
    if not np.all(np.isfinite(flat)):
        return None  # JSON has no NaN or infinity: such a value travels as text only
    return [float(v) for v in flat]


def _node_texts(n: ExplainedNode) -> dict[str, Any]:
    value = n.value
    shape_text = "scalar" if value is None or value.ndim == 0 else "x".join(str(d) for d in value.shape)
    value_short = "-" if value is None else numbers(value)
    value_text = "-" if value is None else np.array2string(np.asarray(value), threshold=200, precision=6)
    head = f"{n.name}: {n.op}" if n.name else n.op
    return {
        "lines": [head, shape_text, f"value {_box_text(value)}", f"grad {_box_text(n.grad)}"],
        "valueBox": _box_text(value),
        "gradBox": _box_text(n.grad),
        "shapeText": shape_text,
        "dtype": "" if value is None else str(value.dtype),
        "valueShort": value_short,
        "valueText": value_text,
        "grad": None if n.grad is None else numbers(n.grad),
        "gradNumbers": _flat_numbers(n.grad),
    }


def _box_text(a: np.ndarray | None) -> str:
    """A number short enough for a node's box: small arrays in full, larger ones by their norm."""
    if a is None:
        return ""
    if a.size <= 4:
        return numbers(a)
    if a.dtype.kind not in "biuf":
        return numbers(a)
    return f"norm {float(np.linalg.norm(np.asarray(a, dtype=np.float64).ravel())):.4g}"


def _contribution_json(c: Contribution) -> dict[str, Any]:
    local = None
    if c.upstream.size == 1 and c.contribution.size == 1 and float(c.upstream.ravel()[0]) != 0.0:
        local = numbers(float(c.contribution.ravel()[0]) / float(c.upstream.ravel()[0]))
    return {
        "edge": c.edge,
        "upstream": numbers(c.upstream),
        "local": local,
        "contribution": numbers(c.contribution),
        "contributionBox": _box_text(c.contribution),
        "contributionNumbers": _flat_numbers(c.contribution),
    }


# ----- flow graphs ------------------------------------------------------------------------------------
def from_flow(graph_or_output: Any, title: str | None = None) -> Explained:
    """An ``Explained`` of a flow graph after ``forward_and_backward`` (its output node or its sorted nodes)."""
    from flowgrad.flow import Input, Node
    from flowgrad.flow.dot import _collect as collect_nodes
    from flowgrad.flow.dot import _gradient as node_gradient

    nodes: Sequence[Node] = collect_nodes(graph_or_output)
    if not nodes:
        raise DTypeError(f"explain: the graph has no nodes, got {given(graph_or_output)}")
    ids = {id(n): f"n{i}" for i, n in enumerate(nodes)}
    members = set(ids)
    consumers = {id(n): [c for c in n.outbound_nodes if id(c) in members] for n in nodes}
    outputs = [n for n in nodes if not consumers[id(n)]]
    output = outputs[-1]
    explained_nodes = []
    for n in nodes:
        value = None if n.value is None else np.asarray(n.value)
        grad = node_gradient(n)
        kind = "leaf" if isinstance(n, Input) else "op"
        inputs = [ids[id(m)] for m in n.inbound_nodes if id(m) in members]
        explained_nodes.append(ExplainedNode(ids[id(n)], type(n).__name__, n.name, kind, value, grad, inputs))
    backward = []
    for n in reversed(nodes):
        upstream = node_gradient(n)
        contributions = []
        sent: set[int] = set()
        for i, m in enumerate(n.inbound_nodes):
            part = n.gradients.get(m)
            if id(m) not in members or part is None or upstream is None or id(m) in sent:
                continue  # an input used twice (x * x) holds one gradient for both uses: sent once
            sent.add(id(m))
            contribution = np.asarray(part, dtype=np.float64).reshape(np.shape(m.value))
            contributions.append(Contribution(f"{ids[id(n)]}:{i}", upstream, contribution))
        backward.append(BackwardStep(ids[id(n)], contributions))
    forward = [ids[id(n)] for n in nodes if not isinstance(n, Input)]
    return Explained(
        explained_nodes, forward, backward, ids[id(output)], title or f"flowgrad: {output.name}, explained"
    )


def from_record(record: Any) -> Explained:
    """An ``Explained`` of an eager step recorded with ``fg.viz.record()``."""
    raise DTypeError(
        "explain: expected a flow graph (its output node or the sorted nodes) or a recording made with "
        f"fg.viz.record(), got {given(record)}"
    )
