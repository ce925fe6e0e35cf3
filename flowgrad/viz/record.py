"""A neutral record of one graph: what a picture or an explain page needs, and nothing that keeps
the graph alive.

A :class:`GraphRecord` holds one :class:`RecordNode` per tensor (or flow node): its op as the
learner wrote it (``add``, ``pow``, ``sigmoid``), its kind (``"leaf"``, ``"constant"`` or ``"op"``),
copies of its value and gradient, the line of user code that made it and its inputs in order.
``backward_order`` lists the nodes in the order the backward pass processed them, each
:class:`BackwardStep` with the :class:`Contribution` it sent along each edge to an input
(upstream gradient x local derivative), so a fan-out's gradient shows as the sum of its parts.

Get one by recording an eager step (``fg.viz.record()``), from a tensor's graph as it stands
(:meth:`GraphRecord.from_tensor`) or from a flow graph (:meth:`GraphRecord.from_flow`).

>>> import flowgrad as fg
>>> x = fg.tensor(4.0, requires_grad=True)
>>> with fg.viz.record() as rec:
...     g = (x + 5.0) * 10.0
...     g.backward()
>>> [(n.op, n.kind) for n in rec.nodes.values()]
[('leaf', 'leaf'), ('constant', 'constant'), ('add', 'op'), ('constant', 'constant'), ('mul', 'op')]
>>> rec.node(x).grad
array(10., dtype=float32)
"""

from __future__ import annotations

import dataclasses
import pathlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

import flowgrad as fg

if TYPE_CHECKING:
    from .layout import Layout

__all__ = ["GraphRecord", "RecordNode", "SourceLine", "BackwardStep", "Contribution"]


@dataclasses.dataclass(frozen=True)
class SourceLine:
    """The line of user code that made a node: ``file``, ``line`` number and the ``code`` text.

    >>> str(SourceLine("train.py", 12, "loss = (y - t) ** 2"))
    'train.py:12: loss = (y - t) ** 2'
    """

    file: str
    line: int
    code: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.code}"


@dataclasses.dataclass
class RecordNode:
    """One node of a :class:`GraphRecord`.

    ``op`` is the operation's name as written (``"add"``, ``"pow"``, ``"matmul"``, a flow node's
    class name), or ``"leaf"``/``"constant"``. ``kind`` is ``"leaf"`` (a tensor that requires grad
    and no op made, or a flow ``Input``), ``"constant"`` (data or a number written in the code) or
    ``"op"``. ``value`` and ``grad`` are copies (``grad`` None when no gradient reached it).
    ``inputs`` are node ids in the op's argument order (the same id twice for ``x * x``).

    >>> x = fg.tensor([1.0, 2.0], requires_grad=True)
    >>> node = GraphRecord.from_tensor(x * x).nodes["n1"]
    >>> node.op, node.kind, node.shape, node.inputs
    ('mul', 'op', (2,), ['n0', 'n0'])
    """

    id: str
    op: str
    kind: str
    name: str | None
    shape: tuple[int, ...]
    dtype: str
    value: np.ndarray | None
    grad: np.ndarray | None = None
    source: SourceLine | None = None
    inputs: list[str] = dataclasses.field(default_factory=list)
    params: dict[str, str] = dataclasses.field(default_factory=dict)
    requires_grad: bool = False


@dataclasses.dataclass
class Contribution:
    """What the backward pass sent from ``output`` to its ``position``-th input ``input``:
    ``value`` = ``upstream`` (the gradient of ``output``) x the local derivative.

    ``local`` is d output / d input when it is cheap to know exactly (a single-valued output,
    where it is the whole Jacobian), else None.

    >>> x = fg.tensor(3.0, requires_grad=True)
    >>> with fg.viz.record() as rec:
    ...     (x * 2.0).backward()
    >>> c = rec.backward_order[0].contributions[0]
    >>> float(c.upstream), float(c.local), float(c.value), c.position
    (1.0, 2.0, 2.0, 0)
    """

    input: str
    output: str
    position: int
    upstream: np.ndarray
    local: np.ndarray | None
    value: np.ndarray


@dataclasses.dataclass
class BackwardStep:
    """One node as the backward pass processed it: the gradient it had then (the sum of what its
    consumers sent) and what it sent to each input. ``backward_pass`` counts the backward calls
    made while recording, from 0.

    >>> x = fg.tensor(3.0, requires_grad=True)
    >>> with fg.viz.record() as rec:
    ...     (x * 2.0).backward()
    >>> [(rec.nodes[s.node].op, float(s.grad)) for s in rec.backward_order]
    [('mul', 1.0), ('leaf', 2.0)]
    """

    node: str
    grad: np.ndarray
    contributions: list[Contribution] = dataclasses.field(default_factory=list)
    backward_pass: int = 0


