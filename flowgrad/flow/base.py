"""The nodes of a define-then-run graph: ``Node``, ``Input`` and ``OpNode``.

``Node`` is MiniFlow's node: it knows its inbound and outbound nodes, holds a
``value`` after the forward pass and a ``gradients`` dict after the backward
pass. Learners subclass it and write ``forward()``/``backward()`` with NumPy.

``OpNode`` is how flowgrad's own nodes are built: ``compute()`` is written
with flowgrad tensor ops, the forward pass records it on fresh leaf tensors,
and the backward pass asks the one backward engine (``fg.autograd.grad``) for
the gradients. So graph mode has no second copy of the math.

>>> import numpy as np
>>> from flowgrad.flow import Input, Sigmoid
>>> x = Input("x")
>>> s = Sigmoid(x, name="s")
>>> s.inbound_nodes == [x], x.outbound_nodes == [s]
(True, True)
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

import flowgrad as fg

__all__ = [
    "Node",
    "Input",
    "OpNode",
    "GraphError",
    "reset_default_names",
    "gradient_parts",
    "sum_gradients",
]


class GraphError(fg.FlowgradError, ValueError):
    """A graph that cannot run: a cycle, an input never fed, a node without a value."""


# Default names count per kind (Linear_1, Linear_2, ...), like TF1's default graph.
_name_counters: dict[str, itertools.count] = {}


def _default_name(kind: str) -> str:
    counter = _name_counters.setdefault(kind, itertools.count(1))
    return f"{kind}_{next(counter)}"


def reset_default_names() -> None:
    """Start default names again from ``_1`` (``Linear_1``, ``Input_1``, ...).

    >>> from flowgrad.flow import Input, reset_default_names
    >>> reset_default_names(); Input().name
    'Input_1'
    """
    _name_counters.clear()


class Node:
    """A node of the graph, as in MiniFlow.

    Subclasses call ``Node.__init__(self, [x, y])`` and write ``forward()``
    (set ``self.value`` from ``self.inbound_nodes[i].value``) and
    ``backward()`` (set ``self.gradients[inbound_node]`` from the gradients
    that ``self.outbound_nodes`` computed for this node).

    >>> from flowgrad.flow import Input, Node
    >>> class Double(Node):
    ...     def __init__(self, x):
    ...         Node.__init__(self, [x])
    ...     def forward(self):
    ...         self.value = 2 * self.inbound_nodes[0].value
    >>> d = Double(Input("x"))
    >>> d.name.startswith("Double_"), d.value, d.gradients
    (True, None, {})
    """

    # The runner stamps each node it runs, so a backward pass counts only the
    # outbound nodes that took part in the same run (see gradient_parts).
    _run_stamp: int | None = None

    def __init__(self, inbound_nodes: Sequence[Node] = (), name: str | None = None) -> None:
        inbound = list(inbound_nodes)
        for position, node in enumerate(inbound):
            if not isinstance(node, Node):
                raise fg.DTypeError(
                    f"{type(self).__name__}: input {position} is a {type(node).__name__}, not a Node; "
                    "wrap data in an Input node and feed it in the feed_dict"
                )
        if name is not None and not isinstance(name, str):
            raise fg.DTypeError(f"{type(self).__name__}: name must be a str, got {type(name).__name__}")
        self.name: str = name if name is not None else _default_name(type(self).__name__)
        self.value: Any = None
        self.inbound_nodes: list[Node] = inbound
        self.outbound_nodes: list[Node] = []
        self.gradients: dict[Node, Any] = {}
        for node in inbound:
            # Once per consumer, even for Add(x, x): the consumer's gradient for x already sums both uses.
            if not any(out is self for out in node.outbound_nodes):
                node.outbound_nodes.append(self)

    def forward(self) -> None:
        """Set ``self.value`` from the inbound nodes' values."""
        raise NotImplementedError(
            f"{type(self).__name__}.forward: a Node subclass must set self.value from its inbound nodes' values"
        )

    def backward(self) -> None:
        """Set ``self.gradients[n]`` for each inbound node ``n``."""
        raise NotImplementedError(
            f"{type(self).__name__}.backward: a Node subclass must set self.gradients[n] for each inbound node n"
        )

    def __repr__(self) -> str:
        shape = "no value" if self.value is None else f"shape {np.shape(self.value)}"
        return f"<{type(self).__name__} {self.name!r}: {shape}>"


class Input(Node):
    """A value fed from outside: data, labels, weights or biases.

    ``topological_sort(feed_dict)`` sets its value; ``X.value = batch`` changes
    it between runs. After a backward pass ``gradients[self]`` is the sum of
    the gradients its outbound nodes computed for it.

    >>> from flowgrad.flow import Input
    >>> x = Input("x")
    >>> x.forward(3.0); x.value
    3.0
    """

    def __init__(self, name: str | None = None) -> None:
        Node.__init__(self, (), name)

    def forward(self, value: Any = None) -> None:
        if value is not None:
            self.value = value

    def backward(self) -> None:
        self.gradients = {self: sum_gradients(self, gradient_parts(self))}


