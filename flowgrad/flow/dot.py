"""Pictures of a graph: Graphviz DOT text with each node's name, kind, value shape and gradient norm.

>>> import numpy as np
>>> from flowgrad.flow import Input, Sigmoid, forward_and_backward, to_dot, topological_sort
>>> x = Input("x"); s = Sigmoid(x, name="s")
>>> forward_and_backward(topological_sort({x: np.zeros(3)}))
>>> print(to_dot(s))
digraph flow {
  rankdir=LR;
  node [fontname="Helvetica", fontsize=10];
  n0 [label="x\\nInput\\n(3,)\\ngrad norm 0", shape=ellipse, style=filled, fillcolor="#dbe9f6"];
  n1 [label="s\\nSigmoid\\n(3,)\\ngrad norm 0", shape=box, style=bold];
  n0 -> n1;
}
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterable, Sequence

import numpy as np

from ..errors import DTypeError, given
from ..viz import numbers, quote, render_dot
from .base import Input, Node, gradient_parts, sum_gradients

__all__ = ["to_dot", "render"]

_INPUT_COLOR = "#dbe9f6"


def _collect(graph_or_output: Node | Sequence[Node]) -> list[Node]:
    """The nodes to draw: a sorted graph as given, or everything an output node depends on."""
    if not isinstance(graph_or_output, Node):
        iterable = isinstance(graph_or_output, Iterable) and not isinstance(graph_or_output, (str, bytes))
        nodes: list = list(graph_or_output) if iterable else []
        if not iterable or not all(isinstance(n, Node) for n in nodes):
            raise DTypeError(  # otherwise an AttributeError deep inside
                f"to_dot: expected an output node or a sorted graph of nodes, got {given(graph_or_output)}"
            )
        return nodes
    seen: dict[int, Node] = {}
    stack = [graph_or_output]
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen[id(node)] = node
            stack.extend(node.inbound_nodes)
    return _upstream_first(list(seen.values()))


def _upstream_first(nodes: list[Node]) -> list[Node]:
    """Order nodes so each comes after its inputs (depth-first post-order, no recursion)."""
    members = {id(n) for n in nodes}
    order: list[Node] = []
    done: set[int] = set()
    for start in nodes[::-1]:
        stack: list[tuple[Node, bool]] = [(start, False)]
        while stack:
            node, expanded = stack.pop()
            if id(node) in done:
                continue
            if expanded:
                done.add(id(node))
                order.append(node)
                continue
            stack.append((node, True))
            stack.extend((m, False) for m in reversed(node.inbound_nodes) if id(m) in members and id(m) not in done)
    return order


def _gradient(node: Node) -> np.ndarray | None:
    """d cost / d node after a backward pass; None before one."""
    grad = node.gradients.get(node)
    if grad is None:
        if not node.gradients:
            return None  # no backward pass yet
        # A hand-written node keeps only its inputs' gradients: add up what it received instead.
        grad = sum_gradients(node, gradient_parts(node))
    return np.asarray(grad, dtype=np.float64)


def _label(node: Node, values: bool, grads: bool) -> str:
    shape = "no value" if node.value is None else str(np.shape(node.value))
    lines = [node.name, type(node).__name__, shape]
    if values and node.value is not None:
        lines.append(f"value {numbers(node.value)}")
    grad = _gradient(node)
    if grad is not None:
        lines.append(f"gradient {numbers(grad)}" if grads else f"grad norm {float(np.linalg.norm(grad.ravel())):.4g}")
    return "\n".join(lines)


def to_dot(graph_or_output: Node | Sequence[Node], values: bool = False, grads: bool = False) -> str:
    """Graphviz DOT text of a graph (the list ``topological_sort`` returned, or an output node).

    Inputs are blue ellipses, computed nodes boxes, outputs bold. Each label
    holds the node's name, kind and value shape and, after a backward pass,
    the norm of the gradient of the cost with respect to it. ``values=True`` adds each node's
    value and ``grads=True`` shows the gradient itself (signed) instead of its norm: scalars
    and small arrays in full, larger ones as shape, first numbers and norm.

    >>> from flowgrad.flow import Add, Input, Mul, forward_and_backward, to_dot, topological_sort
    >>> x, y, z = Input("x"), Input("y"), Input("z")
    >>> g = Mul(Add(x, y, name="f"), z, name="g")
    >>> forward_and_backward(topological_sort({x: 4.0, y: 5.0, z: 10.0}))
    >>> print(to_dot(g, values=True, grads=True).splitlines()[3])  # dg/dx = z = 10
      n0 [label="x\\nInput\\n()\\nvalue 4\\ngradient 10", shape=ellipse, style=filled, fillcolor="#dbe9f6"];

    >>> from flowgrad.flow import Add, Input, to_dot
    >>> x, y = Input("x"), Input("y")
    >>> "n0 -> n2;" in to_dot(Add(x, y, name="f"))
    True
    """
    nodes = _collect(graph_or_output)
    ids = {id(n): f"n{i}" for i, n in enumerate(nodes)}
    lines = ["digraph flow {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];']
    for node in nodes:
        ident = ids[id(node)]
        if isinstance(node, Input):
            style = f"shape=ellipse, style=filled, fillcolor={quote(_INPUT_COLOR)}"
        else:
            is_output = not any(id(m) in ids for m in node.outbound_nodes)
            style = "shape=box, style=bold" if is_output else "shape=box"
        lines.append(f"  {ident} [label={quote(_label(node, values, grads))}, {style}];")
    for node in nodes:
        seen: set[int] = set()
        for needed in node.inbound_nodes:
            if id(needed) in ids and id(needed) not in seen:
                seen.add(id(needed))
                lines.append(f"  {ids[id(needed)]} -> {ids[id(node)]};")
    lines.append("}")
    return "\n".join(lines)


def render(
    graph_or_output: Node | Sequence[Node],
    path: str | pathlib.Path,
    values: bool = False,
    grads: bool = False,
    engine: str = "auto",
) -> pathlib.Path:
    """Draw ``to_dot(graph_or_output, values, grads)`` to ``path`` (.svg, .png or .pdf; .dot saves the text).

    ``engine="auto"`` draws with Graphviz's ``dot`` program when it is installed and with
    flowgrad's own renderer otherwise (.svg directly, .png and .pdf through matplotlib);
    ``engine="dot"`` insists on Graphviz (``fg.viz.GraphvizNotFoundError``, saying how to
    install it, without it: ``apt-get install graphviz``) and ``"builtin"`` on flowgrad's renderer.

    >>> import pathlib, tempfile
    >>> from flowgrad.flow import Input, Sigmoid, render
    >>> path = render(Sigmoid(Input("x"), name="s"), pathlib.Path(tempfile.mkdtemp()) / "graph.dot")
    >>> path.read_text().splitlines()[0]
    'digraph flow {'
    """
    from ..viz.record import GraphRecord
    from ..viz.svg import choose_engine, write_builtin

    path = pathlib.Path(path)
    chosen = choose_engine(engine, "flow.render")
    if chosen == "dot" or path.suffix.lower() in (".dot", ".gv", ""):
        return render_dot(to_dot(graph_or_output, values, grads), path)
    _collect(graph_or_output)  # the same check of the argument as to_dot's
    return write_builtin(GraphRecord.from_flow(graph_or_output), path, values, grads, "LR")
