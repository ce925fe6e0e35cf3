"""flowgrad's own graph layout, for pictures without Graphviz: good up to a few hundred nodes.

Layers by longest path from the inputs (a leaf or constant sits just before its first consumer),
a node per layer crossing of a long edge, a few barycenter sweeps to reduce crossings, then
positions along each layer pulled toward the neighbours' and spaced so that no boxes overlap.

>>> lay = layout_graph(["a", "b", "c"], [("a", "c"), ("b", "c")], {k: (40, 20) for k in "abc"})
>>> [lay.boxes[k].layer for k in "abc"], lay.boxes["a"].x < lay.boxes["c"].x
([0, 0, 1], True)
>>> len(lay.edges), lay.edges[0].points[0] == (lay.boxes["a"].x + 40, lay.boxes["a"].cy)
(2, True)
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Mapping, Sequence

import flowgrad as fg

__all__ = ["Box", "EdgePath", "Layout", "layout_graph", "text_size", "FONT_SIZE"]

FONT_SIZE = 12.0
CHAR_WIDTH = 0.62  # of the font size: monospace glyphs are 0.6 em wide; a little room on top
LINE_HEIGHT = 1.3
PAD_X, PAD_Y = 8.0, 6.0
MARGIN = 12.0
_DUMMY_EXTENT = 6.0


def text_size(lines: Sequence[str], font_size: float = FONT_SIZE) -> tuple[float, float]:
    """Width and height of a box holding ``lines`` of monospace text with padding.

    >>> text_size(["add (+)", "scalar"])
    (68.1, 43.2)
    """
    longest = max((len(line) for line in lines), default=0)
    width = longest * font_size * CHAR_WIDTH + 2 * PAD_X
    height = max(len(lines), 1) * font_size * LINE_HEIGHT + 2 * PAD_Y
    return round(width, 1), round(height, 1)


@dataclasses.dataclass
class Box:
    """A node's box: top-left corner ``x``, ``y``, width ``w``, height ``h`` and its layer.

    >>> b = Box("n0", 10.0, 20.0, 40.0, 30.0, 0)
    >>> b.cx, b.cy
    (30.0, 35.0)
    """

    id: str
    x: float
    y: float
    w: float
    h: float
    layer: int

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


@dataclasses.dataclass
class EdgePath:
    """An edge from ``src`` to ``dst`` (input ``position`` of ``dst``): ``points`` start on the
    source's border, pass where a long edge crosses layers and end on the target's border.

    >>> lay = layout_graph(["a", "b"], [("a", "b")], {"a": (40, 20), "b": (40, 20)})
    >>> e = lay.edges[0]
    >>> e.src, e.dst, e.points[0][0] == lay.boxes["a"].x + 40, e.points[-1][0] == lay.boxes["b"].x
    ('a', 'b', True, True)
    """

    src: str
    dst: str
    position: int
    points: list[tuple[float, float]]


@dataclasses.dataclass
class Layout:
    """Boxes by node id, edge paths (one per edge given, in that order), the picture's size.

    >>> lay = layout_graph(["a", "b", "c"], [("a", "c"), ("b", "c")], {k: (40, 20) for k in "abc"})
    >>> lay.layers, lay.overlaps(), lay.width > 80
    ([['a', 'b'], ['c']], [], True)
    """

    width: float
    height: float
    boxes: dict[str, Box]
    edges: list[EdgePath]
    rankdir: str
    layers: list[list[str]]

    def overlaps(self) -> list[tuple[str, str]]:
        """Pairs of boxes that overlap (none, by construction; tests check it)."""
        found = []
        boxes = sorted(self.boxes.values(), key=lambda b: b.x)
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                if b.x >= a.x + a.w:
                    break
                if a.y < b.y + b.h and b.y < a.y + a.h:
                    found.append((a.id, b.id))
        return found


def _layers(nodes: list[str], preds: dict[str, list[str]], succs: dict[str, list[str]]) -> dict[str, int]:
    indegree = {v: len(preds[v]) for v in nodes}
    order = [v for v in nodes if indegree[v] == 0]
    for v in order:  # Kahn's algorithm: the list grows while it is read
        for w in succs[v]:
            indegree[w] -= 1
            if indegree[w] == 0:
                order.append(w)
    if len(order) != len(nodes):
        raise fg.ArgumentError("layout_graph: the graph has a cycle; only graphs without cycles can be laid out")
    layer: dict[str, int] = {}
    for v in order:
        layer[v] = max((layer[p] + 1 for p in preds[v]), default=0)
    for v in order:  # a source sits just before its first consumer, not far back at layer 0
        if not preds[v] and succs[v]:
            layer[v] = min(layer[w] for w in succs[v]) - 1
    return layer


def _crossings(upper: list[str], lower_pos: dict[str, int], succ: dict[str, list[str]]) -> int:
    pairs = sorted((i, lower_pos[w]) for i, v in enumerate(upper) for w in succ[v])
    seen: list[int] = []
    count = 0
    for _, b in pairs:
        count += len(seen) - bisect.bisect_right(seen, b)
        bisect.insort(seen, b)
    return count


def _port_offsets(edges: Sequence[tuple[str, str]]) -> dict[tuple[str, str], float]:
    """Where each edge enters its target, from -0.5 to 0.5 of the target's extent: inputs in order."""
    count: dict[str, int] = {}
    for _, d in edges:
        count[d] = count.get(d, 0) + 1
    seen: dict[str, int] = {}
    spots: dict[tuple[str, str], list[float]] = {}
    for s, d in edges:
        k = seen[d] = seen.get(d, -1) + 1
        spots.setdefault((s, d), []).append((k + 1) / (count[d] + 1) - 0.5)
    return {e: sum(v) / len(v) for e, v in spots.items()}


