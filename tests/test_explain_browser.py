"""The explain page in a real browser (headless Chromium through selenium; skips without them)."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

import flowgrad as fg
from flowgrad import nn
from flowgrad.cli.explain_cmd import EXAMPLES
from flowgrad.explain import explain, graph_record

from .browser import chromium_driver, console_errors


@pytest.fixture(scope="module")
def driver():
    d = chromium_driver()
    yield d
    d.quit()


def _step_to_the_end(driver, page, record):
    driver.get(page.as_uri())
    assert console_errors(driver) == []
    nodes = driver.find_elements("css selector", "g.node")
    assert len(nodes) == len(record.nodes) == driver.execute_script("return window.flowgradExplain.nodeCount")
    steps = driver.execute_script("return window.flowgradExplain.steps")
    next_button = driver.find_element("id", "next")
    clicks = 0
    while next_button.is_enabled():
        next_button.click()
        clicks += 1
    assert clicks == steps == sum(n.kind == "op" for n in record.nodes.values()) + len(record.backward_order)
    assert console_errors(driver) == []
    return {n.get_attribute("data-id"): n for n in nodes}


def test_eager_step_to_the_end_shows_each_leaf_gradient_equal_to_grad(driver, tmp_path):
    fg.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 1), nn.Sigmoid()).double()
    x, label = fg.randn(3, 2, dtype=fg.float64), fg.tensor([[1.0], [0.0], [1.0]], dtype=fg.float64)
    with fg.viz.record(names=dict(net.named_parameters())) as rec:
        loss = nn.functional.mse_loss(net(x), label)
        loss.backward()
    shown = _step_to_the_end(driver, explain(rec, tmp_path / "eager.html"), rec)
    for name, p in net.named_parameters():
        node = rec.node(name)
        # The page adds the contributions itself, maybe in another order than the engine: rounding only.
        np.testing.assert_allclose(json.loads(shown[node.id].get_attribute("data-shown-grad")), p.grad.numpy().ravel(),
                                   rtol=1e-12, atol=1e-15)  # fmt: skip
        assert shown[node.id].get_attribute("data-grad-complete") == "1"


def test_flow_graph_to_the_end_shows_each_input_gradient(driver, tmp_path):
    graph = EXAMPLES["housing"]()
    record = graph_record(graph)
    shown = _step_to_the_end(driver, explain(graph, tmp_path / "flow.html"), record)
    checked = 0
    for node in record.nodes.values():
        if node.kind == "leaf" and node.grad is not None and node.grad.size <= 64:
            np.testing.assert_allclose(json.loads(shown[node.id].get_attribute("data-shown-grad")), node.grad.ravel(),
                                       rtol=1e-12, atol=1e-12)  # fmt: skip
            checked += 1
    assert checked >= 3


def test_clicking_a_node_shows_its_details_and_the_screenshot_is_not_blank(driver, tmp_path):
    x, y = fg.tensor(4.0, requires_grad=True), fg.tensor(5.0, requires_grad=True)
    with fg.viz.record() as rec:
        f = x * y + x
        f.backward()
    driver.get(explain(rec, tmp_path / "fan.html").as_uri())
    x_id = rec.node("x").id
    driver.find_element("css selector", f"g.node[data-id='{x_id}']").click()
    info = driver.find_element("id", "node-info").text
    assert "x = leaf" in info and "value" in info and "gradient" in info
    driver.find_element("id", "to-end").click()
    assert "sum of" in driver.find_element("id", "step").text  # x feeds two nodes: the fan-out's sum
    image = pytest.importorskip("matplotlib.image").imread(io.BytesIO(driver.get_screenshot_as_png()), format="png")
    pixels = image.reshape(-1, image.shape[-1])
    assert len(np.unique(pixels, axis=0)) > 20  # boxes, text and edges, not one flat colour
    assert console_errors(driver) == []
