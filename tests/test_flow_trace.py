"""Seeing inside a graph: traces (records and table) and DOT pictures of flow graphs."""

import numpy as np
import pytest

import flowgrad as fg
from flowgrad.flow import (
    MSE,
    Add,
    Input,
    Linear,
    Sigmoid,
    Sum,
    forward_and_backward,
    forward_pass,
    sgd_update,
    to_dot,
    topological_sort,
)


def tutorial_graph():
    X, y, W1, b = Input("X"), Input("y"), Input("W1"), Input("b")
    lin = Linear(X, W1, b, name="lin")
    act = Sigmoid(lin, name="act")
    cost = MSE(y, act, name="cost")
    feed = {
        X: np.array([[-1.0, -2.0], [-1, -2]]),
        y: np.array([1, 2]),
        W1: np.array([[2.0], [3.0]]),
        b: np.array([-3.0]),
    }
    return (X, y, W1, b), cost, topological_sort(feed)


def by_name(records, phase, name):
    (record,) = [r for r in records if r["phase"] == phase and r["name"] == name]
    return record


# ----- traces -------------------------------------------------------------------------------
@pytest.mark.numeric  # rounding-dependent: run again on other kernels
def test_forward_records_name_kind_inputs_and_value():
    _, cost, graph = tutorial_graph()
    records = forward_and_backward(graph, trace=True).to_records()
    assert [(r["phase"], r["name"]) for r in records[:7]] == [
        ("forward", n) for n in ["X", "y", "W1", "b", "lin", "act", "cost"]
    ]
    lin = by_name(records, "forward", "lin")
    assert lin["kind"] == "Linear" and lin["inputs"] == ["X", "W1", "b"]
    assert lin["shape"] == (2, 1) and lin["dtype"] == "float64" and lin["value"] == [[-11.0], [-11.0]]
    assert lin["run"] == 1 and lin["step"] == 5
    cost_record = by_name(records, "forward", "cost")
    assert cost_record["value"] == 2.4999498960133932 and cost_record["summary"] == "2.4999498960133932"


def test_backward_records_what_each_node_received_and_the_sum():
    (X, y, W1, b), cost, graph = tutorial_graph()
    records = forward_and_backward(graph, trace=True).to_records()
    backward = [r["name"] for r in records if r["phase"] == "backward"]
    assert backward == ["cost", "act", "lin", "b", "W1", "y", "X"]
    seed = by_name(records, "backward", "cost")
    assert seed["received"][0]["from"] is None and seed["value"] == 1.0
    act = by_name(records, "backward", "act")
    assert [p["from"] for p in act["received"]] == ["cost"]
    np.testing.assert_allclose(act["value"], [[-0.9999833], [-1.9999833]], rtol=1e-7)
    w = by_name(records, "backward", "W1")
    assert w["received"][0]["from"] == "lin"
    assert np.array_equal(np.array(w["value"]), W1.gradients[W1])


def test_a_node_with_two_consumers_records_both_and_their_sum():
    x = Input("x")
    cost = Sum(Add(Sigmoid(x, name="s1"), Sigmoid(x, name="s2"), name="both"), name="cost")
    trace = forward_and_backward(topological_sort({x: np.zeros(2)}), trace=True)
    record = by_name(trace.to_records(), "backward", "x")
    assert sorted(p["from"] for p in record["received"]) == ["s1", "s2"]
    assert [p["value"] for p in record["received"]] == [[0.25, 0.25], [0.25, 0.25]]
    assert record["value"] == [0.5, 0.5] and record["norm"] == pytest.approx(np.sqrt(0.5))
    table = str(trace)
    assert "= sum" in table and "(output seed)" in table
    assert cost.value == 2.0


def test_large_values_are_summarized_not_kept():
    x = Input("x")
    Sum(Sigmoid(x, name="s"))
    records = forward_and_backward(topological_sort({x: np.zeros((10, 10))}), trace=True).to_records()
    record = by_name(records, "forward", "s")
    assert record["value"] is None and record["shape"] == (10, 10)
    assert record["summary"] == "mean 0.5, std 0, min 0.5, max 0.5"


