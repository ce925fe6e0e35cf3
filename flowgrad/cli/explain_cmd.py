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
    """(x + y) * z, recorded eagerly: the page shows the line of code behind each node."""
    import flowgrad as fg

    x, y, z = (fg.tensor(v, requires_grad=True) for v in (4.0, 5.0, 10.0))
    with fg.viz.record() as rec:
        f = x + y
        g = f * z
        g.backward()
    return _without_sources(rec)


def _gender() -> Any:
    """Seed 004's worked example: a 2-2-1 sigmoid network with weights 1 and biases 0, on Alice
    (weight -2, height -1, label 1), mean squared error; recorded eagerly."""
    import flowgrad as fg
    from flowgrad import nn

    net = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 1), nn.Sigmoid()).double()
    with fg.no_grad():
        for p in net.parameters():
            p.fill_(1.0 if p.ndim == 2 else 0.0)
    alice, label = fg.tensor([[-2.0, -1.0]], dtype=fg.float64), fg.tensor([[1.0]], dtype=fg.float64)
    with fg.viz.record(names=dict(net.named_parameters())) as rec:
        y_pred = net(alice)
        loss = nn.functional.mse_loss(y_pred, label)
        loss.backward()
    return _without_sources(rec)


def _without_sources(rec: Any) -> Any:
    """The recorder names the first line outside flowgrad, which for these built-in examples is the
    console script's ``sys.exit(entry_point())``: not worth showing, so dropped."""
    for node in rec.nodes.values():
        node.source = None
    return rec


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
