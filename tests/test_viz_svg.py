"""flowgrad's own graph renderer: the layout (layers, no overlaps, edges on borders), the SVG it
writes (well-formed, one box per node, the numbers in the text), PNG through matplotlib, and the
choice between it and Graphviz."""

import shutil
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import flowgrad as fg
from flowgrad.flow import Input, Linear, Sigmoid, forward_and_backward, topological_sort
from flowgrad.viz.layout import layout_graph

from .test_viz_record import xyz_step as xyz  # x=4, y=5, z=10, f=x+y, g=f*z, recorded

SVG = "{http://www.w3.org/2000/svg}"
HAS_DOT = shutil.which("dot") is not None


def node_groups(root):
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == "node"]


def text_of(group):
    return [t.text for t in group.iter(f"{SVG}tspan")]


def test_svg_is_well_formed_with_one_box_per_node_and_the_numbers():
    rec, (x, y, z, f, g) = xyz()
    root = ET.fromstring(rec.to_svg(values=True, grads=True))
    groups = node_groups(root)
    assert len(groups) == len(rec.nodes) == 5
    assert all(len(list(grp.iter(f"{SVG}rect"))) == 1 for grp in groups)
    edges = [e for e in root.iter(f"{SVG}g") if e.get("class") == "edge"]
    assert len(edges) == len(rec.edges()) == 4
    texts = {grp.get("id"): text_of(grp) for grp in groups}
    x_text = texts[f"node-{rec.node('x').id}"]
    assert x_text[0] == "x" and "value 4" in x_text and f"grad {float(x.grad):g}" in x_text
    assert "grad 9" in texts[f"node-{rec.node('z').id}"]
    assert texts[f"node-{rec.node('g').id}"][0] == "g = mul (*)"
    f_group = next(grp for grp in groups if grp.get("id") == f"node-{rec.node('f').id}")
    assert "f = x + y" in f_group.find(f"{SVG}title").text  # the line of code, as a tooltip
    bare = ET.fromstring(rec.to_svg(values=False, grads=False))
    assert not any("value" in line or "grad" in line for grp in node_groups(bare) for line in text_of(grp))


def test_text_is_escaped():
    x = fg.tensor([1.0, -2.0], requires_grad=True)
    with fg.viz.record(names={'a<b & "c"': x}) as rec:
        (x * x).sum().backward()
    root = ET.fromstring(rec.to_svg())
    assert any('a<b & "c"' in text_of(grp) for grp in node_groups(root))


def test_constants_and_large_arrays_in_labels():
    w = fg.tensor(np.arange(12.0).reshape(3, 4) - 5, requires_grad=True)
    with fg.viz.record() as rec:
        loss = ((w - 1.0) ** 2).mean()
        loss.backward()
    lines = {n.id: fg.viz.labels.label_lines(n, True, True, rec) for n in rec.nodes.values()}
    assert ["constant 1"] in lines.values() and ["constant 2"] in lines.values()
    w_lines = lines[rec.node("w").id]
    assert w_lines[1] == "shape (3, 4)" and w_lines[2].startswith("value (3, 4): -5, -4, -3, ... norm ")
    assert lines[rec.node("loss").id][0] == "loss = mean"


def random_dag(rng, n, extra):
    edges = [(f"v{int(rng.integers(0, i))}", f"v{i}") for i in range(1, n)]
    for _ in range(extra):
        a, b = sorted(rng.choice(n, 2, replace=False))
        edges.append((f"v{a}", f"v{b}"))
    return [f"v{i}" for i in range(n)], edges


@pytest.mark.parametrize("rankdir", ["LR", "TB", "BT"])
def test_layout_has_layers_no_overlaps_and_edges_on_borders(rankdir):
    rng = np.random.default_rng(0)
    nodes, edges = random_dag(rng, 250, 120)
    sizes = {v: (float(rng.integers(30, 200)), float(rng.integers(20, 80))) for v in nodes}
    lay = layout_graph(nodes, edges, sizes, rankdir)
    assert lay.overlaps() == [] and set(lay.boxes) == set(nodes)
    assert len(lay.edges) == len(edges)
    for (src, dst), path in zip(edges, lay.edges):
        assert (path.src, path.dst) == (src, dst)
        assert lay.boxes[src].layer < lay.boxes[dst].layer
        (x0, y0), (x1, y1) = path.points[0], path.points[-1]
        a, b = lay.boxes[src], lay.boxes[dst]
        tol = 0.11  # coordinates are rounded to 0.1 px
        if rankdir == "LR":
            assert abs(x0 - (a.x + a.w)) < tol and a.y <= y0 <= a.y + a.h
            assert abs(x1 - b.x) < tol and b.y <= y1 <= b.y + b.h
        else:
            assert abs(y0 - (a.y + a.h if rankdir == "TB" else a.y)) < tol
            assert abs(y1 - (b.y if rankdir == "TB" else b.y + b.h)) < tol
    for box in lay.boxes.values():
        assert box.x >= 0 and box.y >= 0 and box.x + box.w <= lay.width and box.y + box.h <= lay.height


