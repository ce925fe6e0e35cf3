"""Graph mode through fg.compile: the same values and gradients, to the last bit, as node by node."""

import numpy as np
import pytest

from flowgrad.flow import (
    MSE,
    Add,
    Input,
    Linear,
    MatMul,
    Mul,
    Node,
    ReLU,
    Sigmoid,
    SoftmaxCrossEntropy,
    Sum,
    Tanh,
    forward_and_backward,
    sgd_update,
    topological_sort,
)
from flowgrad.flow.compiled import compilable


def housing_graph(seed: int, batch: int = 11):
    rng = np.random.default_rng(seed)
    X, y, W1, b1, W2, b2 = (Input(n) for n in ("X", "y", "W1", "b1", "W2", "b2"))
    cost = MSE(y, Linear(Sigmoid(Linear(X, W1, b1)), W2, b2))
    feed = {
        X: rng.standard_normal((batch, 13)),
        y: rng.standard_normal(batch),
        W1: rng.standard_normal((13, 10)),
        b1: np.zeros(10),
        W2: rng.standard_normal((10, 1)),
        b2: np.zeros(1),
    }
    return topological_sort(feed), [W1, b1, W2, b2], cost


def snapshot(graph):
    """Every node's value and gradients, as bytes, by position (names differ between builds)."""
    return [
        (np.asarray(n.value).tobytes(), [(graph.index(k), np.asarray(v).tobytes()) for k, v in n.gradients.items()])
        for n in graph
    ]


def test_training_compiled_is_bit_identical_to_node_by_node():
    runs = []
    for compile_ in (False, None):
        graph, trainables, cost = housing_graph(0)
        for _ in range(5):
            forward_and_backward(graph, compile=compile_)
            sgd_update(trainables, learning_rate=1e-2)
        runs.append(snapshot(graph))
    assert runs[0] == runs[1]
    step = next(iter(graph[-1]._flow_compiled.values()))[1]
    assert step.traces == 1  # five steps, one trace


def test_new_batch_size_traces_again_and_stays_right():
    graph, _, _ = housing_graph(1)
    forward_and_backward(graph)
    X, y = graph[0], graph[1]
    X.value, y.value = np.ones((4, 13)), np.zeros(4)
    forward_and_backward(graph)
    compiled = snapshot(graph)
    forward_and_backward(graph, compile=False)
    assert snapshot(graph) == compiled
    assert graph[-1].gradients[graph[-2]].shape == (4, 1)


def shared_graph():
    x, w = Input("x"), Input("w")
    a = Add(x, x, w)  # x twice: its gradient from a is the sum of both uses
    m = Mul(a, Tanh(x))
    r = ReLU(MatMul(m, w))
    cost = Sum(Add(Sum(r, axis=0), Sum(m)))
    rng = np.random.default_rng(2)
    return topological_sort({x: rng.standard_normal((3, 3)), w: rng.standard_normal((3, 3))}), cost


def test_shared_inputs_axes_and_scalars_match_node_by_node():
    graph, cost = shared_graph()
    forward_and_backward(graph)
    compiled = snapshot(graph)
    assert compilable(graph)
    forward_and_backward(graph, compile=False)
    assert snapshot(graph) == compiled
    assert np.ndim(cost.value) == 0 and isinstance(cost.value, np.floating)


class Double(Node):
    def __init__(self, x):
        Node.__init__(self, [x])

    def forward(self):
        self.value = 2 * self.inbound_nodes[0].value

    def backward(self):
        self.gradients = {self.inbound_nodes[0]: 2 * self.outbound_nodes[0].gradients[self]}


@pytest.mark.parametrize(
    "case",
    ["own node", "integer input", "labels", "trace"],
)
def test_what_runs_node_by_node(case):
    x = Input("x")
    if case == "own node":
        graph = topological_sort({x: np.ones(3)})
        cost = Sum(Double(x))
        graph = topological_sort({x: np.ones(3)})
        assert not compilable(graph)
        forward_and_backward(graph)
        np.testing.assert_array_equal(x.gradients[x], [2.0, 2.0, 2.0])
    elif case == "integer input":
        y = Input("y")
        cost = Mul(x, y)
        graph = topological_sort({x: 4, y: 5})
        assert not compilable(graph)
        forward_and_backward(graph)
        assert cost.value == 20 and x.gradients[x] == 5.0
    elif case == "labels":
        labels = Input("labels")
        cost = SoftmaxCrossEntropy(x, labels)
        graph = topological_sort({x: np.zeros((2, 3)), labels: np.array([0, 2])})
        assert not compilable(graph)  # the labels pick rows: their values would be baked in
        forward_and_backward(graph)
        assert np.isclose(cost.value, np.log(3))
    else:
        cost = Sigmoid(x)
        graph = topological_sort({x: np.zeros(())})
        recorded = forward_and_backward(graph, trace=True)
        assert recorded is not None and "_flow_compiled" not in cost.__dict__
