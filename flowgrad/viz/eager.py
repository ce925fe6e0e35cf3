"""Pictures of the graph behind an eager result as it stands: what ``.backward()`` will walk.

``graph(loss)`` returns Graphviz DOT text: one box per recorded op (its
backward name, as in ``loss.grad_fn``, and its output's shape), one ellipse
per leaf tensor (green when it requires grad, grey when it is plain data),
and arrows from inputs to the ops that used them. ``render(loss, path)``
draws it with Graphviz's ``dot`` program, or flowgrad's own renderer without it.

>>> import flowgrad as fg
>>> w = fg.tensor([[1.0, 2.0]], requires_grad=True)
>>> x = fg.ones(2, 3)
>>> loss = (w @ x).sum()
>>> text = graph(loss, params={"w": w})
>>> "SumBackward" in text and "MatmulBackward" in text and "w\\\\n(1, 2)" in text
True
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

import flowgrad as fg

__all__ = ["graph", "render", "render_dot", "quote", "numbers", "GraphvizNotFoundError"]

_INSTALL_HINT = (
    "install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz; "
    "conda: conda install graphviz), or save the DOT text instead with a path ending in .dot"
)
_REQUIRES_GRAD_COLOR = "#c9e7c1"
_DATA_COLOR = "#e8e8e8"
_OUTPUT_COLOR = "#f6d8a8"


class GraphvizNotFoundError(fg.FlowgradError, RuntimeError):
    """Drawing a graph needs Graphviz's ``dot`` program, which is not installed."""


