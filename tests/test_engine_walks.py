"""The backward engine's two walks agree to the last bit, over the whole op table.

``flowgrad.core.walks`` has a lean first-order walk and a general one (create_graph, anomaly mode,
fg.compile's tracing, fg.viz.record). They share the start of each step and the accumulation
rules; this runs every op case through both, by ``.backward()`` into ``.grad`` and by
``fg.autograd.grad``, and requires identical gradients.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np
import pytest

import flowgrad as fg
from flowgrad.core import engine

from .op_table import CASES, run

PARAMS = [
    pytest.param(case, shapes, id=f"{case.id}-{i}")
    for case in CASES
    if case.grad_inputs != () and not case.xfail  # an xfail row fails the same way in both walks
    for i, shapes in enumerate(case.shapes)
]


def _gradients(case, arrays, which, w, general: bool) -> Iterator[np.ndarray]:
    engine.force_general_walk = general
    try:
        leaves = [fg.tensor(a, requires_grad=i in which) for i, a in enumerate(arrays)]
        out = run(case, leaves)
        (out * fg.tensor(w, dtype=out.dtype)).sum().backward(retain_graph=True)
        yield from (leaves[i].grad.numpy() for i in which)
        grads = fg.autograd.grad(out, [leaves[i] for i in which], grad_outputs=w)
        yield from (g.numpy() for g in grads)
    finally:
        engine.force_general_walk = False


@pytest.mark.parametrize("case, shapes", PARAMS)
def test_both_walks_give_the_same_bits(case, shapes):
    rng = np.random.default_rng(zlib.crc32(f"{case.id}|{shapes}".encode()))
    arrays = [np.asarray(a) for a in case.sample(rng, shapes)]
    arrays = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in arrays]
    which = (
        case.grad_inputs
        if case.grad_inputs is not None
        else tuple(i for i, a in enumerate(arrays) if a.dtype.kind == "f")
    )
    probe = run(case, [fg.tensor(a) for a in arrays])
    w = rng.standard_normal(probe.shape)
    fast = list(_gradients(case, arrays, which, w, general=False))
    general = list(_gradients(case, arrays, which, w, general=True))
    assert len(fast) == len(general) == 2 * len(which)
    for a, b in zip(fast, general):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert np.array_equal(a, b, equal_nan=True), f"{case.id}: the walks differ by {np.nanmax(np.abs(a - b))}"


def test_the_switch_really_takes_the_general_walk(monkeypatch):
    taken = []
    real = engine.walk_general
    monkeypatch.setattr(engine, "walk_general", lambda *a, **k: taken.append(1) or real(*a, **k))
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    square = SimpleNamespace(fn=lambda t: t * t)
    list(_gradients(square, [x.numpy()], (0,), np.ones(2), general=True))
    assert taken
