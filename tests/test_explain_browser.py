"""The explain page in a real browser (headless Chromium through selenium; skips without them)."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from flowgrad.cli.explain_cmd import EXAMPLES
from flowgrad.explain import explain
from flowgrad.explain.model import from_flow

from .browser import chromium_driver, console_errors


@pytest.fixture(scope="module")
def driver():
    d = chromium_driver()
    yield d
    d.quit()


@pytest.mark.parametrize("example", ["gender", "housing"])
def test_stepping_to_the_end_shows_every_gradient(driver, example, tmp_path):
    graph = EXAMPLES[example]()
    explained = from_flow(graph)
    page = explain(graph, tmp_path / "step.html")
    driver.get(page.as_uri())
    assert console_errors(driver) == []
    nodes = driver.find_elements("css selector", "g.node")
    assert len(nodes) == len(explained.nodes) == driver.execute_script("return window.flowgradExplain.nodeCount")
    steps = driver.execute_script("return window.flowgradExplain.steps")
    next_button = driver.find_element("id", "next")
    clicks = 0
    while next_button.is_enabled():
        next_button.click()
        clicks += 1
    assert clicks == steps == len(explained.forward) + len(explained.backward)
    shown = {n.get_attribute("data-id"): n.get_attribute("data-shown-grad") for n in nodes}
    for node in explained.nodes:
        if node.kind != "leaf" or node.grad is None or node.grad.size > 64:
            continue
        # The page adds the contributions itself, maybe in another order than the engine: rounding only.
        np.testing.assert_allclose(json.loads(shown[node.id]), node.grad.ravel(), rtol=1e-12, atol=1e-14)
        assert nodes[[n.id for n in explained.nodes].index(node.id)].get_attribute("data-grad-complete") == "1"
    assert console_errors(driver) == []


def test_clicking_a_node_shows_its_details_and_the_screenshot_is_not_blank(driver, tmp_path):
    graph = EXAMPLES["chain"]()
    driver.get(explain(graph, tmp_path / "chain.html").as_uri())
    driver.find_element("css selector", "g.node[data-id='n0']").click()
    info = driver.find_element("id", "node-info").text
    assert "x = Input" in info and "value" in info and "gradient" in info
    driver.find_element("id", "to-end").click()
    assert "dL/d" in driver.find_element("id", "step").text
    image = pytest.importorskip("matplotlib.image").imread(io.BytesIO(driver.get_screenshot_as_png()), format="png")
    pixels = image.reshape(-1, image.shape[-1])
    assert len(np.unique(pixels, axis=0)) > 20  # boxes, text and edges, not one flat colour
    assert console_errors(driver) == []