def test_layout_puts_inputs_in_argument_order_and_refuses_cycles():
    lay = layout_graph(["a", "b", "d"], [("b", "d"), ("a", "d")], {k: (30, 20) for k in "abd"})
    assert lay.boxes["b"].y < lay.boxes["a"].y  # d's first input b comes first (above)
    assert lay.overlaps() == []
    with pytest.raises(fg.ArgumentError, match="cycle"):
        layout_graph(["a", "b"], [("a", "b"), ("b", "a")], {"a": (1, 1), "b": (1, 1)})
    with pytest.raises(fg.ArgumentError, match="rankdir"):
        layout_graph(["a"], [], {"a": (1, 1)}, rankdir="RL")
    with pytest.raises(fg.ArgumentError, match="not in nodes"):
        layout_graph(["a"], [("a", "zz")], {"a": (1, 1)})
    assert layout_graph([], [], {}).boxes == {}


def test_a_network_step_draws_and_lays_out(tmp_path):
    net = fg.nn.Sequential(fg.nn.Linear(4, 8), fg.nn.Tanh(), fg.nn.Linear(8, 3))
    X, labels = fg.tensor(np.linspace(-1, 1, 20).reshape(5, 4)), fg.tensor([0, 2, 1, 0, 2])
    with fg.viz.record(names=dict(net.named_parameters())) as rec:
        loss = fg.nn.functional.cross_entropy(net(X), labels)
        loss.backward()
    lay = rec.layout()
    assert lay.overlaps() == []
    out = rec.render(tmp_path / "net.svg", engine="builtin")
    root = ET.parse(out).getroot()
    assert len(node_groups(root)) == len(rec.nodes)


def test_png_and_pdf_through_matplotlib(tmp_path):
    pytest.importorskip("matplotlib")
    rec, _ = xyz()
    png = rec.render(tmp_path / "step.png", engine="builtin").read_bytes()
    assert png.startswith(b"\x89PNG")
    assert rec.render(tmp_path / "step.pdf", engine="builtin").read_bytes().startswith(b"%PDF")


def test_png_without_matplotlib_says_so(tmp_path, monkeypatch):
    rec, _ = xyz()
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(fg.FlowgradError, match="needs matplotlib"):
        rec.render(tmp_path / "step.png", engine="builtin")
    assert rec.render(tmp_path / "step.svg", engine="builtin").exists()  # SVG needs nothing


def test_bad_suffix_and_engine(tmp_path):
    rec, _ = xyz()
    with pytest.raises(fg.FlowgradError, match="built-in renderer draws"):
        rec.render(tmp_path / "step.gif", engine="builtin")
    with pytest.raises(fg.FlowgradError, match="no suffix"):
        rec.render(tmp_path / "step")
    with pytest.raises(fg.ArgumentError, match="engine must be one of"):
        rec.render(tmp_path / "step.svg", engine="cairo")
    assert rec.render(tmp_path / "step.dot").read_text() == rec.to_dot()


def flow_graph():
    X, W, b = Input("X"), Input("W"), Input("b")
    s = Sigmoid(Linear(X, W, b), name="s")
    graph = topological_sort({X: np.ones((2, 3)), W: np.full((3, 1), 0.5), b: np.zeros(1)})
    forward_and_backward(graph)
    return s, graph


def test_without_graphviz_auto_falls_back_to_the_builtin_renderer(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    s, graph = flow_graph()
    out = fg.flow.render(graph, tmp_path / "flow.svg", values=True, grads=True)
    root = ET.parse(out).getroot()
    assert len(node_groups(root)) == len(graph)
    assert any(line.startswith("grad ") for grp in node_groups(root) for line in text_of(grp))
    w = fg.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * 3.0).sum()
    eager = fg.viz.render(loss, tmp_path / "eager.svg", params={"w": w}, values=True)
    root = ET.parse(eager).getroot()
    assert len(node_groups(root)) == 4  # w, the constant 3, mul, sum
    rec, _ = xyz()
    assert rec.render(tmp_path / "step.svg").read_text().startswith("<?xml")
    with pytest.raises(fg.viz.GraphvizNotFoundError):
        rec.render(tmp_path / "step2.svg", engine="dot")


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz is not installed")
def test_both_engines_with_graphviz(tmp_path):
    rec, _ = xyz()
    by_dot = rec.render(tmp_path / "dot.svg", engine="dot").read_text()
    by_us = rec.render(tmp_path / "own.svg", engine="builtin").read_text()
    for svg in (by_dot, by_us):
        root = ET.fromstring(svg)
        texts = " ".join(t for t in root.itertext())
        assert "value 4" in texts and "grad 10" in texts and "g = mul (*)" in texts
    assert "Generated by graphviz" in by_dot and "Generated by graphviz" not in by_us
    assert "Generated by graphviz" in rec.render(tmp_path / "auto.svg").read_text()  # auto: dot when present
    s, graph = flow_graph()
    assert ET.parse(fg.flow.render(graph, tmp_path / "f.svg", engine="dot")).getroot() is not None
    assert ET.parse(fg.flow.render(graph, tmp_path / "f2.svg", engine="builtin")).getroot() is not None
    assert fg.flow.render(graph, tmp_path / "f.png", engine="dot").read_bytes().startswith(b"\x89PNG")


def test_eager_graph_shows_values_and_signed_gradients():
    w = fg.tensor([1.5, -2.0], requires_grad=True)
    loss = (w * 3.0).sum()
    loss.backward(retain_graph=True)
    text = fg.viz.graph(loss, params={"w": w}, values=True, grads=True)
    assert "value [1.5, -2]" in text and "gradient [3, 3]" in text and "grad norm" not in text
    assert "grad norm" in fg.viz.graph(loss, params={"w": w})