def float_zeros_like(value: Any) -> np.ndarray:
    """Zeros of ``value``'s shape, in its dtype if floating (complex too), else float64: a gradient's."""
    value = np.asarray(value)
    dtype = value.dtype if value.dtype.kind in "fc" else np.float64
    return np.zeros(value.shape, dtype)


def gradient_parts(node: Node, strict: bool = False) -> list[tuple[Node | None, np.ndarray]]:
    """The gradients ``node`` received: one ``(outbound_node, array)`` per outbound node.

    A node with no outbound node in its run is an output: a single value is a
    cost, seeded with d cost / d cost = 1, and ``(None, seed)`` is returned;
    anything else gets a zero seed (it does not feed the cost). With
    ``strict``, an outbound node of the same run that gave no gradient is an
    error (a custom ``backward()`` that forgot one).
    """
    stamp = node._run_stamp
    parts: list[tuple[Node | None, np.ndarray]] = []
    took_part = False
    for consumer in node.outbound_nodes:
        if stamp is not None and consumer._run_stamp != stamp:
            continue  # built or run outside this graph: not part of this pass
        took_part = True
        grad = consumer.gradients.get(node)
        if grad is None:
            if strict and stamp is not None:
                raise GraphError(
                    f"{node.name}: its outbound node {consumer.name} gave no gradient for it; "
                    f"set self.gradients[...] for every inbound node in {type(consumer).__name__}.backward()"
                )
            continue
        parts.append((consumer, _fit(np.asarray(grad), node, consumer)))
    if not took_part:
        parts.append((None, output_seed(node, node.value)))
    return parts


def output_seed(node: Node, value: Any) -> np.ndarray:
    """d cost / d ``node`` for a node nothing consumes: 1 for a single computed value (it is the
    cost), zeros for anything else (an input, or a value that does not feed the cost)."""
    seed = float_zeros_like(value)
    if not isinstance(node, Input) and seed.size == 1:
        seed = np.asarray(seed + 1)
    return seed


def _fit(grad: np.ndarray, node: Node, consumer: Node) -> np.ndarray:
    """A gradient of the node's value's shape (MiniFlow's MSE gives (n, 1) for a value of shape (n,))."""
    shape = np.shape(node.value)
    if grad.shape == shape:
        return grad
    if grad.size == int(np.prod(shape)):
        return grad.reshape(shape)
    raise fg.ShapeError(
        f"{node.name}: {consumer.name} gave a gradient of shape {grad.shape} for it, but its value has shape {shape}"
    )


def sum_gradients(node: Node, parts: list[tuple[Node | None, np.ndarray]]) -> np.ndarray:
    """Add up the received gradients into a new array of the node's value's shape."""
    return sum_parts([fg.from_numpy(np.asarray(grad)) for _, grad in parts])._data


def sum_parts(parts: Sequence[fg.Tensor]) -> fg.Tensor:
    """The sum of the gradients a node received, in a new array: written with flowgrad ops, so the
    node-by-node passes and the compiled path (which traces it) add them the same way."""
    total = parts[0].clone()
    for grad in parts[1:]:
        total = total + grad
    return total


def input_array(node: Node, consumer: Node) -> np.ndarray:
    """The inbound node's value as an ndarray of numbers, or an error naming both nodes."""
    value = node.value
    if value is None:
        hint = "feed it in the feed_dict" if isinstance(node, Input) else "run the nodes before it first"
        raise GraphError(f"{consumer.name}: its input {node.name} has no value; {hint}")
    try:
        array = np.asarray(value)
    except ValueError as exc:  # ragged nested lists
        raise fg.DTypeError(
            f"{consumer.name}: input {node.name} is not a rectangular array of numbers: {exc}"
        ) from None
    if array.dtype.kind not in "biufc":
        raise fg.DTypeError(
            f"{consumer.name}: input {node.name} holds a {type(value).__name__} of dtype {array.dtype}; "
            "feed a number or a NumPy array of numbers"
        )
    return array


