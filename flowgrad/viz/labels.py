"""What each node of a record says in a picture, and the record as Graphviz DOT text.

>>> import flowgrad as fg
>>> from flowgrad.viz.record import GraphRecord
>>> x = fg.tensor(4.0, requires_grad=True)
>>> rec = GraphRecord.from_tensor(x - 1.0, names={"x": x})
>>> [label_lines(n, True, True, rec) for n in rec.nodes.values()]
[['x', 'scalar', 'value 4'], ['constant 1'], ['sub (-)', 'scalar', 'value 3']]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .eager import numbers, quote

if TYPE_CHECKING:
    from .record import GraphRecord, RecordNode

__all__ = ["label_lines", "record_dot", "node_colors", "SYMBOLS"]

# The operator a learner typed, beside the op's name.
SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "matmul": "@", "pow": "**", "neg": "-x"}

LEAF_COLOR = "#c9e7c1"
CONSTANT_COLOR = "#e8e8e8"
OP_COLOR = "#ffffff"
OUTPUT_COLOR = "#f6d8a8"
EDGE_COLOR = "#555555"


def _shape(shape: tuple[int, ...]) -> str:
    return "scalar" if shape == () else f"shape {shape}"


def label_lines(node: RecordNode, values: bool, grads: bool, record: GraphRecord | None = None) -> list[str]:
    """The lines of ``node``'s label: its name and op, shape, settings, value and gradient.

    A constant shows its value in its title: the number is what it is."""
    if node.kind == "constant":
        if node.value is not None and node.value.ndim == 0:  # a number: what it is says it all
            return [f"{node.name} = {numbers(node.value)}" if node.name else f"constant {numbers(node.value)}"]
        lines = [node.name or "constant", _shape(node.shape)]
        return lines + ([f"value {numbers(node.value)}"] if node.value is not None else [])
    if node.kind == "op":
        title = node.op + (f" ({SYMBOLS[node.op]})" if node.op in SYMBOLS else "")
        if node.name and (record is None or record.origin != "flow"):
            title = f"{node.name} = {title}"
        elif node.name:  # a flow node's default name (Sigmoid_1) already says its kind
            title = node.name if node.name.startswith(node.op + "_") else f"{node.name} ({node.op})"
    else:
        title = node.name or "leaf"
    lines = [title, _shape(node.shape)]
    if node.params:
        lines.append(", ".join(f"{k}={v}" for k, v in node.params.items()))
    if values and node.value is not None:
        lines.append(f"value {numbers(node.value)}")
    if grads and node.grad is not None:
        lines.append(f"grad {numbers(node.grad)}")
    return lines


def node_colors(node: RecordNode, record: GraphRecord) -> tuple[str, bool]:
    """Fill colour and whether the box is drawn bold (an output)."""
    output = node.id in record.outputs
    if output:
        return OUTPUT_COLOR, True
    if node.kind == "leaf":
        return LEAF_COLOR, False
    if node.kind == "constant" or not node.requires_grad:  # an op on data alone: a constant too
        return CONSTANT_COLOR, False
    return OP_COLOR, False


def record_dot(record: GraphRecord, values: bool, grads: bool, rankdir: str = "LR") -> str:
    """DOT text of a record: rounded boxes for leaves and constants, boxes for ops, outputs bold."""
    lines = [
        "digraph record {",
        f"  rankdir={rankdir};",
        '  node [fontname="Helvetica", fontsize=10];',
    ]
    for node in record.nodes.values():
        color, bold = node_colors(node, record)
        style = "rounded,filled" if node.kind != "op" else "filled"
        if bold:
            style += ",bold"
        label = quote("\n".join(label_lines(node, values, grads, record)))
        lines.append(f"  {node.id} [label={label}, shape=box, style={quote(style)}, fillcolor={quote(color)}];")
    for src, dst, _ in record.edges():
        lines.append(f"  {src} -> {dst};")
    lines.append("}")
    return "\n".join(lines)
