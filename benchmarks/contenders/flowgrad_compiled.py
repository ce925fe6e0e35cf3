"""flowgrad compiled: the eager contender's very step function, passed through ``fg.compile``."""

from __future__ import annotations

from ..problems import Problem
from . import Setup, flowgrad_eager


def setup(problem: Problem, threads: int) -> Setup:
    import flowgrad as fg

    eager = flowgrad_eager.setup(problem, threads)
    return Setup(fg.compile(eager.step), eager.batches, eager.versions)
