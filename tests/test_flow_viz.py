"""Pictures: fg.viz.graph of eager results, and drawing DOT text with Graphviz (real, fake or missing)."""

import os
import shutil
import stat
import sys

import numpy as np
import pytest

import flowgrad as fg
from flowgrad.flow import Input, Sigmoid, forward_and_backward, topological_sort
from flowgrad.viz import GraphvizNotFoundError


def two_layer():
    fg.manual_seed(0)
    x = fg.randn(5, 3)
    w1 = fg.randn(3, 4, requires_grad=True)
    w2 = fg.randn(4, 1, requires_grad=True)
    loss = (fg.relu(x @ w1) @ w2).sum()
    return x, w1, w2, loss


# ----- the eager graph behind a result ----------------------------------------------------------
def test_eager_graph_shows_ops_shapes_and_leaves():
    x, w1, w2, loss = two_layer()
    text = fg.viz.graph(loss, params={"w1": w1, "w2": w2, "x": x})
    assert text.startswith("digraph eager {") and text.endswith("}")
    assert 't0 [label="SumBackward\\n()", shape=box, style="filled,bold"' in text  # the output
    assert 'label="MatmulBackward\\n(5, 1)", shape=box]' in text
    assert 'label="ReluBackward\\n(5, 4)", shape=box]' in text
    assert 'label="w1\\n(3, 4)\\nfloat32\\nrequires_grad", shape=ellipse, style="filled", fillcolor="#c9e7c1"' in text
    assert 'label="x\\n(5, 3)\\nfloat32", shape=ellipse, style="filled", fillcolor="#e8e8e8"' in text
    assert text.count("->") == 6  # x, w1 -> matmul -> relu; relu, w2 -> matmul -> sum


def test_eager_graph_matches_grad_fn_and_walks_next_tensors():
    _, w1, _, loss = two_layer()
    text = fg.viz.graph(loss)
    assert loss.grad_fn.name() == "SumBackward"
    node = loss.grad_fn
    names = []
    while node is not None:  # along the first input of each op, as backward will
        names.append(node.name())
        node = node.next_tensors[0].grad_fn
    assert names == ["SumBackward", "MatmulBackward", "ReluBackward", "MatmulBackward"]
    for name in names:
        assert f'"{name}\\n' in text


def test_a_tensor_used_twice_appears_once_with_two_edges():
    w = fg.tensor([1.0, 2.0], requires_grad=True)
    text = fg.viz.graph((w * w).sum(), params={"w": w})
    assert text.count('label="w\\n') == 1
    assert text.count("t2 -> t1;") == 2


def test_settings_of_an_op_are_shown():
    w = fg.ones(2, 3, requires_grad=True)
    assert "axis=(1,)" in fg.viz.graph(w.sum(1))


def test_after_backward_the_picture_shows_grads_and_freed_ops():
    _, w1, w2, loss = two_layer()
    loss.backward()
    text = fg.viz.graph(loss, params={"w1": w1})
    assert "(freed by backward)" in text
    assert f"grad norm {np.linalg.norm(w1.grad.numpy()):.4g}" not in text  # freed: w1 is no longer reachable
    kept = (w2 * 2).sum()
    kept.backward(retain_graph=True)
    text = fg.viz.graph(kept, params={"w2": w2})
    assert "freed" not in text and f"grad norm {np.linalg.norm(w2.grad.numpy()):.4g}" in text


def test_a_deep_graph_needs_no_recursion():
    x = fg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    assert fg.viz.graph(y).count("->") == 5000


def test_graph_wants_tensors():
    with pytest.raises(fg.FlowgradError, match="not a flowgrad Tensor"):
        fg.viz.graph(np.ones(3))


# ----- drawing ------------------------------------------------------------------------------------
def flow_graph():
    x = Input("x")
    s = Sigmoid(x, name="s")
    graph = topological_sort({x: np.zeros(2)})
    forward_and_backward(graph)
    return s, graph


