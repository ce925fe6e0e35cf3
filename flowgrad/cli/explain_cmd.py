"""``flowgrad explain``: write the explain page of one of the tutorials' graphs.

flowgrad explain                         seed 004's 2-2-1 network on Alice (the default)
flowgrad explain --example housing       MiniFlow's 13-10-1 housing net on a batch of 11
flowgrad explain --example chain         (x + y) * z with x=4, y=5, z=10
flowgrad explain --output step.html      where to write the page
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def _chain() -> Any:
    from flowgrad.flow import Add, Input, Mul, forward_and_backward, topological_sort

    x, y, z = Input("x"), Input("y"), Input("z")
    g = Mul(Add(x, y, name="f"), z, name="g")
    forward_and_backward(topological_sort({x: 4.0, y: 5.0, z: 10.0}), compile=False)
    return g


def _gender() -> Any:
    """Seed 004's worked example: weights 1, biases 0, Alice (weight -2, height -1), label 1."""
    from flowgrad.flow import MSE, Input, Linear, Node, Sigmoid, forward_and_backward, topological_sort

    X, y = Input("X"), Input("y")  # noqa: N806 - the tutorial's names
    W1, b1, W2, b2 = Input("W1"), Input("b1"), Input("W2"), Input("b2")  # noqa: N806
    h = Sigmoid(Linear(X, W1, b1, name="h_in"), name="h")
    out = Sigmoid(Linear(h, W2, b2, name="o_in"), name="y_pred")
    cost = MSE(y, out, name="loss")
    feed: dict[Node, Any] = {X: np.array([[-2.0, -1.0]]), y: np.array([1.0]), W1: np.ones((2, 2)), b1: np.zeros(2)}
    feed.update({W2: np.ones((2, 1)), b2: np.zeros(1)})
    forward_and_backward(topological_sort(feed), compile=False)
    return cost


def _housing() -> Any:
    """MiniFlow's housing net (seed 002): 13 standardized features -> 10 sigmoids -> 1, a batch of 11."""
    from flowgrad.datasets import load_housing
    from flowgrad.flow import MSE, Input, Linear, Node, Sigmoid, forward_and_backward, topological_sort

    inputs, target = load_housing(return_X_y=True)
    features = (inputs - inputs.mean(0)) / inputs.std(0)
    rng = np.random.default_rng(0)
    rows = rng.integers(0, len(features), 11)
    X, y = Input("X"), Input("y")  # noqa: N806
    W1, b1, W2, b2 = Input("W1"), Input("b1"), Input("W2"), Input("b2")  # noqa: N806
    cost = MSE(y, Linear(Sigmoid(Linear(X, W1, b1, name="l1"), name="s1"), W2, b2, name="l2"), name="cost")
    feed: dict[Node, Any] = {X: features[rows], y: target[rows], W1: rng.standard_normal((13, 10))}
    feed[b1] = np.zeros(10)
    feed.update({W2: rng.standard_normal((10, 1)), b2: np.zeros(1)})
    forward_and_backward(topological_sort(feed), compile=False)
    return cost


EXAMPLES: dict[str, Callable[[], Any]] = {"gender": _gender, "housing": _housing, "chain": _chain}


def add_parser(sub: Any) -> None:
    x = sub.add_parser("explain", help="write an HTML page that steps through a graph's forward and backward pass")
    x.add_argument(
        "--example", choices=sorted(EXAMPLES), default="gender", help="which tutorial graph (default: gender)"
    )
    x.add_argument("--output", help="where to write the page (default: explain-EXAMPLE.html)")


def run(args: argparse.Namespace) -> int:
    from flowgrad.explain import explain

    graph = EXAMPLES[args.example]()
    path = Path(args.output or f"explain-{args.example}.html")
    explain(graph, path, title=f"flowgrad explain: {args.example}")
    print(f"wrote {path}: open it in a browser (one file, no network needed)")
    return 0