def _sort_layer(
    rank: list[str], ref: list[str], neighbours: dict[str, list[str]], ports: dict[tuple[str, str], float]
) -> None:
    """Sort a layer by the mean position of each node's neighbours in the layer ``ref`` (plus the
    port an edge enters, toward a later layer: sub(a, b) puts a above b); a node without
    neighbours keeps its relative place."""
    pos = {v: k for k, v in enumerate(ref)}
    current = {v: k for k, v in enumerate(rank)}

    def key(v: str) -> float:
        ns = [pos[n] + ports.get((v, n), 0.0) for n in neighbours[v]]
        return sum(ns) / len(ns) if ns else float(current[v]) * len(pos) / max(len(current), 1)

    rank.sort(key=key)


def _order(
    ranks: list[list[str]],
    up: dict[str, list[str]],
    down: dict[str, list[str]],
    ports: dict[tuple[str, str], float],
    sweeps: int,
) -> None:
    def total() -> int:
        pos = [{v: i for i, v in enumerate(r)} for r in ranks]
        return sum(_crossings(ranks[i], pos[i + 1], down) for i in range(len(ranks) - 1))

    best, best_count = [list(r) for r in ranks], total()
    for _ in range(sweeps):
        for indices, neighbours in ((range(1, len(ranks)), up), (range(len(ranks) - 2, -1, -1), down)):
            for i in indices:
                ref = ranks[i - 1] if neighbours is up else ranks[i + 1]
                _sort_layer(ranks[i], ref, neighbours, ports if neighbours is down else {})
        count = total()
        if count <= best_count:  # a tie goes to the later sweep, which has seen the ports
            best, best_count = [list(r) for r in ranks], count
        if best_count == 0:
            break
    ranks[:] = best


def _place(order: list[str], desired: dict[str, float], ext: dict[str, float], gap: float) -> dict[str, float]:
    """Centres along a layer as near ``desired`` as spacing allows: a pass each way, averaged.
    Each pass keeps neighbours at least their half-extents plus ``gap`` apart, so the mean does too."""
    n = len(order)
    if n == 0:
        return {}
    seps = [(ext[order[i]] + ext[order[i + 1]]) / 2 + gap for i in range(n - 1)]
    fwd = [desired[order[0]]]
    for i in range(1, n):
        fwd.append(max(desired[order[i]], fwd[-1] + seps[i - 1]))
    bwd = [desired[order[-1]]]
    for i in range(n - 2, -1, -1):
        bwd.append(min(desired[order[i]], bwd[-1] - seps[i]))
    bwd.reverse()
    return {v: (fwd[i] + bwd[i]) / 2 for i, v in enumerate(order)}


