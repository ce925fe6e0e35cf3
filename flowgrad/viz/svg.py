"""flowgrad's own renderer: a laid-out record written as SVG text, or drawn with matplotlib (PNG, PDF).

>>> import flowgrad as fg
>>> from flowgrad.viz.record import GraphRecord
>>> svg = record_svg(GraphRecord.from_tensor(fg.tensor(2.0, requires_grad=True) * 3.0))
>>> svg.count('class="node"'), svg.count('class="edge"')
(3, 2)
"""

from __future__ import annotations

import pathlib
import shutil
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

import flowgrad as fg

from .eager import render_dot
from .labels import EDGE_COLOR, label_lines, node_colors
from .layout import FONT_SIZE, LINE_HEIGHT, PAD_Y, EdgePath, Layout

if TYPE_CHECKING:
    from .record import GraphRecord

__all__ = ["record_svg", "layout_svg", "draw", "write_builtin", "choose_engine"]

FONT_FAMILY = "DejaVu Sans Mono, Menlo, Consolas, monospace"
_ENGINES = ("auto", "dot", "builtin")


def _path_d(edge: EdgePath, rankdir: str) -> str:
    """Straight for two points; else a cubic Bezier per segment, leaving and entering along the layers."""
    pts = edge.points
    d = [f"M{pts[0][0]:.1f},{pts[0][1]:.1f}"]
    if len(pts) == 2 and (pts[0][0] == pts[1][0] or pts[0][1] == pts[1][1]):
        d.append(f"L{pts[1][0]:.1f},{pts[1][1]:.1f}")
        return " ".join(d)
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if rankdir == "LR":
            mid = (x1 - x0) / 2
            c1, c2 = (x0 + mid, y0), (x1 - mid, y1)
        else:
            mid = (y1 - y0) / 2
            c1, c2 = (x0, y0 + mid), (x1, y1 - mid)
        d.append(f"C{c1[0]:.1f},{c1[1]:.1f} {c2[0]:.1f},{c2[1]:.1f} {x1:.1f},{y1:.1f}")
    return " ".join(d)