def quote(text: str) -> str:
    """``text`` as a DOT string literal: quotes and backslashes escaped, newlines as DOT line breaks."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def numbers(value: Any, full: int = 6, shown: int = 3) -> str:
    """A value for a picture's label, signed and never cut inside a number: a scalar or an array
    of up to ``full`` elements in full, a larger one as its shape, its first ``shown`` numbers and
    its norm.

    >>> numbers(4.0), numbers([1.5, -2.0]), numbers(np.arange(12.0).reshape(3, 4))
    ('4', '[1.5, -2]', '(3, 4): 0, 1, 2, ... norm 22.49')
    """
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        return f"{arr.dtype}{list(arr.shape)}"
    flat = arr.astype(np.float64).ravel()
    text = [f"{v:.4g}" for v in flat[: max(full, shown)]]
    if arr.ndim == 0:
        return text[0]
    if arr.size <= full:
        return "[" + ", ".join(text) + "]"
    return f"{tuple(arr.shape)}: {', '.join(text[:shown])}, ... norm {float(np.linalg.norm(flat)):.4g}"


def render_dot(dot_source: str, path: str | pathlib.Path) -> pathlib.Path:
    """Write DOT text to ``path``: as text for ``.dot``/``.gv``, else drawn by ``dot`` in the suffix's format.

    >>> import pathlib, tempfile
    >>> out = render_dot("digraph { a -> b }", pathlib.Path(tempfile.mkdtemp()) / "g.dot")
    >>> out.read_text()
    'digraph { a -> b }'
    """
    path = pathlib.Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt in ("dot", "gv"):
        path.write_text(dot_source, encoding="utf-8")
        return path
    if not fmt:
        raise fg.FlowgradError(f"render: {str(path)!r} has no suffix; end it in .svg, .png or .pdf (or .dot)")
    program = shutil.which("dot")
    if program is None:
        raise GraphvizNotFoundError(f"render: drawing {path.name} needs Graphviz's dot program; {_INSTALL_HINT}")
    result = subprocess.run(
        [program, f"-T{fmt}", "-o", str(path)], input=dot_source.encode("utf-8"), capture_output=True, check=False
    )
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip()
        raise fg.FlowgradError(f"render: dot could not draw {path.name} as {fmt}: {message}")
    return path


def _shape(t: fg.Tensor) -> str:
    return str(tuple(t.shape))


def _leaf_label(t: fg.Tensor, name: str | None, values: bool = False, grads: bool = False) -> str:
    lines = [name or ("parameter" if t.requires_grad else "tensor"), _shape(t), str(t.dtype)]
    if values:
        lines.append(f"value {numbers(t._data)}")
    if t.requires_grad:
        lines.append("requires_grad")
        if t.grad is not None and grads:
            lines.append(f"gradient {numbers(t.grad._data)}")
        elif t.grad is not None:
            lines.append(f"grad norm {float(np.linalg.norm(np.asarray(t.grad._data).ravel())):.4g}")
    return "\n".join(lines)


def _op_label(t: fg.Tensor, name: str | None, values: bool = False) -> str:
    node = t.grad_fn
    assert node is not None  # drawn as an op only when an op made it
    lines = [node.name(), _shape(t)]
    if name:
        lines.insert(0, name)
    # Settings that change what the op does (axis=1, keepdims=True), not the defaults.
    shown = [
        f"{k}={v!r}"
        for k, v in (node.params or {}).items()
        if isinstance(v, (int, float, str, tuple)) and v is not False and len(repr(v)) <= 20
    ]
    lines.append(", ".join(shown))
    if values:
        lines.append(f"value {numbers(t._data)}")
    if node.inputs is None:
        lines.append("(freed by backward)")
    return "\n".join(line for line in lines if line)


def graph(
    output: fg.Tensor | Sequence[fg.Tensor],
    params: Mapping[str, fg.Tensor] | None = None,
    values: bool = False,
    grads: bool = False,
) -> str:
    """Graphviz DOT text of the graph recorded behind ``output`` (a tensor or several).

    ``params`` names tensors in the picture (``dict(model.named_parameters())``
    works). Call it before ``.backward()`` (or after ``backward(retain_graph=True)``):
    a backward pass frees the graph, and freed ops are marked so. ``values=True`` adds each
    tensor's value, ``grads=True`` each leaf's ``.grad`` (signed) instead of its norm. To draw a
    whole step after ``backward()``, with constants and every gradient, use :func:`record`.

    >>> import flowgrad as fg
    >>> x = fg.tensor([1.0, 2.0], requires_grad=True)
    >>> print(graph((x * 3).sum()))
    digraph eager {
      rankdir=BT;
      node [fontname="Helvetica", fontsize=10];
      t0 [label="SumBackward\\n()", shape=box, style="filled,bold", fillcolor="#f6d8a8"];
      t1 [label="MulBackward\\n(2,)", shape=box];
      t2 [label="parameter\\n(2,)\\nfloat32\\nrequires_grad", shape=ellipse, style="filled", fillcolor="#c9e7c1"];
      t1 -> t0;
      t2 -> t1;
    }
    """
    outputs = [output] if isinstance(output, fg.Tensor) else list(output)
    for i, t in enumerate(outputs):
        if not isinstance(t, fg.Tensor):
            raise fg.DTypeError(f"viz.graph: output {i} is a {type(t).__name__}, not a flowgrad Tensor")
    names = {id(t): name for name, t in (params or {}).items()}
    ids: dict[int, str] = {}
    keep_alive: list[fg.Tensor] = []  # ids are only unique while the tensors live
    node_lines: list[str] = []
    edges: list[tuple[str, list[fg.Tensor]]] = []
    output_ids = {id(t) for t in outputs}
    stack = list(reversed(outputs))
    while stack:  # depth first with an explicit stack: deep graphs need no recursion
        t = stack.pop()
        if id(t) in ids:
            continue
        ident = ids[id(t)] = f"t{len(ids)}"
        keep_alive.append(t)
        node = t.grad_fn
        name = names.get(id(t))
        if node is None:
            color = _REQUIRES_GRAD_COLOR if t.requires_grad else _DATA_COLOR
            style = "filled,bold" if id(t) in output_ids else "filled"
            node_lines.append(
                f"  {ident} [label={quote(_leaf_label(t, name, values, grads))}, shape=ellipse, style={quote(style)}, "
                f"fillcolor={quote(color)}];"
            )
            continue
        style = f', style="filled,bold", fillcolor={quote(_OUTPUT_COLOR)}' if id(t) in output_ids else ""
        node_lines.append(f"  {ident} [label={quote(_op_label(t, name, values))}, shape=box{style}];")
        inputs = [] if node.inputs is None else list(node.next_tensors)
        edges.append((ident, inputs))
        stack.extend(reversed(inputs))
    edge_lines = [f"  {ids[id(inp)]} -> {ident};" for ident, inputs in edges for inp in inputs]
    header = ["digraph eager {", "  rankdir=BT;", '  node [fontname="Helvetica", fontsize=10];']
    return "\n".join(header + node_lines + edge_lines + ["}"])


def render(
    output: fg.Tensor | Sequence[fg.Tensor],
    path: str | pathlib.Path,
    params: Mapping[str, Any] | None = None,
    values: bool = False,
    grads: bool = False,
    engine: str = "auto",
) -> pathlib.Path:
    """Draw ``graph(output, params, values, grads)`` to ``path`` (.svg, .png, .pdf; .dot saves the text).

    ``engine="auto"`` draws with Graphviz's ``dot`` when it is installed and with flowgrad's own
    renderer otherwise (.svg directly, .png and .pdf through matplotlib); ``"dot"`` insists on
    Graphviz (:class:`GraphvizNotFoundError`, saying how to install it, without it) and
    ``"builtin"`` on flowgrad's renderer.

    >>> import pathlib, tempfile
    >>> import flowgrad as fg
    >>> w = fg.tensor([1.0], requires_grad=True)
    >>> path = render((w * 2).sum(), pathlib.Path(tempfile.mkdtemp()) / "graph.dot")
    >>> "MulBackward" in path.read_text()
    True
    """
    from .svg import choose_engine, write_builtin

    path = pathlib.Path(path)
    chosen = choose_engine(engine, "viz.render")
    if chosen == "dot" or path.suffix.lower() in (".dot", ".gv", ""):
        return render_dot(graph(output, params, values, grads), path)
    from .record import GraphRecord

    return write_builtin(GraphRecord.from_tensor(output, dict(params or {})), path, values, grads, "BT")
