"""The explain page's content (no browser): what it says about a graph is what flowgrad computed."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from flowgrad.cli import main
from flowgrad.explain import explain, page_html
from flowgrad.explain.layout import layered
from flowgrad.explain.model import from_flow
from flowgrad.flow import MSE, Add, Input, Linear, Mul, Sigmoid, forward_and_backward, topological_sort


def _data(html: str) -> dict:
    found = re.search(r"const DATA = (.*);\n", html)
    assert found, "the page holds its data"
    return json.loads(found.group(1).replace("<\\/", "</"))


def _chain():
    x, y, z = Input("x"), Input("y"), Input("z")
    g = Mul(Add(x, y, name="f"), z, name="g")
    forward_and_backward(topological_sort({x: 4.0, y: 5.0, z: 10.0}), compile=False)
    return (x, y, z), g


def test_chain_values_gradients_and_chain_rule_products():
    (x, y, z), g = _chain()
    data = _data(page_html(g))
    by_name = {n["name"]: n for n in data["nodes"]}
    assert set(by_name) == {"x", "y", "z", "f", "g"}
    for leaf in (x, y, z):  # the page's final gradient is the engine's
        assert by_name[leaf.name]["gradNumbers"] == [float(leaf.gradients[leaf])]
    assert by_name["x"]["valueShort"] == "4" and by_name["x"]["grad"] == "10"
    assert by_name["g"]["valueShort"] == "90"
    first = data["backward"][0]  # the output first, in the engine's order
    assert first["node"] == by_name["g"]["id"]
    to_f = next(e for e in first["edges"] if e["edge"].endswith(":0"))
    assert (to_f["upstream"], to_f["local"], to_f["contribution"]) == ("1", "10", "10")
    assert data["forward"] == [by_name["f"]["id"], by_name["g"]["id"]]


def test_fan_out_contributions_add_up_to_the_gradient():
    rng = np.random.default_rng(0)
    x, w, b, y = Input("x"), Input("w"), Input("b"), Input("y")
    h = Sigmoid(Linear(x, w, b, name="lin"), name="h")
    cost = MSE(y, Mul(h, h, name="sq"), name="cost")  # h is used twice by one node
    feed = {x: rng.standard_normal((3, 2)), w: rng.standard_normal((2, 1)), b: rng.standard_normal(1)}
    feed[y] = rng.standard_normal(3)
    forward_and_backward(topological_sort(feed), compile=False)
    explained = from_flow(cost)
    received: dict[str, np.ndarray] = {}
    edges = {eid: src for eid, src, _ in explained.edges()}
    for step in explained.backward:
        for c in step.contributions:
            received[edges[c.edge]] = received.get(edges[c.edge], 0) + c.contribution
    for node in explained.nodes:
        if node.id != explained.output and node.grad is not None:
            # The same additions as the engine's, maybe in another order: rounding apart only.
            np.testing.assert_allclose(received[node.id], node.grad, rtol=1e-12, atol=1e-15)


def test_layout_boxes_do_not_overlap_and_edges_go_forward():
    ids = [f"n{i}" for i in range(8)]
    edges = [
        ("n0", "n2"),
        ("n1", "n2"),
        ("n2", "n3"),
        ("n1", "n4"),
        ("n3", "n5"),
        ("n4", "n5"),
        ("n5", "n6"),
        ("n0", "n7"),
    ]
    boxes, routes, width, height = layered(ids, edges, {i: (60.0, 40.0) for i in ids})
    for a in ids:
        for b in ids:
            if a < b:
                (ax, ay, aw, ah), (bx, by, bw, bh) = boxes[a], boxes[b]
                assert abs(ax - bx) >= (aw + bw) / 2 or abs(ay - by) >= (ah + bh) / 2, (a, b)
    for src, dst in edges:
        assert boxes[src][0] < boxes[dst][0]
        assert routes[(src, dst)][0][0] < routes[(src, dst)][-1][0]
    assert all(0 < x < width and 0 < y < height for x, y, _, _ in boxes.values())


def test_page_is_self_contained_and_escapes_script_ends(tmp_path):
    (_, _, _), g = _chain()
    html = explain(g, tmp_path / "p.html", title="a </script> <b>title</b>").read_text()
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html and "<link" not in html and "src=" not in html
    assert html.count("</script>") == 1
    assert "&lt;b&gt;title&lt;/b&gt;" in html


def test_refuses_what_it_cannot_explain(tmp_path):
    with pytest.raises(TypeError, match="expected a flow graph"):
        explain(42, tmp_path / "x.html")


@pytest.mark.parametrize("example", ["gender", "housing", "chain"])
def test_cli_writes_the_page(example, tmp_path, capsys):
    out = tmp_path / "page.html"
    assert main(["explain", "--example", example, "--output", str(out)]) == 0
    data = _data(out.read_text())
    assert data["nodes"] and len(data["backward"]) == len(data["nodes"])
    assert str(out) in capsys.readouterr().out
