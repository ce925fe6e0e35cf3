"""flowgrad eager: ``fg.nn`` network, ``fg.optim.SGD``, ``loss.backward()``, with tensors as inputs."""

from __future__ import annotations

from . import Setup
from .modules import build_step


def setup(problem, threads: int) -> Setup:  # noqa: ANN001
    import flowgrad as fg

    step = build_step(fg.nn, fg.optim, problem, fg.from_numpy)
    batches = [(fg.from_numpy(x), fg.from_numpy(y)) for x, y in problem.batches]
    return Setup(step, batches, {"flowgrad": fg.__version__})
