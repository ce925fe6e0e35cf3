"""``forward_and_backward`` through ``fg.compile``: a graph of built-in nodes, replayed.

A graph made only of ``Input`` nodes fed float arrays and built-in nodes whose math is all
flowgrad ops (``Add Mul Linear MatMul Sigmoid ReLU Tanh MSE Sum``) is run as one compiled
function: the first call per graph and input signature traces exactly what the node-by-node
passes do (each node's ``compute`` on its inputs' values, then per node the sum of the
gradients its consumers sent and one ``fg.autograd.grad`` call for its inputs); later calls
replay the recorded NumPy calls. Values and gradients are bit-identical to the node-by-node
passes. Anything else (a learner's own ``Node`` subclass, a trace, integer-valued inputs,
``SoftmaxCrossEntropy``, whose labels pick the rows) runs node by node.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import flowgrad as fg

from .base import Input, Node, OpNode, input_gradients, output_seed, sum_parts
from .nodes import MSE, Add, Linear, MatMul, Mul, ReLU, Sigmoid, Sum, Tanh

# Exact types only: a subclass may override compute() or backward() with plain NumPy.
_SAFE_NODES = (Add, Mul, Linear, MatMul, Sigmoid, ReLU, Tanh, MSE, Sum)


def compilable(graph: Sequence[Node]) -> bool:
    """True when every node is a built-in the compiled path reproduces and every input a float array."""
    for node in graph:
        if type(node) is Input:
            value = node.value
            if not (isinstance(value, (np.ndarray, np.floating, float)) and np.asarray(value).dtype.kind == "f"):
                return False
        elif type(node) not in _SAFE_NODES:
            return False
    return True


def _graph_function(graph: list[Node]) -> Any:
    """The passes of ``forward_and_backward`` over ``graph`` as one function of the inputs' arrays."""
    inputs = [n for n in graph if type(n) is Input]
    members = {id(n) for n in graph}

    def passes(*arrays: np.ndarray) -> tuple:
        out: dict[int, fg.Tensor] = {id(n): fg.from_numpy(a) for n, a in zip(inputs, arrays)}
        local: dict[int, tuple] = {}  # node -> (its input leaves, its output): the cut at each node
        with fg.enable_grad():
            for node in graph:
                if not isinstance(node, OpNode):  # an Input: its array is already in `out`
                    continue
                leaves = []
                for position, inbound in enumerate(node.inbound_nodes):
                    leaf = fg.from_numpy(out[id(inbound)]._data)
                    if node._wants_gradient(position):
                        leaf.requires_grad_()
                    leaves.append(leaf)
                given = [leaf._data for leaf in leaves]
                node.check(*given)  # shapes only, for these nodes: a replay has the traced shapes
                output = node._compute(leaves, given)
                out[id(node)] = output
                local[id(node)] = (leaves, output)
        # The backward pass: the same seed, sums and input gradients as the node-by-node passes.
        sent: dict[int, dict[Node, fg.Tensor]] = {}  # consumer -> inbound -> gradient it sent
        grads: list[list[fg.Tensor]] = []
        for node in reversed(graph):
            value = out[id(node)]
            consumers = [c for c in node.outbound_nodes if id(c) in members]
            parts = [sent[id(c)][node] for c in consumers if node in sent[id(c)]]
            parts = [g if g.shape == value.shape else g.reshape(value.shape) for g in parts]
            if not consumers:
                parts.append(fg.from_numpy(output_seed(node, value._data)))
            upstream = sum_parts(parts)
            mine: dict[Node, fg.Tensor] = {}
            if isinstance(node, OpNode):
                leaves, output = local[id(node)]
                values = [out[id(inbound)]._data for inbound in node.inbound_nodes]
                mine = input_gradients(node, leaves, output, upstream, values, retain_graph=False)
            sent[id(node)] = mine
            grads.append([upstream, *mine.values()])
        grads.reverse()
        return [out[id(n)] for n in graph], grads

    return inputs, fg.compile(passes)


def run_compiled(graph: list[Node], stamp: int) -> None:
    """Fill every node's ``value`` and ``gradients`` as the node-by-node passes would."""
    cache = graph[-1].__dict__.setdefault("_flow_compiled", {})
    key = tuple(id(n) for n in graph)
    entry = cache.get(key)
    if entry is None or any(a is not b for a, b in zip(entry[2], graph)):
        inputs, step = _graph_function(graph)
        entry = cache[key] = (inputs, step, list(graph))
    inputs, step = entry[0], entry[1]
    values, grads = step(*[np.asarray(n.value) for n in inputs])
    for node, value, received in zip(graph, values, grads):
        node._run_stamp = stamp
        if type(node) is not Input:
            data = value._data
            node.value = data[()] if data.ndim == 0 else data  # 0-d: a NumPy scalar, as eager gives
        gradients: dict[Node, Any] = {node: received[0]._data}
        distinct = {id(n): n for n in node.inbound_nodes}.values()  # in first-use order, as `mine` was
        for inbound, g in zip(distinct, received[1:]):
            gradients[inbound] = g._data
        node.gradients = gradients
