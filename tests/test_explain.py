"""The explain page's content (no browser): what it says about a graph is what flowgrad computed."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import flowgrad as fg
from flowgrad.cli import main
from flowgrad.explain import explain, graph_record, page_html
from flowgrad.explain.model import page_data
from flowgrad.flow import MSE, Input, Linear, Mul, Sigmoid, forward_and_backward, topological_sort


def _data(html: str) -> dict:
    found = re.search(r"const DATA = (.*);\n", html)
    assert found, "the page holds its data"
    return json.loads(found.group(1).replace("<\\/", "</"))


def _by_name(data: dict) -> dict:
    return {n["name"]: n for n in data["nodes"] if n["name"]}


def test_eager_step_values_gradients_sources_and_chain_rule_products():
    x, y, z = (fg.tensor(v, requires_grad=True) for v in (4.0, 5.0, 10.0))
    with fg.viz.record() as rec:
        f = x + y
        g = f * z
        g.backward()
    data = _data(page_html(rec))
    named = _by_name(data)
    for name, leaf in (("x", x), ("y", y), ("z", z)):  # the page's final gradient is the engine's
        assert named[name]["gradNumbers"] == [float(leaf.grad)]
    assert named["x"]["valueShort"] == "4" and named["x"]["grad"] == "10"
    assert named["g"]["op"] == "mul (*)" and named["g"]["valueShort"] == "90"
    assert named["f"]["source"]["code"] == "f = x + y" and named["f"]["source"]["file"] == "test_explain.py"
    first = data["backward"][0]  # the output first, in the engine's order
    assert first["node"] == named["g"]["id"] == data["output"]
    to_f = next(e for e in first["edges"] if e["edge"] == f"{named['g']['id']}:0")
    assert (to_f["upstream"], to_f["local"], to_f["contribution"]) == ("1", "10", "10")
    assert data["forward"] == [named["f"]["id"], named["g"]["id"]]


def test_a_live_tensor_is_explained_without_touching_grad():
    w = fg.tensor([1.0, -2.0], requires_grad=True)
    data = page_data(graph_record((w * w * 3.0).sum()))
    (leaf,) = [n for n in data["nodes"] if n["kind"] == "leaf"]
    assert leaf["gradNumbers"] == [6.0, -12.0] and w.grad is None
    assert any(n["kind"] == "constant" for n in data["nodes"])  # the 3.0 is drawn


@pytest.mark.parametrize("use", ["flow", "eager"])
def test_fan_out_contributions_add_up_to_the_gradient(use):
    rng = np.random.default_rng(0)
    arrays = {"x": rng.standard_normal((3, 2)), "w": rng.standard_normal((2, 1)), "b": rng.standard_normal(1)}
    arrays["y"] = rng.standard_normal((3, 1))
    if use == "flow":
        x, w, b, y = (Input(k) for k in ("x", "w", "b", "y"))
        h = Sigmoid(Linear(x, w, b, name="lin"), name="h")
        cost = MSE(y, Mul(h, h, name="sq"), name="cost")  # h is used twice by one node
        forward_and_backward(topological_sort(dict(zip((x, w, b, y), arrays.values()))), compile=False)
        record = graph_record(cost)
    else:
        x, w, b, y = (fg.tensor(a, requires_grad=k in "wb") for k, a in arrays.items())
        with fg.viz.record() as record:
            h = fg.sigmoid(x @ w + b)
            cost = ((y - h * h) ** 2).mean()
            cost.backward()
    data = page_data(record)
    source_of = {e["id"]: e["src"] for e in data["edges"]}
    received: dict[str, np.ndarray] = {}
    for step in record.backward_order:
        for c in step.contributions:
            key = source_of[f"{c.output}:{c.position}"]
            assert key == c.input
            received[key] = received.get(key, 0) + np.asarray(c.value)
    checked = 0
    for node in record.nodes.values():
        if node.id not in record.outputs and node.grad is not None:
            # The same additions as the engine's, maybe in another order: rounding apart only.
            np.testing.assert_allclose(received[node.id], node.grad, rtol=1e-12, atol=1e-15)
            checked += 1
    assert checked >= 5


def test_page_is_self_contained_and_escapes_script_ends(tmp_path):
    x = fg.tensor(2.0, requires_grad=True)
    html = explain(x * x, tmp_path / "p.html", title="a </script> <b>title</b>").read_text()
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html and "<link" not in html and "src=" not in html
    assert html.count("</script>") == 1
    assert "&lt;b&gt;title&lt;/b&gt;" in html


def test_refuses_what_it_cannot_explain(tmp_path):
    with pytest.raises(TypeError, match="expected what fg.viz.record"):
        explain(42, tmp_path / "x.html")
    with pytest.raises(TypeError, match="record_backward: expected a tensor with a graph"):
        explain(fg.ones(2), tmp_path / "x.html")
    with pytest.raises(ValueError, match="no nodes"):
        with fg.viz.record() as empty:
            pass
        explain(empty, tmp_path / "x.html")


def test_fg_viz_explain_is_the_same_page(tmp_path):
    x = fg.tensor(2.0, requires_grad=True)
    a = _data(fg.viz.explain(x * x, tmp_path / "a.html").read_text())
    b = _data(explain(x * x, tmp_path / "b.html").read_text())
    assert a == b


@pytest.mark.parametrize("example", ["gender", "housing", "chain"])
def test_cli_writes_the_page(example, tmp_path, capsys):
    out = tmp_path / "page.html"
    assert main(["explain", "--example", example, "--output", str(out)]) == 0
    data = _data(out.read_text())
    assert data["nodes"] and data["backward"]
    assert str(out) in capsys.readouterr().out