def test_printed_trace_is_a_readable_table():
    _, cost, graph = tutorial_graph()
    text = str(forward_and_backward(graph, trace=True))
    lines = text.splitlines()
    assert lines[0] == "run 1, forward"
    assert lines[1].split() == ["step", "node", "kind", "inputs", "shape", "dtype", "value"]
    assert lines[6].split()[:6] == ["5", "lin", "Linear", "X,", "W1,", "b"]
    assert "run 1, backward" in lines
    assert any(line.split()[:4] == ["9", "act", "Sigmoid", "cost"] for line in lines)


def test_traces_never_change_results():
    (X, y, W1, b), cost, graph = tutorial_graph()
    forward_and_backward(graph)
    plain = {n.name: n.gradients[n].copy() for n in (X, y, W1, b)}
    plain_cost = cost.value
    trace = forward_and_backward(graph, trace=True)
    assert cost.value == plain_cost
    for n in (X, y, W1, b):
        assert np.array_equal(n.gradients[n], plain[n.name])
    # What the trace holds are copies: updating the weights leaves the record alone.
    before = by_name(trace.to_records(), "forward", "W1")["value"]
    sgd_update([W1], learning_rate=100.0)
    assert by_name(trace.to_records(), "forward", "W1")["value"] == before == [[2.0], [3.0]]


def test_trace_context_records_several_runs():
    (X, y, W1, b), cost, graph = tutorial_graph()
    with fg.flow.trace() as trace:
        forward_and_backward(graph)
        sgd_update([W1, b])
        forward_pass(cost, graph)
    assert trace.runs == 2
    records = trace.to_records()
    assert [r["run"] for r in records].count(1) == 14 and [r["run"] for r in records].count(2) == 7
    assert "run 2, forward" in str(trace) and "run 2, backward" not in str(trace)
    forward_and_backward(graph)  # outside the block: not recorded
    assert len(trace) == 21
    assert repr(trace) == "<Trace: 21 records from 2 run(s)>"


def test_no_trace_returns_none():
    _, _, graph = tutorial_graph()
    assert forward_and_backward(graph) is None


# ----- DOT pictures of flow graphs ------------------------------------------------------------
def test_dot_shows_names_kinds_shapes_and_edges():
    _, cost, graph = tutorial_graph()
    assert 'label="lin\\nLinear\\nno value"' in to_dot(graph)
    forward_pass(cost, graph)
    text = to_dot(graph)
    assert text.startswith("digraph flow {") and text.endswith("}")
    assert 'n4 [label="lin\\nLinear\\n(2, 1)", shape=box];' in text
    assert 'n0 [label="X\\nInput\\n(2, 2)", shape=ellipse' in text
    assert 'n6 [label="cost\\nMSE\\n()", shape=box, style=bold];' in text
    for edge in ["n0 -> n4;", "n2 -> n4;", "n3 -> n4;", "n4 -> n5;", "n1 -> n6;", "n5 -> n6;"]:
        assert edge in text
    assert "grad norm" not in text  # no backward pass yet


def test_dot_shows_gradient_norms_after_backward():
    (X, y, W1, b), cost, graph = tutorial_graph()
    forward_and_backward(graph)
    text = to_dot(cost)  # from the output node: everything it depends on
    norm = np.linalg.norm(W1.gradients[W1])
    assert f"W1\\nInput\\n(2, 1)\\ngrad norm {norm:.4g}" in text
    assert "cost\\nMSE\\n()\\ngrad norm 1" in text
    assert text.count("->") == 6


def test_dot_of_an_output_leaves_out_other_branches():
    x = Input("x")
    left = Sigmoid(x, name="left")
    Sigmoid(x, name="right")
    text = to_dot(left)
    assert "left" in text and "right" not in text


def test_dot_quotes_names():
    x = Input('say "hi"')
    text = to_dot(Sigmoid(x, name="s"))
    assert 'label="say \\"hi\\"\\nInput' in text