def test_dot_suffix_saves_the_text_without_graphviz(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    s, graph = flow_graph()
    path = fg.flow.render(graph, tmp_path / "graph.dot")
    assert path.read_text() == fg.flow.to_dot(graph)
    _, _, _, loss = two_layer()
    assert fg.viz.render(loss, tmp_path / "eager.gv").read_text() == fg.viz.graph(loss)


def test_without_graphviz_engine_dot_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    s, graph = flow_graph()
    with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz") as info:
        fg.flow.render(graph, tmp_path / "graph.svg", engine="dot")
    assert isinstance(info.value, fg.FlowgradError) and isinstance(info.value, RuntimeError)
    _, _, _, loss = two_layer()
    with pytest.raises(GraphvizNotFoundError, match="dot program"):
        fg.viz.render(loss, tmp_path / "graph.png", engine="dot")
    with pytest.raises(fg.FlowgradError, match="no suffix"):
        fg.flow.render(graph, tmp_path / "graph")


@pytest.mark.skipif(os.name != "posix", reason="a shell-script stand-in for dot")
def test_render_hands_the_dot_text_to_the_dot_program(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dot"
    # A stand-in for Graphviz: writes its arguments and the DOT text it was given to the output file.
    fake.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "out = sys.argv[sys.argv.index('-o') + 1]\n"
        "open(out, 'w').write(' '.join(sys.argv[1:2]) + '\\n' + sys.stdin.read())\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(bin_dir))
    s, graph = flow_graph()
    out = fg.flow.render(s, tmp_path / "graph.svg")
    fmt, _, text = out.read_text().partition("\n")
    assert fmt == "-Tsvg" and text == fg.flow.to_dot(s)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_render_with_graphviz(tmp_path):
    s, graph = flow_graph()
    svg = fg.flow.render(graph, tmp_path / "graph.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "Sigmoid" in svg
    _, _, _, loss = two_layer()
    png = fg.viz.render(loss, tmp_path / "eager.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_graphviz_errors_are_reported(tmp_path):
    s, graph = flow_graph()
    with pytest.raises(fg.FlowgradError, match="dot could not draw graph.nosuchformat"):
        fg.flow.render(graph, tmp_path / "graph.nosuchformat")


def test_values_and_signed_gradients_in_the_labels():
    from flowgrad.flow import Add, Input, Linear, Mul, forward_and_backward, to_dot, topological_sort
    from flowgrad.viz import numbers

    x, y, z = Input("x"), Input("y"), Input("z")
    g = Mul(Add(x, y, name="f"), z, name="g")
    graph = topological_sort({x: -4.0, y: 5.0, z: 10.0})
    before = to_dot(g, values=True, grads=True)
    assert "value -4" in before and "gradient" not in before  # no backward pass yet
    forward_and_backward(graph)
    text = to_dot(g, values=True, grads=True)
    assert "x\\nInput\\n()\\nvalue -4\\ngradient 10" in text  # dg/dx = z = 10
    assert 'z\\nInput\\n()\\nvalue 10\\ngradient 1"' in text  # dg/dz = f = -4 + 5
    assert "grad norm" not in text and "grad norm 10" in to_dot(g)  # the default keeps the norm
    # larger arrays: shape, first numbers, norm; never a number cut in the middle
    X, W, b = Input("X"), Input("W"), Input("b")
    out = Linear(X, W, b, name="out")
    forward_and_backward(topological_sort({X: np.arange(12.0).reshape(3, 4), W: np.ones((4, 2)), b: np.zeros(2)}))
    label = to_dot(out, values=True, grads=True)
    assert f"value {numbers(np.arange(12.0).reshape(3, 4))}" in label
    assert numbers(np.full(7, 1 / 3)) == "(7,): 0.3333, 0.3333, 0.3333, ... norm 0.8819"
