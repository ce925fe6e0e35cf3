"""Every built-in graph node's gradients: against central differences, and identical to eager mode."""

import numpy as np
import pytest

import flowgrad as fg
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
    forward_pass,
    topological_sort,
)

pytestmark = pytest.mark.numeric  # rounding-dependent: run again on other kernels by make test

rng = np.random.default_rng(1234)


def away_from_zero(shape):
    """Values at least 0.1 from 0, so ReLU's kink stays out of the central differences."""
    values = rng.uniform(0.1, 1.0, shape)
    return values * rng.choice([-1.0, 1.0], shape)


# name: (node class, input arrays, extra kwargs, the same expression on eager tensors)
CASES = {
    "Add": (
        Add,
        [rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal((3, 1))],
        {},
        lambda a, b, c: a + b + c,
    ),
    "Mul": (
        Mul,
        [rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal((3, 1))],
        {},
        lambda a, b, c: a * b * c,
    ),
    "Linear": (
        Linear,
        [rng.standard_normal((5, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)],
        {},
        lambda X, W, b: fg.matmul(X, W) + b,
    ),
    "MatMul": (MatMul, [rng.standard_normal((2, 3)), rng.standard_normal((3, 4))], {}, lambda a, b: fg.matmul(a, b)),
    "Sigmoid": (Sigmoid, [rng.standard_normal((3, 2)) * 3], {}, fg.sigmoid),
    "ReLU": (ReLU, [away_from_zero((4, 3))], {}, fg.relu),
    "Tanh": (Tanh, [rng.standard_normal((3, 3))], {}, fg.tanh),
    "MSE": (
        MSE,
        [rng.standard_normal(6), rng.standard_normal((6, 1))],
        {},
        lambda y, a: fg.mean(fg.square(y.reshape(-1, 1) - a.reshape(-1, 1))),
    ),
    "SoftmaxCrossEntropy": (
        SoftmaxCrossEntropy,
        [rng.standard_normal((4, 3)), np.array([0, 2, 1, 2])],
        {},
        lambda z, labels: -fg.mean(fg.log_softmax(z, dim=-1)[np.arange(4), labels.numpy()]),
    ),
    "Sum": (Sum, [rng.standard_normal((2, 3))], {}, fg.sum),
    "Sum(axis=0)": (Sum, [rng.standard_normal((2, 3))], {"axis": 0}, lambda x: fg.sum(x, axis=0)),
}


class WeightedSum(Node):
    """cost = sum(weights * value), in NumPy: a fixed, known upstream gradient for the node under test."""

    def __init__(self, node, weights):
        Node.__init__(self, [node])
        self.weights = weights

    def forward(self):
        self.value = float(np.sum(self.weights * self.inbound_nodes[0].value))

    def backward(self):
        node = self.inbound_nodes[0]
        self.gradients = {node: self.weights * np.ones(np.shape(node.value))}


def build(name):
    cls, arrays, kwargs, _ = CASES[name]
    inputs = [Input(f"in{i}") for i in range(len(arrays))]
    node = cls(*inputs, **kwargs)
    feed = {inp: arr.copy() for inp, arr in zip(inputs, arrays)}
    graph = topological_sort(feed)
    forward_pass(node, graph)
    weights = rng.standard_normal(np.shape(node.value))
    cost = WeightedSum(node, weights)
    return inputs, node, cost, topological_sort(feed)


def differentiable(inputs):
    return [inp for inp in inputs if np.asarray(inp.value).dtype.kind == "f"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_match_central_differences(name):
    inputs, node, cost, graph = build(name)
    forward_and_backward(graph)
    eps = 1e-6
    for inp in differentiable(inputs):
        analytic = inp.gradients[inp]
        numeric = np.zeros_like(analytic)
        flat, out = inp.value.reshape(-1), numeric.reshape(-1)
        for i in range(flat.size):
            original = flat[i]
            flat[i] = original + eps
            plus = forward_pass(cost, graph)
            flat[i] = original - eps
            minus = forward_pass(cost, graph)
            flat[i] = original
            out[i] = (plus - minus) / (2 * eps)
        np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8, err_msg=f"{name}: {inp.name}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_are_identical_to_eager_mode(name):
    inputs, node, cost, graph = build(name)
    forward_and_backward(graph)
    expression = CASES[name][3]
    leaves = [fg.from_numpy(np.asarray(inp.value).copy()) for inp in inputs]
    for leaf in leaves:
        if leaf.dtype.kind == "f":
            leaf.requires_grad_()
    out = expression(*leaves)
    assert np.array_equal(out.data, node.value)
    wanted = [i for i, leaf in enumerate(leaves) if leaf.requires_grad]
    eager = fg.autograd.grad(out, [leaves[i] for i in wanted], grad_outputs=node.gradients[node])
    for i, grad in zip(wanted, eager):
        inp = inputs[i]
        assert np.array_equal(node.gradients[inp], grad.numpy()), f"{name}: {inp.name}"
        assert np.array_equal(inp.gradients[inp], grad.numpy())


def test_integer_inputs_get_float_gradients():
    x, w = Input("x"), Input("w")
    cost = Sum(Mul(x, w))
    forward_and_backward(topological_sort({x: np.array([1, 2, 3]), w: np.array([2.0, 0.5, -1.0])}))
    assert cost.value == 0.0
    assert x.gradients[x].dtype == np.float64 and x.gradients[x].tolist() == [2.0, 0.5, -1.0]
    assert w.gradients[w].tolist() == [1.0, 2.0, 3.0]


def test_an_all_integer_graph_keeps_integer_values_and_still_has_gradients():
    x, y = Input("x"), Input("y")
    f = Mul(x, y)
    forward_and_backward(topological_sort({x: 4, y: 5}))
    assert f.value == 20 and f.value.dtype == np.int64
    assert x.gradients[x] == 5.0 and y.gradients[y] == 4.0