@dataclasses.dataclass
class GraphRecord:
    """Nodes in forward order (each after its inputs), the outputs, and the backward walk.

    >>> rec = GraphRecord()
    >>> len(rec.nodes), rec.edges(), rec.backward_order
    (0, [], [])
    """

    nodes: dict[str, RecordNode] = dataclasses.field(default_factory=dict)
    outputs: list[str] = dataclasses.field(default_factory=list)
    backward_order: list[BackwardStep] = dataclasses.field(default_factory=list)
    origin: str = "eager"
    _tensor_ids: dict[int, tuple[Any, str]] = dataclasses.field(default_factory=dict, repr=False)

    def edges(self) -> list[tuple[str, str, int]]:
        """``(input_id, node_id, position)`` for every input of every node, in forward order.

        >>> rec = GraphRecord.from_tensor(fg.tensor(2.0, requires_grad=True) * 3.0)
        >>> rec.edges()
        [('n0', 'n2', 0), ('n1', 'n2', 1)]
        """
        return [(src, n.id, k) for n in self.nodes.values() for k, src in enumerate(n.inputs)]

    def node(self, key: Any) -> RecordNode:
        """The node of a node id, of a tensor recorded (while it lives) or of a user-facing name.

        >>> w = fg.tensor([1.0, 2.0], requires_grad=True)
        >>> rec = GraphRecord.from_tensor((w * w).sum(), names={"w": w})
        >>> rec.node(w) is rec.node("w"), rec.node("w").shape
        (True, (2,))
        """
        if isinstance(key, str):
            if key in self.nodes:
                return self.nodes[key]
            named = [n for n in self.nodes.values() if n.name == key]
            if len(named) == 1:
                return named[0]
            detail = "several nodes have that name" if named else f"known names: {sorted(self.names())}"
            raise fg.ArgumentError(f"GraphRecord.node: no single node {key!r} ({detail})")
        entry = self._tensor_ids.get(id(key))
        if entry is None or entry[0]() is not key:
            raise fg.ArgumentError(f"GraphRecord.node: this {type(key).__name__} was not recorded in this graph")
        return self.nodes[entry[1]]

    def names(self) -> list[str]:
        """The user-facing names of the nodes that have one."""
        return [n.name for n in self.nodes.values() if n.name]

    def consumers(self, node_id: str) -> list[str]:
        """Ids of the nodes that take ``node_id`` as an input (once each)."""
        return list(dict.fromkeys(n.id for n in self.nodes.values() if node_id in n.inputs))

    def contributions_to(self, node_id: str) -> list[Contribution]:
        """Every contribution the backward pass sent to ``node_id``: its gradient is their sum (the
        sum at a fan-out).

        >>> x = fg.tensor(3.0, requires_grad=True)
        >>> with fg.viz.record() as rec:
        ...     y = x * x + x
        ...     y.backward()
        >>> [float(c.value) for c in rec.contributions_to(rec.node(x).id)], float(x.grad)
        ([1.0, 3.0, 3.0], 7.0)
        """
        return [c for step in self.backward_order for c in step.contributions if c.input == node_id]

    def steps(self) -> Iterator[tuple[RecordNode, BackwardStep]]:
        """``(node, step)`` pairs in backward order."""
        for step in self.backward_order:
            yield self.nodes[step.node], step

    def layout(self, values: bool = True, grads: bool = True, rankdir: str = "LR") -> Layout:
        """Boxes and edge paths for this graph, with each box sized to its label (see
        :func:`flowgrad.viz.layout.layout_graph`)."""
        from .labels import label_lines
        from .layout import layout_graph, text_size

        sizes = {n.id: text_size(label_lines(n, values, grads, self)) for n in self.nodes.values()}
        return layout_graph(list(self.nodes), [(s, d) for s, d, _ in self.edges()], sizes, rankdir)

    def to_dot(self, values: bool = True, grads: bool = True, rankdir: str = "LR") -> str:
        """Graphviz DOT text of the graph, labels as in the built-in pictures.

        >>> rec = GraphRecord.from_tensor(fg.tensor(2.0, requires_grad=True) * 3.0)
        >>> print(rec.to_dot().splitlines()[4])
          n1 [label="constant 3", shape=box, style="rounded,filled", fillcolor="#e8e8e8"];
        """
        from .labels import record_dot

        return record_dot(self, values, grads, rankdir)

    def to_svg(self, values: bool = True, grads: bool = True, rankdir: str = "LR") -> str:
        """SVG text of the graph drawn by flowgrad's own renderer (no Graphviz needed)."""
        from .svg import record_svg

        return record_svg(self, values, grads, rankdir)

    def render(
        self,
        path: str | pathlib.Path,
        values: bool = True,
        grads: bool = True,
        engine: str = "auto",
        rankdir: str = "LR",
    ) -> pathlib.Path:
        """Draw the graph to ``path`` (.svg, .png, .pdf; .dot saves the DOT text).

        ``engine="auto"`` uses Graphviz's ``dot`` when it is installed and flowgrad's own
        renderer otherwise; ``"dot"`` or ``"builtin"`` choose one.

        >>> import pathlib, tempfile
        >>> rec = GraphRecord.from_tensor(fg.tensor(2.0, requires_grad=True) * 3.0)
        >>> out = rec.render(pathlib.Path(tempfile.mkdtemp()) / "g.svg", engine="builtin")
        >>> out.read_text().startswith("<?xml")
        True
        """
        from .svg import draw

        return draw(self, path, values, grads, engine, rankdir)

    def to_dict(self) -> dict[str, Any]:
        """The record as plain lists, dicts, strings and numbers (arrays as nested lists), for JSON.

        >>> d = GraphRecord.from_tensor(fg.tensor(2.0, requires_grad=True) * 3.0).to_dict()
        >>> sorted(d), d["nodes"][2]["op"], d["nodes"][2]["inputs"]
        (['backward_order', 'nodes', 'origin', 'outputs'], 'mul', ['n0', 'n1'])
        """

        def arr(a: np.ndarray | None) -> Any:
            return None if a is None else np.asarray(a).tolist()

        nodes = []
        for n in self.nodes.values():
            d = dataclasses.asdict(n)
            d["value"], d["grad"], d["shape"] = arr(n.value), arr(n.grad), list(n.shape)
            d["source"] = None if n.source is None else dataclasses.asdict(n.source)
            nodes.append(d)
        steps = [
            {
                "node": s.node,
                "grad": arr(s.grad),
                "backward_pass": s.backward_pass,
                "contributions": [
                    {
                        "input": c.input,
                        "output": c.output,
                        "position": c.position,
                        "upstream": arr(c.upstream),
                        "local": arr(c.local),
                        "value": arr(c.value),
                    }
                    for c in s.contributions
                ],
            }
            for s in self.backward_order
        ]
        return {"origin": self.origin, "nodes": nodes, "outputs": list(self.outputs), "backward_order": steps}

    @classmethod
    def from_tensor(
        cls, output: fg.Tensor | Sequence[fg.Tensor], names: dict[str, fg.Tensor] | None = None
    ) -> GraphRecord:
        """The graph behind ``output`` as it stands (before ``backward()``, or after one with
        ``retain_graph=True``): values now, leaves' ``.grad`` as gradients, no backward order and
        no source lines (use ``fg.viz.record()`` for those).

        >>> w = fg.tensor([1.0, -2.0], requires_grad=True)
        >>> rec = GraphRecord.from_tensor((w * 3.0).sum(), names={"w": w})
        >>> [n.op for n in rec.nodes.values()]
        ['leaf', 'constant', 'mul', 'sum']
        """
        from .sources import record_tensor

        return record_tensor(output, names)

    @classmethod
    def from_flow(cls, graph_or_output: Any) -> GraphRecord:
        """The record of a ``flowgrad.flow`` graph (an output node or the list ``topological_sort``
        gave) after its forward and backward passes: inputs are leaves, the backward order is the
        runner's (the sorted graph reversed) and each edge carries what the consumer's
        ``gradients`` dict holds for that input.

        >>> from flowgrad.flow import Add, Input, Mul, forward_and_backward, topological_sort
        >>> x, y, z = Input("x"), Input("y"), Input("z")
        >>> g = Mul(Add(x, y, name="f"), z, name="g")
        >>> forward_and_backward(topological_sort({x: 4.0, y: 5.0, z: 10.0}))
        >>> rec = GraphRecord.from_flow(g)
        >>> float(rec.node("x").value), float(rec.node("x").grad), [s.node for s in rec.backward_order][0]
        (4.0, 10.0, 'n4')
        """
        from .sources import record_flow

        return record_flow(graph_or_output)
