"""An mkdocs hook (mkdocs.yml loads it): the graph pictures of the guides, drawn when the site is
built by flowgrad's own renderer, so they always show what this version of flowgrad computes.

Each picture is made by the code the page shows beside it; the pages refer to them as
``pictures/<name>.svg``. tests/test_docs_pictures.py checks that every picture a page refers to is
made here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flowgrad as fg


def xyz_step() -> str:
    """guide.md: x=4, y=5, z=10, f=x+y, g=f*z recorded as it runs."""
    x = fg.tensor(4.0, requires_grad=True)
    y = fg.tensor(5.0, requires_grad=True)
    z = fg.tensor(10.0, requires_grad=True)
    with fg.viz.record() as rec:
        f = x + y
        g = f * z  # noqa: F841  (named in the picture by its variable)
        g.backward()
    return rec.to_svg(values=True, grads=True)


def fan_out_step() -> str:
    """guide.md: a tensor used twice, its gradient the sum of both arrows' contributions."""
    x = fg.tensor(3.0, requires_grad=True)
    with fg.viz.record() as rec:
        y = x * x + x
        y.backward()
    return rec.to_svg(values=True, grads=True)


def network_step() -> str:
    """graph-mode.md: one step of a 2-2-1 network with a squared error, constants drawn."""
    fg.manual_seed(4)
    net = fg.nn.Sequential(fg.nn.Linear(2, 2), fg.nn.Sigmoid(), fg.nn.Linear(2, 1))
    x = fg.tensor([[0.5, -1.0]])
    target = fg.tensor([[1.0]])
    with fg.viz.record(names=dict(net.named_parameters())) as rec:
        loss = ((net(x) - target) ** 2).mean()
        loss.backward()
    return rec.to_svg(values=True, grads=True)


def flow_xyz() -> str:
    """graph-mode.md: the same x, y, z example as a flow graph."""
    from flowgrad.flow import Add, Input, Mul, forward_and_backward, topological_sort

    x, y, z = Input("x"), Input("y"), Input("z")
    g = Mul(Add(x, y, name="f"), z, name="g")
    forward_and_backward(topological_sort({x: 4.0, y: 5.0, z: 10.0}))
    return fg.viz.GraphRecord.from_flow(g).to_svg(values=True, grads=True)


PICTURES: dict[str, Callable[[], str]] = {
    "pictures/xyz-step.svg": xyz_step,
    "pictures/fan-out-step.svg": fan_out_step,
    "pictures/network-step.svg": network_step,
    "pictures/flow-xyz.svg": flow_xyz,
}


def on_files(files: Any, config: Any) -> Any:
    """Add each picture to the site as a generated file."""
    from mkdocs.structure.files import File

    for uri, make in PICTURES.items():
        files.append(File.generated(config, uri, content=make()))
    return files