def layout_graph(
    nodes: Sequence[str],
    edges: Sequence[tuple[str, str]],
    sizes: Mapping[str, tuple[float, float]],
    rankdir: str = "LR",
    node_gap: float = 18.0,
    rank_gap: float = 56.0,
    sweeps: int = 6,
) -> Layout:
    """Lay out a graph without cycles: ``nodes`` ids, ``edges`` ``(src, dst)`` (repeats allowed:
    ``x * x``), ``sizes`` each node's ``(width, height)``. ``rankdir`` is ``"LR"`` (inputs left),
    ``"TB"`` (inputs on top) or ``"BT"`` (inputs at the bottom). Returns a :class:`Layout`.

    >>> lay = layout_graph(["x", "y", "f"], [("x", "f"), ("y", "f")], {k: (50, 30) for k in "xyf"}, "TB")
    >>> lay.boxes["x"].y < lay.boxes["f"].y, lay.boxes["x"].x < lay.boxes["y"].x
    (True, True)
    """
    if rankdir not in ("LR", "TB", "BT"):
        raise fg.ArgumentError(f"layout_graph: rankdir must be 'LR', 'TB' or 'BT', got {rankdir!r}")
    nodes = list(dict.fromkeys(nodes))
    known = set(nodes)
    for src, dst in edges:
        if src not in known or dst not in known:
            raise fg.ArgumentError(f"layout_graph: edge ({src!r}, {dst!r}) names a node not in nodes")
    unique = list(dict.fromkeys((s, d) for s, d in edges if s != d))
    ports = _port_offsets(edges)
    preds: dict[str, list[str]] = {v: [] for v in nodes}
    succs: dict[str, list[str]] = {v: [] for v in nodes}
    for s, d in unique:
        preds[d].append(s)
        succs[s].append(d)
    layer = _layers(nodes, preds, succs)
    lo = min(layer.values(), default=0)
    layer = {v: k - lo for v, k in layer.items()}
    horizontal = rankdir == "LR"
    # Extent across the layers (cross) and along them (rank) of each box.
    cross = {v: sizes[v][1] if horizontal else sizes[v][0] for v in nodes}
    along = {v: sizes[v][0] if horizontal else sizes[v][1] for v in nodes}
    # Long edges pass through one dummy node per layer they cross.
    up: dict[str, list[str]] = {v: [] for v in nodes}
    down: dict[str, list[str]] = {v: [] for v in nodes}
    chains: dict[tuple[str, str], list[str]] = {}
    for s, d in unique:
        chain = [s]
        for k in range(layer[s] + 1, layer[d]):
            dummy = f"\0{s}\0{d}\0{k}"
            layer[dummy], cross[dummy], along[dummy] = k, _DUMMY_EXTENT, 0.0
            up[dummy], down[dummy] = [], []
            chain.append(dummy)
        chain.append(d)
        for a, b in zip(chain, chain[1:]):
            down[a].append(b)
            up[b].append(a)
        if len(chain) > 2:
            ports[(chain[-2], d)] = ports.pop((s, d))
        chains[(s, d)] = chain[1:-1]
    ranks: list[list[str]] = [[] for _ in range(max(layer.values(), default=-1) + 1)]
    for v in [*nodes, *(v for v in layer if v not in known)]:  # forward order, then the dummies
        ranks[layer[v]].append(v)
    _order(ranks, up, down, ports, sweeps)
    # Across: packed and centred, then pulled toward the neighbours a few times each way.
    pos: dict[str, float] = {}
    for r in ranks:
        start = {v: 0.0 for v in r}
        pos.update(_place(r, start, cross, node_gap))
    for _ in range(4):
        for indices, neighbours in ((range(1, len(ranks)), up), (range(len(ranks) - 2, -1, -1), down)):
            for i in indices:
                desired = {}
                for v in ranks[i]:
                    if neighbours is down:  # straight into the port: its centre is offset from the target's
                        ns = [pos[n] + ports.get((v, n), 0.0) * cross[n] for n in neighbours[v]]
                    else:
                        ns = [pos[n] - ports.get((n, v), 0.0) * cross[v] for n in neighbours[v]]
                    desired[v] = sum(ns) / len(ns) if ns else pos[v]
                pos.update(_place(ranks[i], desired, cross, node_gap))
    # Along: each layer as thick as its thickest box.
    thickness = [max((along[v] for v in r), default=0.0) for r in ranks]
    centres, at = [], 0.0
    for t in thickness:
        centres.append(at + t / 2)
        at += t + rank_gap
    if rankdir == "BT":
        total = at - rank_gap
        centres = [total - c for c in centres]
    low = min((pos[v] - cross[v] / 2 for v in layer), default=0.0)
    boxes: dict[str, Box] = {}
    points: dict[str, tuple[float, float]] = {}
    for v in layer:
        across = pos[v] - low + MARGIN
        along_at = centres[layer[v]] + MARGIN
        x, y = (along_at, across) if horizontal else (across, along_at)
        points[v] = (round(x, 1), round(y, 1))
        if v in known:
            w, h = sizes[v]
            boxes[v] = Box(v, round(x - w / 2, 1), round(y - h / 2, 1), w, h, layer[v])
    width = max((b.x + b.w for b in boxes.values()), default=0.0) + MARGIN
    height = max((b.y + b.h for b in boxes.values()), default=0.0) + MARGIN
    bounds = [(c - t / 2 + MARGIN, c + t / 2 + MARGIN) for c, t in zip(centres, thickness)]
    if rankdir == "BT":
        bounds = [(hi, lo) for lo, hi in bounds]
    paths = _paths(edges, boxes, chains, points, rankdir, bounds)
    real_ranks = [[v for v in r if v in known] for r in ranks]
    return Layout(round(width, 1), round(height, 1), boxes, paths, rankdir, real_ranks)


