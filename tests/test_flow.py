"""Graph mode (fg.flow): the MiniFlow tutorial's printed numbers, the API's behaviour and its errors."""

import numpy as np
import pytest

import flowgrad as fg
from flowgrad.flow import (
    MSE,
    Add,
    GraphError,
    Input,
    Linear,
    Mul,
    Node,
    Sigmoid,
    SoftmaxCrossEntropy,
    Sum,
    forward_and_backward,
    forward_pass,
    reset_default_names,
    sgd_update,
    topological_sort,
)
from flowgrad.flow import run as flow_run


# ----- the tutorial's printed numbers ------------------------------------------------------
def test_add_and_mul_of_python_numbers():
    x, y, z = Input("x"), Input("y"), Input("z")
    f, g = Add(x, y, z), Mul(x, y, z)
    feed_dict = {x: 4, y: 5, z: 10}
    graph = topological_sort(feed_dict)
    result = forward_pass(f, graph)
    assert result == 19
    printed = "{} + {} + {} = {} (according to miniflow)".format(*feed_dict.values(), result)  # noqa: UP032
    assert printed == "4 + 5 + 10 = 19 (according to miniflow)"
    assert forward_pass(g, graph) == 200 and str(g.value) == "200"


def test_linear_forward():
    X, W, b = Input("X"), Input("W"), Input("b")
    f = Linear(X, W, b)
    feed_dict = {X: np.array([[1.0, 2.0], [3.0, 4.0]]), W: np.array([[5.0, 6.0], [7.0, 8.0]]), b: np.array([-1.0, -1])}
    output = forward_pass(f, topological_sort(feed_dict))
    assert output.tolist() == [[18, 21], [42, 49]]


@pytest.mark.numeric  # rounding-dependent: run again on other kernels
def test_sigmoid_forward():
    X, W, b = Input("X"), Input("W"), Input("b")
    g = Sigmoid(Linear(X, W, b))
    feed_dict = {X: np.array([[-1.0, -2.0], [-1, -2]]), W: np.array([[2.0, -3], [2.0, -3]]), b: np.array([-3.0, -5])}
    output = forward_pass(g, topological_sort(feed_dict))
    expected = np.array([[1.23394576e-04, 9.82013790e-01], [1.23394576e-04, 9.82013790e-01]])
    np.testing.assert_allclose(output, expected, rtol=1e-8)


def test_mse_forward():
    y, a = Input("y"), Input("a")
    cost = MSE(y, a)
    forward_pass(cost, topological_sort({y: np.array([1, 2, 3]), a: np.array([4.5, 5, 10])}))
    assert cost.value == 23.416666666666668
    assert str(cost.value) == "23.416666666666668"


def tutorial_backward_graph():
    X, y, W1, b = Input("X"), Input("y"), Input("W1"), Input("b")
    f1 = Linear(X, W1, b)
    activation_output = Sigmoid(f1)
    cost = MSE(y, activation_output)
    feed_dict = {
        X: np.array([[-1.0, -2.0], [-1, -2]]),
        y: np.array([1, 2]),
        W1: np.array([[2.0], [3.0]]),
        b: np.array([-3.0]),
    }
    return (X, y, W1, b), cost, topological_sort(feed_dict)


@pytest.mark.numeric  # rounding-dependent: run again on other kernels
def test_backward_case_matches_the_tutorials_expected_output():
    (X, y, W1, b), cost, graph = tutorial_backward_graph()
    forward_and_backward(graph)
    # Exact on any CPU: the cost is mean((y - a)**2) with a = sigmoid(-11) ~ 1.7e-5, so an ulp
    # of exp moves a by ~1e-21, far below half an ulp of the cost (2.2e-16); checked with exp
    # moved by 20 ulps.
    assert cost.value == 2.4999498960133932
    gradients = [t.gradients[t] for t in [X, y, W1, b]]
    expected = [  # "Expected output for case 1" in the tutorial
        np.array([[-3.34017280e-05, -5.01025919e-05], [-6.68040138e-05, -1.00206021e-04]]),
        np.array([[0.9999833], [1.9999833]]),
        np.array([[5.01028709e-05], [1.00205742e-04]]),
        np.array([-5.01028709e-05]),
    ]
    for node, got, want in zip([X, y, W1, b], gradients, expected):
        assert got.shape == np.shape(node.value)  # y's gradient has y's shape (2,), not MiniFlow's (2, 1)
        np.testing.assert_allclose(got.reshape(want.shape), want, rtol=2e-7)


