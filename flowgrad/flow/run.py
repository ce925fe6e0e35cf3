"""Sorting and running a graph: MiniFlow's ``topological_sort``, passes and SGD.

>>> import numpy as np
>>> from flowgrad.flow import MSE, Input, Linear, forward_and_backward, sgd_update, topological_sort
>>> X, y, W, b = Input("X"), Input("y"), Input("W"), Input("b")
>>> cost = MSE(y, Linear(X, W, b), name="cost")
>>> graph = topological_sort({X: np.ones((4, 2)), y: np.full(4, 3.0), W: np.zeros((2, 1)), b: np.zeros(1)})
>>> graph[-1].name
'cost'
>>> for step in range(50):
...     forward_and_backward(graph)
...     sgd_update([W, b], learning_rate=0.1)
>>> bool(cost.value < 1e-6)
True
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

import flowgrad as fg

from . import compiled as _compiled
from . import trace as _trace
from .base import GraphError, Input, Node


def _check_nodes(nodes: Any, where: str, what: str = "a list of nodes") -> list[Node]:
    # Checked: a string or a list of numbers failed with an AttributeError deep inside.
    if isinstance(nodes, (str, bytes, Node)) or not isinstance(nodes, Iterable):
        raise fg.DTypeError(f"{where}: expected {what}, got {fg.errors.given(nodes)}")
    nodes = list(nodes)
    for i, node in enumerate(nodes):
        if not isinstance(node, Node):
            raise fg.DTypeError(f"{where}: item {i} is {fg.errors.given(node)}, not a Node")
    return nodes


__all__ = ["topological_sort", "forward_pass", "forward_and_backward", "sgd_update"]

# Each run stamps its nodes with a fresh number (see Node._run_stamp).
_run_numbers = itertools.count(1)


def _check_feed(node: Any, value: Any) -> None:
    # Any source node can be fed (a learner's own MiniFlow Input class too), not a computed one.
    if not isinstance(node, Node) or node.inbound_nodes:
        what = (
            f"the {type(node).__name__} {node.name!r}, which has inbound nodes"
            if isinstance(node, Node)
            else repr(node)
        )
        raise fg.DTypeError(f"feed_dict: keys must be Input nodes, got {what}; only Inputs are fed")
    if value is None:
        raise fg.DTypeError(f"feed_dict: {node.name} was fed None; feed a number or a NumPy array of numbers")
    try:
        array = np.asarray(value)
    except ValueError as exc:
        raise fg.DTypeError(f"feed_dict: {node.name} was fed a ragged {type(value).__name__}: {exc}") from None
    if array.dtype.kind not in "biufc":
        raise fg.DTypeError(
            f"feed_dict: {node.name} was fed a {type(value).__name__} of dtype {array.dtype}; "
            "feed a number or a NumPy array of numbers"
        )


def _unique(nodes: Iterable[Node]) -> list[Node]:
    seen: dict[int, Node] = {}
    for node in nodes:
        seen.setdefault(id(node), node)
    return list(seen.values())


def _discover(feed_dict: Mapping[Node, Any]) -> list[Node]:
    """Every node downstream of the fed inputs, plus what those nodes need upstream."""
    found: dict[Node, None] = dict.fromkeys(feed_dict)
    queue = deque(feed_dict)
    while queue:  # downstream, as MiniFlow does
        for consumer in queue.popleft().outbound_nodes:
            if consumer not in found:
                found[consumer] = None
                queue.append(consumer)
    # Upstream of those: an unfed Input is an error; a node without inputs (a constant) is a root.
    queue = deque(found)
    while queue:
        node = queue.popleft()
        for needed in node.inbound_nodes:
            if needed in found:
                continue
            if isinstance(needed, Input):
                raise GraphError(
                    f"topological_sort: the input {needed.name} was never fed, and {node.name} needs it; "
                    f"add {needed.name} to the feed_dict"
                )
            found[needed] = None
            queue.append(needed)
    return list(found)


def _find_cycle(stuck: list[Node]) -> list[Node]:
    """Follow inbound edges among the nodes Kahn's algorithm could not place until one repeats."""
    stuck_ids = {id(n) for n in stuck}
    path: list[Node] = []
    position: dict[int, int] = {}
    node = stuck[0]
    while id(node) not in position:
        position[id(node)] = len(path)
        path.append(node)
        node = next(n for n in node.inbound_nodes if id(n) in stuck_ids)
    cycle = path[position[id(node)] :] + [node]
    return cycle[::-1]  # in the direction the values flow


