"""PyTorch eager: ``torch.nn`` network, ``torch.optim.SGD``, ``loss.backward()``."""

from __future__ import annotations

from ..problems import Problem
from . import Setup
from .modules import build_step


def setup(problem: Problem, threads: int) -> Setup:
    import torch

    torch.set_num_threads(threads)
    step = build_step(torch.nn, torch.optim, problem, torch.from_numpy)
    batches = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in problem.batches]
    return Setup(step, batches, {"torch": torch.__version__})