# ----- the API ------------------------------------------------------------------------------
def test_nodes_know_their_neighbours_and_have_readable_names():
    reset_default_names()
    X, W, b = Input(), Input(), Input()
    lin = Linear(X, W, b)
    s = Sigmoid(lin, name="hidden")
    assert [X.name, W.name, b.name, lin.name, s.name] == ["Input_1", "Input_2", "Input_3", "Linear_1", "hidden"]
    assert lin.inbound_nodes == [X, W, b] and X.outbound_nodes == [lin] and lin.outbound_nodes == [s]
    assert s.value is None and s.gradients == {}
    assert "Linear_1" in repr(lin)


def test_gradients_hold_every_inbound_node_and_the_node_itself():
    (X, y, W1, b), cost, graph = tutorial_backward_graph()
    forward_and_backward(graph)
    lin = X.outbound_nodes[0]
    assert set(lin.gradients) == {X, W1, b, lin}
    for node, grad in lin.gradients.items():
        assert isinstance(grad, np.ndarray) and grad.shape == np.shape(node.value)
    assert cost.gradients[cost] == 1.0


def test_topological_sort_orders_nodes_and_sets_input_values():
    x, y, z = Input("x"), Input("y"), Input("z")
    s = Add(x, y, name="s")
    t = Mul(s, z, name="t")
    graph = topological_sort({z: 3.0, x: 1.0, y: 2.0})
    assert [n.name for n in graph] == ["z", "x", "y", "s", "t"]
    assert (x.value, y.value, z.value) == (1.0, 2.0, 3.0)
    assert forward_pass(t, graph) == 9.0


def test_a_node_used_twice_gets_both_gradients():
    x = Input("x")
    double = Add(x, x)
    square = Mul(x, x)
    cost = Sum(Add(double, square))
    forward_and_backward(topological_sort({x: np.array([3.0])}))
    assert x.outbound_nodes == [double, square]
    assert x.gradients[x].tolist() == [2.0 + 6.0]
    assert cost.value == 15.0


def test_the_static_graph_runs_again_with_new_values_without_sorting_or_new_nodes(monkeypatch):
    (X, y, W1, b), cost, graph = tutorial_backward_graph()
    forward_and_backward(graph)
    first = cost.value
    created = []
    original_init = Node.__init__

    def counting_init(self, *args, **kwargs):
        created.append(self)
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(Node, "__init__", counting_init)
    monkeypatch.setattr(flow_run, "topological_sort", lambda *a: pytest.fail("re-sorted"))
    before = list(graph)
    X.value = np.array([[1.0, 0.5], [0.0, 2.0]])
    forward_and_backward(graph)
    assert created == [] and graph == before
    assert cost.value != first
    # The same numbers as a graph built afresh for the new values.
    monkeypatch.undo()
    (X2, y2, W2, b2), cost2, graph2 = tutorial_backward_graph()
    X2.value = X.value
    forward_and_backward(graph2)
    assert cost2.value == cost.value
    assert np.array_equal(W2.gradients[W2], W1.gradients[W1])


def test_sgd_update_changes_the_fed_arrays_in_place():
    (X, y, W1, b), cost, graph = tutorial_backward_graph()
    W1_array = W1.value
    forward_and_backward(graph)
    expected = W1_array - 0.5 * W1.gradients[W1]
    sgd_update([W1, b], learning_rate=0.5)
    assert W1.value is W1_array and np.array_equal(W1_array, expected)


def test_sgd_update_of_a_python_number_rebinds_it():
    w = Input("w")
    cost = Mul(w, w)
    forward_and_backward(topological_sort({w: 3.0}))
    sgd_update([w], learning_rate=0.1)
    assert w.value == pytest.approx(3.0 - 0.1 * 6.0)
    assert cost.value == 9.0


def test_float32_inputs_give_float32_values_and_gradients():
    X, W, b = Input("X"), Input("W"), Input("b")
    cost = Sum(Sigmoid(Linear(X, W, b)))
    feed = {X: np.ones((3, 2), np.float32), W: np.ones((2, 4), np.float32), b: np.zeros(4, np.float32)}
    forward_and_backward(topological_sort(feed))
    assert cost.value.dtype == np.float32 and W.gradients[W].dtype == np.float32


def test_softmax_cross_entropy_with_integer_labels():
    logits, labels = Input("logits"), Input("labels")
    cost = SoftmaxCrossEntropy(logits, labels)
    z = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
    forward_and_backward(topological_sort({logits: z, labels: np.array([0, 1])}))
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    assert cost.value == pytest.approx(-np.mean(np.log(p[[0, 1], [0, 1]])))
    np.testing.assert_allclose(logits.gradients[logits], (p - np.eye(3)[[0, 1]]) / 2, rtol=1e-12)
    assert labels.gradients[labels].tolist() == [0.0, 0.0]


