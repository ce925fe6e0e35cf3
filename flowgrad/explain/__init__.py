"""The explain page: one self-contained HTML file that steps through a graph's forward and backward passes.

``explain(graph, "step.html")`` lays the graph out, then writes the page (inline JavaScript and CSS,
no network): click a node for its operation, the line of code that made it, its shape, value and
gradient; Next/Back step through the forward pass node by node, then the backward pass in the
engine's order, showing at each edge ``upstream gradient x local derivative = contribution`` and,
at a fan-out, the sum of the contributions. Flow graphs (``flowgrad.flow``) and eager graphs
recorded with ``fg.viz.record()`` are both explained.

>>> import numpy as np, tempfile, pathlib
>>> from flowgrad.flow import Input, Mul, Add, forward_and_backward, topological_sort
>>> x, y, z = Input("x"), Input("y"), Input("z")
>>> g = Mul(Add(x, y, name="f"), z, name="g")
>>> forward_and_backward(topological_sort({x: 4.0, y: 5.0, z: 10.0}))
>>> page = explain(g, pathlib.Path(tempfile.mkdtemp()) / "step.html")
>>> "x: Input" in page.read_text() or '"name": "x"' in page.read_text()
True
"""

from __future__ import annotations

import json
import pathlib
from importlib import resources
from typing import Any

from .model import Explained, from_flow, from_record

__all__ = ["explain", "page_html", "Explained"]


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _explained(target: Any) -> Explained:
    if isinstance(target, Explained):
        return target
    from flowgrad.flow import Node

    if isinstance(target, Node) or (isinstance(target, (list, tuple)) and target and isinstance(target[0], Node)):
        return from_flow(target)
    return from_record(target)


def page_html(target: Any, title: str | None = None) -> str:
    """The explain page of ``target`` (a flow graph's output node or sorted nodes, or a recording) as HTML text.

    >>> from flowgrad.flow import Input, Sigmoid, forward_and_backward, topological_sort
    >>> x = Input("x"); s = Sigmoid(x, name="s")
    >>> forward_and_backward(topological_sort({x: 0.0}))
    >>> page_html(s).startswith("<!DOCTYPE html>")
    True
    """
    explained = _explained(target)
    data = explained.to_json_dict()
    # "</" would end the <script> element early wherever a string holds it (a file path, code).
    payload = json.dumps(data, allow_nan=False).replace("</", "<\\/")
    title = title or explained.title
    escaped = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    html = _asset("page.html")
    for key, value in (("__CSS__", _asset("page.css")), ("__JS__", _asset("page.js"))):
        html = html.replace(key, value)
    return html.replace("__TITLE__", escaped).replace("__DATA__", payload)


def explain(target: Any, path: str | pathlib.Path, title: str | None = None) -> pathlib.Path:
    """Write the explain page of ``target`` to ``path`` (an ``.html`` file); return the path.

    ``target``: a flow graph after ``forward_and_backward`` (its output node or the sorted nodes),
    or what ``fg.viz.record()`` recorded around an eager forward and ``backward()``.

    >>> import tempfile, pathlib
    >>> from flowgrad.flow import Input, Sigmoid, forward_and_backward, topological_sort
    >>> x = Input("x"); s = Sigmoid(x, name="s")
    >>> forward_and_backward(topological_sort({x: 0.0}))
    >>> explain(s, pathlib.Path(tempfile.mkdtemp()) / "s.html").suffix
    '.html'
    """
    path = pathlib.Path(path)
    text = page_html(target, title)
    path.write_text(text, encoding="utf-8")
    return path
