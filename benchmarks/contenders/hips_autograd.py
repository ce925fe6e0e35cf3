"""HIPS autograd: ``value_and_grad`` of a loss over a list of arrays, then an in-place SGD update."""

from __future__ import annotations

from importlib.metadata import version

import numpy as np

from ..problems import Problem
from . import Setup
from .functional import loss_function


def _conv2d(x, w, b):
    # 3x3 convolution with padding 1 over one input channel, as nine shifted views of the padded
    # input (data, not differentiated) times the weights.
    import autograd.numpy as anp

    xp = np.pad(x[:, 0], ((0, 0), (1, 1), (1, 1)))
    patches = np.stack([xp[:, i : i + 8, j : j + 8] for i in range(3) for j in range(3)], axis=-1)
    out = anp.dot(patches, anp.reshape(w, (8, 9)).T)  # (B, 8, 8, C)
    return anp.transpose(out, (0, 3, 1, 2)) + anp.reshape(b, (8, 1, 1))


def setup(problem: Problem, threads: int) -> Setup:
    import autograd
    import autograd.numpy as anp

    grad_fn = autograd.value_and_grad(loss_function(anp, problem, _conv2d))
    params = [np.array(p) for p in problem.params]
    lr, momentum = problem.lr, problem.momentum
    bufs = [np.zeros_like(p) for p in params]

    def step(x, y):
        loss, grads = grad_fn(params, x, y)
        for p, g, buf in zip(params, grads, bufs):
            if momentum:
                buf *= momentum
                buf += g
                g = buf
            p -= lr * g
        return loss

    return Setup(step, problem.batches, {"autograd": version("autograd")})
