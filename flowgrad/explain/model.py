"""The explain page's data: a ``fg.viz.GraphRecord`` turned into what the page draws and steps through.

``page_data(record)`` lays the graph out with ``fg.viz.layout_graph`` and writes, for every node,
its operation, name, kind, shape, value, gradient and source line; the forward order; and, for
every backward step, the contribution sent along each edge (upstream gradient, local derivative
when the output is a single number, contribution), with numbers small arrays carry in full so
the page can add up a fan-out itself.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

import flowgrad as fg

# Arrays up to this many elements travel to the page as numbers (the page adds a fan-out's
# contributions itself); larger ones only as text.
MAX_NUMBERS = 64
# The operator a learner typed, shown beside the op's name.
SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "matmul": "@", "pow": "**", "neg": "-x"}


def _flat_numbers(a: np.ndarray | None) -> list[float] | None:
    if a is None or a.size > MAX_NUMBERS or a.dtype.kind not in "biuf":
        return None
    flat = np.asarray(a, dtype=np.float64).ravel()
    if not np.all(np.isfinite(flat)):
        return None  # JSON has no NaN or infinity: such a value travels as text only
    return [float(v) for v in flat]


def _box_text(a: np.ndarray | None) -> str:
    """A number short enough for a node's box: small arrays in full, larger ones by their norm."""
    if a is None:
        return ""
    if a.size <= 4 or a.dtype.kind not in "biuf":
        return fg.viz.numbers(a)
    return f"norm {float(np.linalg.norm(np.asarray(a, dtype=np.float64).ravel())):.4g}"


def _op_text(node: Any) -> str:
    if node.kind != "op":
        return node.kind if node.kind == "constant" or node.op == "leaf" else node.op
    return f"{node.op} ({SYMBOLS[node.op]})" if node.op in SYMBOLS else node.op


def _node_json(node: Any) -> dict[str, Any]:
    value = node.value
    shape_text = "scalar" if not node.shape else "x".join(str(d) for d in node.shape)
    source = None
    if node.source is not None:
        source = {"file": os.path.basename(node.source.file), "path": node.source.file}
        source.update({"line": node.source.line, "code": node.source.code})
    return {
        "id": node.id,
        "op": _op_text(node),
        "name": node.name or "",
        "kind": node.kind,
        "inputs": list(node.inputs),
        "source": source,
        "shapeText": shape_text,
        "dtype": node.dtype,
        "valueShort": "-" if value is None else fg.viz.numbers(value),
        "valueBox": _box_text(value),
        "valueText": "-" if value is None else np.array2string(np.asarray(value), threshold=200, precision=6),
        "grad": None if node.grad is None else fg.viz.numbers(node.grad),
        "gradBox": _box_text(node.grad),
        "gradNumbers": _flat_numbers(node.grad),
    }


def _local_text(c: Any) -> str | None:
    """The local derivative as text: the record's exact one, or (flow graphs, single numbers) the ratio."""
    if c.local is not None:
        return fg.viz.numbers(c.local)
    up, value = np.asarray(c.upstream), np.asarray(c.value)
    if up.size == 1 and value.size == 1 and float(up.ravel()[0]) != 0.0:
        return fg.viz.numbers(float(value.ravel()[0]) / float(up.ravel()[0]))
    return None


def _contribution_json(c: Any) -> dict[str, Any]:
    return {
        "edge": f"{c.output}:{c.position}",
        "upstream": fg.viz.numbers(c.upstream),
        "local": _local_text(c),
        "contribution": fg.viz.numbers(c.value),
        "contributionBox": _box_text(np.asarray(c.value)),
        "contributionNumbers": _flat_numbers(np.asarray(c.value)),
    }


def _box_lines(data: dict[str, Any]) -> list[str]:
    """The longest text each line of a node's box will hold (the page fills them in as it steps)."""
    head = f"{data['name']}: {data['op']}" if data["name"] else data["op"]
    return [head, data["shapeText"], f"value {data['valueBox']}", f"grad {data['gradBox'] or '(partial)'}"]


def page_data(record: Any) -> dict[str, Any]:
    """The JSON-ready data of the explain page of ``record`` (a ``fg.viz.GraphRecord``).

    >>> import flowgrad as fg
    >>> x = fg.tensor(3.0, requires_grad=True)
    >>> with fg.viz.record() as rec:
    ...     y = x * x
    ...     y.backward()
    >>> data = page_data(rec)
    >>> [n["op"] for n in data["nodes"]], data["backward"][0]["edges"][0]["contribution"]
    (['leaf', 'mul (*)'], '3')
    """
    if not record.nodes:
        raise fg.ArgumentError("explain: the graph has no nodes (was anything computed inside fg.viz.record()?)")
    nodes = [_node_json(n) for n in record.nodes.values()]
    sizes = {n["id"]: fg.viz.text_size(_box_lines(n)) for n in nodes}
    edges = record.edges()
    layout = fg.viz.layout_graph([n["id"] for n in nodes], [(s, d) for s, d, _ in edges], sizes)
    for n in nodes:
        box = layout.boxes[n["id"]]
        n.update({"x": box.cx, "y": box.cy, "w": box.w, "h": box.h})
    edges_json = []
    for (src, dst, position), path in zip(edges, layout.edges):
        points = [list(p) for p in path.points]
        if len(points) == 2:  # a cubic curve with horizontal tangents, as the built-in pictures draw it
            (x0, y0), (x1, y1) = points
            points = [[x0, y0], [(x0 + x1) / 2, y0], [(x0 + x1) / 2, y1], [x1, y1]]
        edges_json.append({"id": f"{dst}:{position}", "src": src, "dst": dst, "points": points})
    forward = [n["id"] for n in nodes if n["kind"] == "op"]
    backward = [
        {"node": step.node, "edges": [_contribution_json(c) for c in step.contributions]}
        for step in record.backward_order
    ]
    output = record.outputs[-1] if record.outputs else nodes[-1]["id"]
    return {
        "nodes": nodes,
        "edges": edges_json,
        "forward": forward,
        "backward": backward,
        "output": output,
        "width": layout.width,
        "height": layout.height,
    }