def layout_svg(
    lay: Layout,
    labels: dict[str, list[str]],
    fills: dict[str, str] | None = None,
    bold: set[str] | None = None,
    titles: dict[str, str] | None = None,
) -> str:
    """SVG text of a layout: one ``<g class="node">`` (box and text lines) per box, one
    ``<g class="edge">`` per edge with an arrowhead. ``titles`` are tooltips (``<title>``)."""
    fills, bold, titles = fills or {}, bold or set(), titles or {}
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{lay.width:.0f}" height="{lay.height:.0f}" '
        f'viewBox="0 0 {lay.width:.1f} {lay.height:.1f}" font-family={quoteattr(FONT_FAMILY)} '
        f'font-size="{FONT_SIZE:g}">',
        "<defs>",
        '<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{EDGE_COLOR}"/></marker>',
        "</defs>",
        '<rect width="100%" height="100%" fill="#ffffff"/>',
    ]
    for e in lay.edges:
        out.append(
            f'<g class="edge" id={quoteattr(f"edge-{e.src}-{e.dst}-{e.position}")}>'
            f'<path d="{_path_d(e, lay.rankdir)}" fill="none" stroke="{EDGE_COLOR}" stroke-width="1.2" '
            'marker-end="url(#arrow)"/></g>'
        )
    step = FONT_SIZE * LINE_HEIGHT
    for b in lay.boxes.values():
        lines = labels.get(b.id, [b.id])
        width = 2.2 if b.id in bold else 1.0
        title = f"<title>{escape(titles[b.id])}</title>" if b.id in titles else ""
        text = "".join(
            f'<tspan x="{b.cx:.1f}" y="{b.y + PAD_Y + step * (i + 0.75):.1f}"'
            + (' font-weight="bold"' if i == 0 else "")
            + f">{escape(line)}</tspan>"
            for i, line in enumerate(lines)
        )
        out.append(
            f'<g class="node" id={quoteattr(f"node-{b.id}")}>{title}'
            f'<rect x="{b.x:.1f}" y="{b.y:.1f}" width="{b.w:.1f}" height="{b.h:.1f}" rx="5" '
            f'fill={quoteattr(fills.get(b.id, "#ffffff"))} stroke="#333333" stroke-width="{width}"/>'
            f'<text text-anchor="middle">{text}</text></g>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _styles(record: GraphRecord, values: bool, grads: bool) -> tuple[dict, dict, set, dict]:
    labels, fills, bold, titles = {}, {}, set(), {}
    for n in record.nodes.values():
        labels[n.id] = label_lines(n, values, grads, record)
        fills[n.id], is_bold = node_colors(n, record)
        if is_bold:
            bold.add(n.id)
        if n.source is not None:
            titles[n.id] = str(n.source)
    return labels, fills, bold, titles


def record_svg(record: GraphRecord, values: bool = True, grads: bool = True, rankdir: str = "LR") -> str:
    """SVG text of a record drawn by the built-in renderer."""
    labels, fills, bold, titles = _styles(record, values, grads)
    return layout_svg(record.layout(values, grads, rankdir), labels, fills, bold, titles)


def _matplotlib_draw(
    record: GraphRecord, path: pathlib.Path, fmt: str, values: bool, grads: bool, rankdir: str
) -> None:
    try:
        import matplotlib  # noqa: F401  (first: the clear error when it is missing)
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
        from matplotlib.path import Path as MplPath
    except ImportError as exc:
        raise fg.FlowgradError(
            f"render: drawing {path.name} without Graphviz needs matplotlib (pip install matplotlib); "
            "or save an .svg, which needs neither"
        ) from exc
    lay = record.layout(values, grads, rankdir)
    labels, fills, bold, _ = _styles(record, values, grads)
    dpi = 100.0
    fig = Figure(figsize=(max(lay.width, 1) / dpi, max(lay.height, 1) / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, lay.width)
    ax.set_ylim(lay.height, 0)  # SVG's y axis: down
    ax.axis("off")
    points_per_px = 72.0 / dpi
    for e in lay.edges:
        codes, verts = [MplPath.MOVETO], [e.points[0]]
        for (x0, y0), (x1, y1) in zip(e.points, e.points[1:]):
            if rankdir == "LR":
                c1, c2 = (x0 + (x1 - x0) / 2, y0), (x1 - (x1 - x0) / 2, y1)
            else:
                c1, c2 = (x0, y0 + (y1 - y0) / 2), (x1, y1 - (y1 - y0) / 2)
            verts += [c1, c2, (x1, y1)]
            codes += [MplPath.CURVE4] * 3
        ax.add_patch(
            FancyArrowPatch(path=MplPath(verts, codes), arrowstyle="-|>", mutation_scale=10, color=EDGE_COLOR, lw=1)
        )
    for b in lay.boxes.values():
        ax.add_patch(
            FancyBboxPatch(
                (b.x, b.y), b.w, b.h, boxstyle="round,pad=0,rounding_size=5", facecolor=fills[b.id],
                edgecolor="#333333", linewidth=2.2 if b.id in bold else 1.0,
            )
        )  # fmt: skip
        for i, line in enumerate(labels[b.id]):
            y = b.y + PAD_Y + FONT_SIZE * LINE_HEIGHT * (i + 0.5)
            weight = "bold" if i == 0 else "normal"
            ax.text(b.cx, y, line, ha="center", va="center", family="monospace", fontsize=FONT_SIZE * points_per_px,
                    fontweight=weight)  # fmt: skip
    fig.savefig(str(path), format=fmt, dpi=dpi)


def choose_engine(engine: str, where: str) -> str:
    """``"dot"`` or ``"builtin"`` for ``engine`` (``"auto"``: dot when it is installed)."""
    if engine not in _ENGINES:
        raise fg.ArgumentError(f"{where}: engine must be one of {', '.join(map(repr, _ENGINES))}, got {engine!r}")
    if engine == "auto":
        return "dot" if shutil.which("dot") is not None else "builtin"
    return engine


def write_builtin(record: GraphRecord, path: pathlib.Path, values: bool, grads: bool, rankdir: str) -> pathlib.Path:
    """Draw ``record`` to ``path`` with the built-in renderer (.svg directly; .png/.pdf via matplotlib)."""
    fmt = path.suffix.lstrip(".").lower()
    if fmt == "svg":
        path.write_text(record_svg(record, values, grads, rankdir), encoding="utf-8")
    elif fmt in ("png", "pdf"):
        _matplotlib_draw(record, path, fmt, values, grads, rankdir)
    else:
        raise fg.FlowgradError(
            f"render: the built-in renderer draws .svg, .png and .pdf, not .{fmt} ({path.name}); "
            "install Graphviz for other formats"
        )
    return path


def draw(
    record: GraphRecord, path: str | pathlib.Path, values: bool, grads: bool, engine: str, rankdir: str
) -> pathlib.Path:
    """``GraphRecord.render``: DOT text for .dot/.gv, else Graphviz or the built-in renderer."""
    path = pathlib.Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if not fmt:
        raise fg.FlowgradError(f"render: {str(path)!r} has no suffix; end it in .svg, .png or .pdf (or .dot)")
    chosen = choose_engine(engine, "render")
    if fmt in ("dot", "gv") or chosen == "dot":
        return render_dot(record.to_dot(values, grads, rankdir), path)
    return write_builtin(record, path, values, grads, rankdir)
