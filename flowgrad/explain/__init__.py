"""The explain page: one self-contained HTML file that steps through a graph's forward and backward passes.

``explain(target, "step.html")`` writes the page (inline JavaScript and CSS, no network). Click a
node for its operation, the line of code that made it, its shape, value and gradient; Next/Back
step through the forward pass node by node, then the backward pass in the engine's order,
showing at each edge ``upstream gradient x local derivative = contribution`` and, at a fan-out,
the sum of the contributions. ``target`` is any of:

- what ``fg.viz.record()`` recorded around an eager forward pass and ``backward()``
  (source lines included);
- an eager tensor whose graph is alive (before ``backward()``): its backward pass is run through
  ``fg.autograd.grad``, so no ``.grad`` changes;
- a ``flowgrad.flow`` graph after ``forward_and_backward`` (its output node or the sorted nodes).

>>> import tempfile, pathlib
>>> from flowgrad.flow import Input, Mul, Add, forward_and_backward, topological_sort
>>> x, y, z = Input("x"), Input("y"), Input("z")
>>> g = Mul(Add(x, y, name="f"), z, name="g")
>>> forward_and_backward(topological_sort({x: 4.0, y: 5.0, z: 10.0}))
>>> page = explain(g, pathlib.Path(tempfile.mkdtemp()) / "step.html")
>>> '"name": "x"' in page.read_text()
True
"""

from __future__ import annotations

import json
import pathlib
from importlib import resources
from typing import Any

import flowgrad as fg

from .model import page_data

__all__ = ["explain", "page_html", "graph_record"]


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def graph_record(target: Any) -> Any:
    """The ``fg.viz.GraphRecord`` behind an explain target (see the module's docstring).

    >>> import flowgrad as fg
    >>> w = fg.tensor([1.0, 2.0], requires_grad=True)
    >>> rec = graph_record((w * w).sum())
    >>> [float(v) for v in rec.node(w).grad], w.grad is None
    ([2.0, 4.0], True)
    """
    from flowgrad.flow import Node

    if isinstance(target, fg.viz.GraphRecord):
        return target
    if isinstance(target, fg.viz.Recorder):
        return target.record
    if isinstance(target, Node) or (isinstance(target, (list, tuple)) and target and isinstance(target[0], Node)):
        return fg.viz.GraphRecord.from_flow(target)
    if isinstance(target, fg.Tensor):
        return fg.viz.record_backward(target)
    raise fg.DTypeError(
        "explain: expected what fg.viz.record() recorded, a tensor with a graph behind it, or a flow "
        f"graph (its output node or the sorted nodes), got {fg.errors.given(target)}"
    )


def page_html(target: Any, title: str | None = None) -> str:
    """The explain page of ``target`` as HTML text.

    >>> from flowgrad.flow import Input, Sigmoid, forward_and_backward, topological_sort
    >>> x = Input("x"); s = Sigmoid(x, name="s")
    >>> forward_and_backward(topological_sort({x: 0.0}))
    >>> page_html(s).startswith("<!DOCTYPE html>")
    True
    """
    record = graph_record(target)
    payload = json.dumps(page_data(record), allow_nan=False)
    payload = payload.replace("</", "<\\/")  # "</" in a string would end the <script> element early
    title = title or "flowgrad: a training step, explained"
    escaped = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    html = _asset("page.html")
    for key, value in (("__CSS__", _asset("page.css")), ("__JS__", _asset("page.js"))):
        html = html.replace(key, value)
    return html.replace("__TITLE__", escaped).replace("__DATA__", payload)


def explain(target: Any, path: str | pathlib.Path, title: str | None = None) -> pathlib.Path:
    """Write the explain page of ``target`` to ``path`` (an ``.html`` file); return the path.

    >>> import tempfile, pathlib, flowgrad as fg
    >>> x = fg.tensor(4.0, requires_grad=True)
    >>> with fg.viz.record() as rec:
    ...     loss = (x - 1.0) ** 2
    ...     loss.backward()
    >>> explain(rec, pathlib.Path(tempfile.mkdtemp()) / "step.html").suffix
    '.html'
    """
    path = pathlib.Path(path)
    path.write_text(page_html(target, title), encoding="utf-8")
    return path