def _paths(
    edges: Sequence[tuple[str, str]],
    boxes: dict[str, Box],
    chains: dict[tuple[str, str], list[str]],
    points: dict[str, tuple[float, float]],
    rankdir: str,
    bounds: list[tuple[float, float]],
) -> list[EdgePath]:
    """Each edge leaves its source's side facing the next layer and enters its target's facing
    side at a port of its own, ordered by input position (``sub(a, b)``: a's arrow first). It runs
    straight to the edge of the source's layer and from the edge of the target's, so that it never
    crosses a wider box of either layer."""
    count: dict[str, int] = {}
    for _, d in edges:
        count[d] = count.get(d, 0) + 1
    seen: dict[str, int] = {}
    out = []
    for s, d in edges:
        k = seen.get(d, 0)
        seen[d] = k + 1
        a, b = boxes[s], boxes[d]
        frac = (k + 1) / (count[d] + 1)
        if rankdir == "LR":
            start, end = (a.x + a.w, a.cy), (b.x, b.y + b.h * frac)
        elif rankdir == "TB":
            start, end = (a.cx, a.y + a.h), (b.x + b.w * frac, b.y)
        else:
            start, end = (a.cx, a.y), (b.x + b.w * frac, b.y + b.h)
        middle = [points[v] for v in chains.get((s, d), [])]
        leave, enter = bounds[a.layer][1], bounds[b.layer][0]
        if rankdir == "LR":
            first, last = (leave, start[1]), (enter, end[1])
        else:
            first, last = (start[0], leave), (end[0], enter)
        pts = [start] + ([first] if first != start else []) + middle + ([last] if last != end else []) + [end]
        pts = [(round(x, 1), round(y, 1)) for x, y in pts]
        out.append(EdgePath(s, d, k, pts))
    return out
