"""flowgrad eager: ``fg.nn`` network, ``fg.optim.SGD``, ``loss.backward()``, with tensors as inputs."""

from __future__ import annotations

from ..problems import Problem
from . import Setup
from .modules import build_step


def setup(problem: Problem, threads: int) -> Setup:
    import flowgrad as fg

    step = build_step(fg.nn, fg.optim, problem, fg.from_numpy)
    batches = [(fg.from_numpy(x), fg.from_numpy(y)) for x, y in problem.batches]
    return Setup(step, batches, {"flowgrad": fg.__version__})