def test_an_output_that_is_not_the_cost_gets_no_gradient_seed():
    x = Input("x")
    hidden = Sigmoid(x)
    cost = Sum(hidden)
    prediction = Mul(hidden, hidden, name="prediction")  # a second head, not a single value
    forward_and_backward(topological_sort({x: np.zeros(2)}))
    assert prediction.gradients[prediction].tolist() == [0.0, 0.0]
    assert x.gradients[x].tolist() == [0.25, 0.25]
    assert cost.value == 1.0


def test_nodes_built_after_sorting_do_not_leak_into_its_backward_pass():
    x = Input("x")
    hidden = Sigmoid(x)
    Sum(hidden)
    graph = topological_sort({x: np.zeros(2)})
    extra = Sum(hidden, name="extra")  # not in graph
    extra.gradients = {hidden: np.array([100.0, 100.0])}  # stale numbers from elsewhere
    forward_and_backward(graph)
    assert x.gradients[x].tolist() == [0.25, 0.25]


# ----- a learner's own Node subclass, MiniFlow style -----------------------------------------
class TutorialLinear(Node):
    """The tutorial's Linear, written with NumPy as learners write it."""

    def __init__(self, X, W, b):
        Node.__init__(self, [X, W, b])
        self.name = "Linear_OP"

    def forward(self):
        X, W, b = (n.value for n in self.inbound_nodes)
        self.value = np.dot(X, W) + b

    def backward(self):
        X, W, b = self.inbound_nodes
        self.gradients = {n: np.zeros_like(n.value) for n in self.inbound_nodes}
        for n in self.outbound_nodes:
            grad_cost = n.gradients[self]
            self.gradients[X] += np.dot(grad_cost, W.value.T)
            self.gradients[W] += np.dot(X.value.T, grad_cost)
            self.gradients[b] += np.sum(grad_cost, axis=0, keepdims=False)


def test_a_custom_node_runs_beside_built_in_ones_and_gives_the_same_gradients():
    (X, y, W1, b), cost, graph = tutorial_backward_graph()
    forward_and_backward(graph)
    X2, y2, W2, b2 = Input("X"), Input("y"), Input("W1"), Input("b")
    cost2 = MSE(y2, Sigmoid(TutorialLinear(X2, W2, b2)))
    forward_and_backward(topological_sort({X2: X.value, y2: y.value, W2: W1.value.copy(), b2: b.value.copy()}))
    assert cost2.value == cost.value
    for mine, theirs in [(X, X2), (W1, W2), (b, b2), (y, y2)]:
        np.testing.assert_allclose(theirs.gradients[theirs], mine.gradients[mine], rtol=1e-12)


@pytest.mark.numeric  # rounding-dependent: run again on other kernels
def test_a_custom_node_trains_in_a_graph():
    rng = np.random.default_rng(0)
    data = rng.standard_normal((64, 3))
    target = data @ np.array([1.0, -2.0, 0.5]) + 0.3
    X, y, W, b = Input("X"), Input("y"), Input("W"), Input("b")
    cost = MSE(y, TutorialLinear(X, W, b))
    graph = topological_sort({X: data, y: target, W: np.zeros((3, 1)), b: np.zeros(1)})
    losses = []
    for _ in range(200):
        forward_and_backward(graph)
        sgd_update([W, b], learning_rate=0.1)
        losses.append(float(cost.value))
    assert losses[0] > 1.0 and losses[-1] < 1e-6
    np.testing.assert_allclose(W.value.ravel(), [1.0, -2.0, 0.5], atol=1e-3)


# ----- bad input ------------------------------------------------------------------------------
def test_wrong_shape_names_the_node_and_both_shapes():
    reset_default_names()
    X, W, b = Input("X"), Input("W"), Input("b")
    Linear(X, W, b)
    graph = topological_sort({X: np.ones((11, 12)), W: np.ones((13, 10)), b: np.zeros(10)})
    with pytest.raises(fg.ShapeError, match=r"Linear_1: X \(11, 12\) @ W \(13, 10\)") as info:
        forward_and_backward(graph)
    assert isinstance(info.value, ValueError)


def test_a_bias_that_does_not_broadcast_names_the_node_and_the_inputs():
    X, W, b = Input("X"), Input("W"), Input("b")
    lin = Linear(X, W, b, name="layer")
    graph = topological_sort({X: np.ones((4, 2)), W: np.ones((2, 3)), b: np.zeros(5)})
    with pytest.raises(fg.ShapeError, match=r"layer \(X \(4, 2\) float64, W \(2, 3\) float64, b \(5,\) float64\)"):
        forward_pass(lin, graph)


def test_mse_of_different_sizes_is_a_shape_error():
    y, a = Input("y"), Input("a")
    cost = MSE(y, a, name="cost")
    with pytest.raises(fg.ShapeError, match=r"cost: y \(3,\) and a \(4, 1\) hold 3 and 4 values"):
        forward_pass(cost, topological_sort({y: np.ones(3), a: np.ones((4, 1))}))


