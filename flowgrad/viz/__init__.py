"""Pictures of graphs: what ``.backward()`` walks, with values and gradients.

- ``graph(loss)`` / ``render(loss, path)``: the eager graph behind a tensor as it stands
  (Graphviz DOT text; pictures by Graphviz's ``dot`` or, without it, flowgrad's own renderer).
- ``record()``: record a whole step, ``with fg.viz.record() as rec: ...; loss.backward()``, then
  ``rec.render("step.svg")``: every op as written (``pow``, ``sub``), constants, values,
  gradients, the line of code that made each node and the backward pass's order.
- ``GraphRecord.from_flow(graph)``: the same record of a ``flowgrad.flow`` graph.
- ``layout_graph``: the built-in layered layout, for pictures of your own.

>>> import flowgrad as fg
>>> x = fg.tensor(4.0, requires_grad=True)
>>> with fg.viz.record() as rec:
...     loss = (x - 1.0) ** 2
...     loss.backward()
>>> [n.op for n in rec.nodes.values()]
['leaf', 'constant', 'sub', 'constant', 'pow']
>>> float(rec.node("x").grad) == float(x.grad) == 6.0
True
"""

from typing import Any

from .eager import GraphvizNotFoundError, graph, numbers, quote, render, render_dot
from .layout import Box, EdgePath, Layout, layout_graph, text_size
from .record import BackwardStep, Contribution, GraphRecord, RecordNode, SourceLine
from .recorder import Recorder, record, record_backward

__all__ = [
    "graph",
    "render",
    "render_dot",
    "quote",
    "numbers",
    "GraphvizNotFoundError",
    "record",
    "record_backward",
    "explain",
    "Recorder",
    "GraphRecord",
    "RecordNode",
    "SourceLine",
    "BackwardStep",
    "Contribution",
    "layout_graph",
    "text_size",
    "Layout",
    "Box",
    "EdgePath",
]


def explain(target: Any, path: Any, title: str | None = None) -> Any:
    """Write the explain page of ``target`` to ``path``: see :func:`flowgrad.explain.explain`.

    >>> import tempfile, pathlib, flowgrad as fg
    >>> x = fg.tensor(2.0, requires_grad=True)
    >>> fg.viz.explain(x * x, pathlib.Path(tempfile.mkdtemp()) / "step.html").suffix
    '.html'
    """
    from flowgrad.explain import explain as write_page

    return write_page(target, path, title)
