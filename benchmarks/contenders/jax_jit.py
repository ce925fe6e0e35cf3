"""JAX: one ``jax.jit`` function computing the loss, the gradients and the SGD update functionally."""

from __future__ import annotations

from ..problems import Problem
from . import Setup
from .functional import loss_function


def setup(problem: Problem, threads: int) -> Setup:
    # The orchestrator sets XLA_FLAGS for one thread and pins the process to `threads` cores.
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)  # for the float64 case; float32 arrays stay float32

    def conv2d(x, w, b):
        y = jax.lax.conv_general_dilated(x, w, (1, 1), ((1, 1), (1, 1)))
        return y + b[None, :, None, None]

    grad_fn = jax.value_and_grad(loss_function(jnp, problem, conv2d))
    lr, momentum = problem.lr, problem.momentum

    @jax.jit
    def update(params, bufs, x, y):
        loss, grads = grad_fn(params, x, y)
        if momentum:
            bufs = [momentum * b + g for b, g in zip(bufs, grads)]
            grads = bufs
        return [p - lr * g for p, g in zip(params, grads)], bufs, loss

    state = [[jnp.asarray(p) for p in problem.params], [jnp.zeros_like(p) for p in problem.params] if momentum else []]

    def step(x, y):
        state[0], state[1], loss = update(state[0], state[1], x, y)
        return loss

    batches = [(jnp.asarray(x), jnp.asarray(y)) for x, y in problem.batches]
    return Setup(step, batches, {"jax": jax.__version__})
