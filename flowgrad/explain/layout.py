"""A layered left-to-right layout: each node's column is its depth (the longest path from an input),
rows ordered by a few barycenter sweeps to cut crossings, edges as cubic curves between box sides."""

from __future__ import annotations

from collections.abc import Sequence

GAP_X = 70.0
GAP_Y = 24.0
MARGIN = 20.0


def layered(
    ids: Sequence[str], edges: Sequence[tuple[str, str]], sizes: dict[str, tuple[float, float]], sweeps: int = 4
) -> tuple[dict[str, tuple[float, float, float, float]], dict[tuple[str, str], list[list[float]]], float, float]:
    """Boxes (centre x, centre y, width, height), edge routes, and the picture's width and height.

    ``ids`` must list every node after its inputs (a topological order).

    >>> boxes, routes, w, h = layered(["a", "b", "c"], [("a", "c"), ("b", "c")], {k: (40, 20) for k in "abc"})
    >>> boxes["a"][0] < boxes["c"][0], boxes["a"][1] != boxes["b"][1]
    (True, True)
    """
    inputs: dict[str, list[str]] = {i: [] for i in ids}
    outputs: dict[str, list[str]] = {i: [] for i in ids}
    for src, dst in edges:
        inputs[dst].append(src)
        outputs[src].append(dst)
    depth: dict[str, int] = {}
    for node in ids:
        depth[node] = 1 + max((depth[s] for s in inputs[node]), default=-1)
    for node in ids:  # an input sits just before its first consumer, not far left of it
        if not inputs[node] and outputs[node]:
            depth[node] = max(0, min(depth[c] for c in outputs[node]) - 1)
    columns: list[list[str]] = [[] for _ in range(max(depth.values(), default=0) + 1)]
    for node in ids:
        columns[depth[node]].append(node)
    position = {node: float(i) for col in columns for i, node in enumerate(col)}
    for sweep in range(sweeps):  # alternate: order by inputs' rows, then by consumers' rows
        neighbours = inputs if sweep % 2 == 0 else outputs
        order = columns[1:] if sweep % 2 == 0 else columns[-2::-1]
        for col in order:
            centres = {node: _barycenter(node, neighbours, position) for node in col}
            col.sort(key=centres.__getitem__)
            for i, node in enumerate(col):
                position[node] = float(i)
    widths = [max((sizes[n][0] for n in col), default=0.0) for col in columns]
    heights = [sum(sizes[n][1] for n in col) + GAP_Y * (len(col) - 1) for col in columns]
    height = max(heights, default=0.0) + 2 * MARGIN
    boxes: dict[str, tuple[float, float, float, float]] = {}
    x = MARGIN
    for col, col_width, col_height in zip(columns, widths, heights):
        y = (height - col_height) / 2
        for node in col:
            w, h = sizes[node]
            boxes[node] = (x + col_width / 2, y + h / 2, w, h)
            y += h + GAP_Y
        x += col_width + GAP_X
    width = x - GAP_X + MARGIN
    routes = {}
    for src, dst in edges:
        sx, sy, sw, _ = boxes[src]
        dx, dy, dw, _ = boxes[dst]
        start, end = [sx + sw / 2, sy], [dx - dw / 2, dy]
        bend = (start[0] + end[0]) / 2  # the two control points of a cubic Bezier curve
        routes[(src, dst)] = [start, [bend, start[1]], [bend, end[1]], end]
    return boxes, routes, width, height


def _barycenter(node: str, neighbours: dict[str, list[str]], position: dict[str, float]) -> float:
    near = [position[n] for n in neighbours[node]]
    return sum(near) / len(near) if near else position[node]