def test_a_missing_feed_names_the_input():
    X, W, b = Input("X"), Input("W"), Input("b")
    Linear(X, W, b, name="layer")
    with pytest.raises(GraphError, match="input b was never fed, and layer needs it"):
        topological_sort({X: np.ones((2, 2)), W: np.ones((2, 2))})


def test_a_non_numeric_feed_is_a_type_error():
    x = Input("x")
    s = Sigmoid(x, name="s")
    with pytest.raises(fg.DTypeError, match="x was fed a str") as info:
        topological_sort({x: "hello"})
    assert isinstance(info.value, TypeError)
    graph = topological_sort({x: 1.0})
    x.value = {"not": "numbers"}
    with pytest.raises(fg.DTypeError, match="s: input x holds a dict"):
        forward_pass(s, graph)


def test_an_input_without_a_value_names_it():
    x = Input("x")
    s = Sigmoid(x, name="s")
    graph = topological_sort({x: 1.0})
    x.value = None
    with pytest.raises(GraphError, match="s: its input x has no value"):
        forward_pass(s, graph)


def test_a_cycle_is_named():
    x = Input("x")
    a = Add(x, name="a")
    b = Sigmoid(a, name="b")
    a.inbound_nodes.append(b)  # wire b back into a: a cycle
    b.outbound_nodes.append(a)
    with pytest.raises(GraphError, match=r"cycle: (a -> b -> a|b -> a -> b)"):
        topological_sort({x: 1.0})


def test_only_inputs_and_nodes_are_accepted():
    x = Input("x")
    with pytest.raises(TypeError, match=r"input 1 is a ndarray, not a Node"):
        Add(x, np.ones(2))
    with pytest.raises(TypeError, match="keys must be Input nodes"):
        topological_sort({Sigmoid(x): 1.0})
    with pytest.raises(TypeError, match="at least one input"):
        Add()


def test_labels_must_be_integers_in_range():
    logits, labels = Input("logits"), Input("labels")
    cost = SoftmaxCrossEntropy(logits, labels, name="xent")
    graph = topological_sort({logits: np.zeros((2, 3)), labels: np.array([0.0, 1.0])})
    with pytest.raises(fg.DTypeError, match="xent: labels labels must be integer class indices"):
        forward_pass(cost, graph)
    labels.value = np.array([0, 3])
    with pytest.raises(fg.ShapeError, match=r"must lie in \[0, 3\)"):
        forward_pass(cost, graph)


def test_a_custom_backward_that_forgets_a_gradient_is_named():
    class Forgetful(Node):
        def __init__(self, x):
            Node.__init__(self, [x])

        def forward(self):
            self.value = np.sum(self.inbound_nodes[0].value)

        def backward(self):
            self.gradients = {}

    x = Input("x")
    hidden = Sigmoid(x, name="hidden")
    Forgetful(hidden).name = "forgetful"
    with pytest.raises(GraphError, match="hidden: its outbound node forgetful gave no gradient for it"):
        forward_and_backward(topological_sort({x: np.zeros(2)}))


def test_run_errors_say_what_to_do():
    x = Input("x")
    s = Sigmoid(x)
    with pytest.raises(GraphError, match="not among the sorted nodes"):
        forward_pass(s, [x])
    with pytest.raises(GraphError, match="no gradient yet"):
        sgd_update([x])
    with pytest.raises(NotImplementedError, match="must set self.value"):
        Node().forward()


class TutorialInput(Node):
    """The tutorial's own Input class, kept by a learner who only changed the other imports."""

    def __init__(self, name="Input"):
        Node.__init__(self)
        self.name = name

    def forward(self, value=None):
        if value is not None:
            self.value = value

    def backward(self):
        self.gradients = {self: 0}
        for n in self.outbound_nodes:
            self.gradients[self] += n.gradients[self] * 1


def test_a_learners_own_input_class_can_be_fed_and_trained():
    (X, y, W1, b), cost, graph = tutorial_backward_graph()
    forward_and_backward(graph)
    X2, y2, W2, b2 = (TutorialInput(n) for n in ["X", "y", "W1", "b"])
    cost2 = MSE(y2, Sigmoid(Linear(X2, W2, b2)))
    graph2 = topological_sort({X2: X.value, y2: y.value, W2: W1.value.copy(), b2: b.value.copy()})
    forward_and_backward(graph2)
    assert cost2.value == cost.value
    assert np.array_equal(W2.gradients[W2], W1.gradients[W1])
    sgd_update([W2, b2])
    assert np.array_equal(W2.value, W1.value - 1e-2 * W1.gradients[W1])