class OpNode(Node):
    """A node whose math is ``compute()``, written with flowgrad tensor ops.

    The forward pass wraps each inbound value as a leaf tensor and records
    ``compute``; the backward pass sums the gradients received from the
    outbound nodes and asks ``fg.autograd.grad`` for the inputs' gradients.
    Eager tensors and graph nodes therefore share every op and its gradient.

    ``differentiable`` lists, per input, whether it gets a gradient (labels
    do not); integer inputs that do are promoted to float64 for the gradient.

    >>> import flowgrad as fg
    >>> from flowgrad.flow import Input, OpNode, forward_and_backward, topological_sort
    >>> class Square(OpNode):
    ...     def compute(self, x):
    ...         return x * x
    >>> x = Input("x"); cost = Square([x])
    >>> forward_and_backward(topological_sort({x: 3.0}))
    >>> cost.value, x.gradients[x]
    (np.float64(9.0), array(6.))
    """

    differentiable: tuple[bool, ...] | None = None
    _leaves: list[fg.Tensor] | None = None
    _output: fg.Tensor | None = None

    def compute(self, *inputs: Any) -> fg.Tensor:
        """The node's value as a tensor expression of its inputs (tensors, one per inbound node)."""
        raise NotImplementedError(f"{type(self).__name__}.compute: write the node's math with flowgrad ops")

    def check(self, *arrays: Any) -> None:
        """Raise an error naming this node when the input arrays cannot work (before computing)."""

    def _wants_gradient(self, position: int) -> bool:
        return self.differentiable is None or self.differentiable[position]

    def describe_inputs(self, arrays: Sequence[np.ndarray]) -> str:
        return ", ".join(f"{n.name} {a.shape} {a.dtype}" for n, a in zip(self.inbound_nodes, arrays))

    def forward(self) -> None:
        arrays = [input_array(node, self) for node in self.inbound_nodes]
        self.check(*arrays)
        leaves = []
        for position, array in enumerate(arrays):
            leaf = fg.from_numpy(array)
            if array.dtype.kind in "fc" and self._wants_gradient(position):
                leaf.requires_grad_()
            leaves.append(leaf)
        with fg.enable_grad():
            output = self._compute(leaves, arrays)
        self._leaves, self._output = leaves, output
        data = output._data
        # 0-d results become NumPy scalars, as np.mean and np.sum return them.
        self.value = data[()] if data.ndim == 0 else data

    def _compute(self, leaves: list[fg.Tensor], arrays: Sequence[np.ndarray]) -> fg.Tensor:
        try:
            output = self.compute(*leaves)
        except (fg.ShapeError, fg.DTypeError) as exc:
            raise type(exc)(f"{self.name} ({self.describe_inputs(arrays)}): {exc}") from exc
        if not isinstance(output, fg.Tensor):
            raise fg.DTypeError(f"{type(self).__name__}.compute must return a flowgrad Tensor")
        return output

    def backward(self) -> None:
        if self._output is None or self._leaves is None:
            raise GraphError(f"{self.name}: run the forward pass before the backward pass")
        upstream = sum_gradients(self, gradient_parts(self, strict=True))
        gradients: dict[Node, Any] = {self: upstream}
        wanted = [p for p in range(len(self.inbound_nodes)) if self._wants_gradient(p)]
        leaves, output = self._leaves, self._output
        if any(not leaves[p].requires_grad for p in wanted):
            # Integer inputs (as MiniFlow's int labels) cannot require grad: recompute in float64.
            leaves = [
                fg.from_numpy(leaf._data.astype(np.float64)).requires_grad_()
                if p in wanted and not leaf.requires_grad
                else leaf
                for p, leaf in enumerate(leaves)
            ]
            with fg.enable_grad():
                output = self._compute(leaves, [leaf._data for leaf in leaves])
        values = [leaf._data for leaf in self._leaves]
        found = input_gradients(self, leaves, output, fg.from_numpy(upstream), values, retain_graph=True)
        for node, grad in found.items():
            gradients[node] = grad._data
        self.gradients = gradients


def input_gradients(
    node: OpNode,
    leaves: Sequence[fg.Tensor],
    output: fg.Tensor,
    upstream: fg.Tensor,
    values: Sequence[np.ndarray],
    retain_graph: bool,
) -> dict[Node, fg.Tensor]:
    """d cost / d each inbound node of ``node``, through one ``fg.autograd.grad`` call from its
    output: zeros (of the inbound value's shape) where no gradient flows, and the sum of both uses
    for an input used twice (``Add(x, x)``). Both the node-by-node passes and the compiled path
    (which traces it) run this."""
    wanted = [p for p in range(len(node.inbound_nodes)) if node._wants_gradient(p)]
    found: tuple = ()
    if wanted and output.requires_grad:
        found = fg.autograd.grad(
            output, [leaves[p] for p in wanted], grad_outputs=upstream, retain_graph=retain_graph, allow_unused=True
        )
    by_position = dict(zip(wanted, found))
    result: dict[Node, fg.Tensor] = {}
    for position, inbound in enumerate(node.inbound_nodes):
        grad = by_position.get(position)
        if grad is None:
            grad = fg.from_numpy(float_zeros_like(values[position]))
        result[inbound] = result[inbound] + grad if inbound in result else grad
    return result
