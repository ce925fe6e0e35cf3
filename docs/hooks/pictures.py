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


def layers() -> str:
    """architecture.md: flowgrad's layers, each box listing the packages in it (read from the code by
    tests/architecture.py, the table the import-rules test holds), with an arrow from a layer to
    each layer whose modules it imports."""
    import pathlib
    import sys
    import textwrap

    from flowgrad.viz.svg import layout_svg

    root = str(pathlib.Path(__file__).resolve().parents[2])
    if root not in sys.path:
        sys.path.insert(0, root)
    from tests.architecture import LAYERS, ROOT, imports, layer_of, module_name

    found = imports()
    members: dict[int, set[str]] = {i: set() for i in range(len(LAYERS))}
    for module in {module_name(path) for path in ROOT.rglob("*.py")}:
        parts = module.split(".")
        short = ".".join(parts[1:3]) if parts[1:2] == ["core"] else (parts[1] if len(parts) > 1 else "fg.*")
        members[layer_of(module)].add(short)
    uses = {
        (layer_of(i.target), layer_of(i.module)) for i in found if i.target != "flowgrad" and i.module != "flowgrad"
    }
    ids = [f"layer{i}" for i in range(len(LAYERS))]
    edges = [(ids[low], ids[high]) for low, high in sorted(uses) if low < high]
    labels = {}
    for i, (name, what, _) in enumerate(LAYERS):
        listing = textwrap.wrap(", ".join(sorted(members[i])), 72)
        labels[ids[i]] = [name.upper(), *textwrap.wrap(what, 72), *listing]
    sizes = {n: fg.viz.text_size(lines) for n, lines in labels.items()}
    lay = fg.viz.layout_graph(ids, edges, sizes, rankdir="BT")
    colours = ["#e8e8e8", "#f6d8a8", "#c9e7c1", "#cfe0f5", "#ffffff"]
    return layout_svg(lay, labels, {n: colours[i] for i, n in enumerate(ids)})


PICTURES: dict[str, Callable[[], str]] = {
    "pictures/layers.svg": layers,
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