def topological_sort(feed_dict: Mapping[Node, Any]) -> list[Node]:
    """Kahn's algorithm from the fed inputs; sets each ``Input``'s value; returns the nodes in order.

    The order is deterministic (the feed order, then breadth first), so the
    cost, which needs everything, comes last.

    >>> from flowgrad.flow import Add, Input, topological_sort
    >>> x, y = Input("x"), Input("y")
    >>> f = Add(x, y, name="f")
    >>> [n.name for n in topological_sort({x: 1, y: 2})], x.value
    (['x', 'y', 'f'], 1)
    """
    if not isinstance(feed_dict, Mapping):  # otherwise an AttributeError on .items(), far from the cause
        raise fg.DTypeError(
            f"topological_sort: feed_dict must map Input nodes to values, got {fg.errors.given(feed_dict)}"
        )
    for node, value in feed_dict.items():
        _check_feed(node, value)
    nodes = _discover(feed_dict)
    members = {id(n) for n in nodes}
    waiting = {id(n): sum(1 for m in _unique(n.inbound_nodes) if id(m) in members) for n in nodes}
    ready = deque(n for n in nodes if waiting[id(n)] == 0)
    order: list[Node] = []
    while ready:
        node = ready.popleft()
        if node in feed_dict:
            node.value = feed_dict[node]
        order.append(node)
        for consumer in _unique(node.outbound_nodes):
            if id(consumer) in members:
                waiting[id(consumer)] -= 1
                if waiting[id(consumer)] == 0:
                    ready.append(consumer)
    if len(order) < len(nodes):
        placed = {id(n) for n in order}
        cycle = _find_cycle([n for n in nodes if id(n) not in placed])
        raise GraphError(
            "topological_sort: the graph has a cycle: "
            + " -> ".join(n.name for n in cycle)
            + "; a node cannot depend on its own value"
        )
    return order


def _run_forward(nodes: Sequence[Node], stamp: int) -> None:
    tracers = _trace.active_traces()
    for node in nodes:
        node._run_stamp = stamp
        node.forward()
        for tracer in tracers:
            tracer.record_forward(node, stamp)


def forward_pass(output_node: Node, sorted_nodes: Sequence[Node]) -> Any:
    """Run every node's ``forward()`` in order; return the output node's value.

    >>> from flowgrad.flow import Input, Mul, forward_pass, topological_sort
    >>> x, y = Input("x"), Input("y")
    >>> f = Mul(x, y)
    >>> forward_pass(f, topological_sort({x: 4, y: 5}))
    np.int64(20)
    """
    if not isinstance(output_node, Node):
        raise fg.DTypeError(f"forward_pass: output_node must be a Node, got {fg.errors.given(output_node)}")
    sorted_nodes = _check_nodes(sorted_nodes, "forward_pass", "the sorted nodes from topological_sort")
    if not any(node is output_node for node in sorted_nodes):
        raise GraphError(f"forward_pass: the output {output_node.name} is not among the sorted nodes")
    _run_forward(sorted_nodes, next(_run_numbers))
    return output_node.value


def forward_and_backward(
    graph: Sequence[Node],
    trace: bool = False,
    compile: bool | None = None,  # noqa: A002
) -> _trace.Trace | None:
    """A forward pass through ``graph`` (from ``topological_sort``), then a backward pass.

    Afterwards each node's ``gradients[n]`` holds d cost / d n for each of its
    inbound nodes ``n`` (and for itself). With ``trace=True`` the passes are
    recorded and the :class:`~flowgrad.flow.Trace` is returned.

    ``compile=None`` (the default) runs a graph of built-in nodes fed float arrays through
    ``fg.compile`` (see :mod:`flowgrad.flow.compiled`): the same values and gradients to the
    last bit, several times faster. ``compile=False`` always runs node by node (each node's
    ``forward()`` and ``backward()``), as do traces and graphs with nodes of your own.

    >>> from flowgrad.flow import Input, Mul, forward_and_backward, topological_sort
    >>> x, y = Input("x"), Input("y")
    >>> f = Mul(x, y)
    >>> forward_and_backward(topological_sort({x: 4.0, y: 5.0}))
    >>> x.gradients[x], y.gradients[y]
    (array(5.), array(4.))
    """
    graph = _check_nodes(graph, "forward_and_backward", "the sorted nodes from topological_sort")
    if compile is not False and not trace and graph and not _trace.active_traces() and _compiled.compilable(graph):
        _compiled.run_compiled(graph, next(_run_numbers))
        return None
    with _trace.recording(trace) as recorded:
        stamp = next(_run_numbers)
        _run_forward(graph, stamp)
        tracers = _trace.active_traces()
        for node in reversed(graph):
            if tracers:
                for tracer in tracers:
                    tracer.record_backward(node, stamp)
            node.backward()
    return recorded


def sgd_update(trainables: Iterable[Node], learning_rate: float = 1e-2) -> None:
    """``t.value -= learning_rate * t.gradients[t]`` for each trainable (in place for float arrays).

    >>> import numpy as np
    >>> from flowgrad.flow import Input, sgd_update
    >>> w = Input("w"); w.value = np.array([1.0]); w.gradients = {w: np.array([10.0])}
    >>> sgd_update([w], learning_rate=0.1); w.value
    array([0.])
    """
    trainables = _check_nodes(trainables, "sgd_update", "a list of trainable nodes")
    learning_rate = fg.errors.check_number(learning_rate, "sgd_update", "learning_rate")
    for node in trainables:
        partial = node.gradients.get(node)
        if partial is None:
            raise GraphError(f"sgd_update: {node.name} has no gradient yet; run forward_and_backward(graph) first")
        step = learning_rate * partial
        value = node.value
        if isinstance(value, np.ndarray) and value.dtype.kind in "fc" and value.flags.writeable:
            value -= step  # in place, so arrays the caller holds (the feed_dict's) follow, as in MiniFlow
        else:
            node.value = value - step
