"""The problems as pure functions of a list of parameters, written once for any NumPy-like
namespace ``xp`` (``jax.numpy``, ``autograd.numpy``): the functional contenders differentiate
``loss(params, x, y)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _activate(xp: Any, name: str | None, z: Any) -> Any:
    if name == "sigmoid":
        return 1 / (1 + xp.exp(-z))
    if name == "relu":
        return xp.maximum(z, 0)
    if name == "tanh":
        return xp.tanh(z)
    return z


def _linear(xp: Any, x: Any, w: Any, b: Any) -> Any:
    return xp.dot(x, w.T) + b


def _mlp(xp: Any, problem: Any, params: list, x: Any) -> Any:
    n = len(params) // 2
    for i in range(n):
        x = _activate(
            xp, problem.hidden if i < n - 1 else problem.output, _linear(xp, x, params[2 * i], params[2 * i + 1])
        )
    return x


def _convnet(xp: Any, conv2d: Callable, params: list, x: Any) -> Any:
    wc, bc, wf, bf = params
    r = xp.maximum(conv2d(x, wc, bc), 0)  # (B, 8, 8, 8), channels first
    pooled = xp.max(xp.reshape(r, (r.shape[0], 8, 4, 2, 4, 2)), axis=(3, 5))
    return _linear(xp, xp.reshape(pooled, (r.shape[0], 8 * 4 * 4)), wf, bf)


def _loss(xp: Any, kind: str, out: Any, y: Any) -> Any:
    if kind == "mse":
        return xp.mean((out - y) ** 2)
    m = xp.max(out, axis=1, keepdims=True)
    lse = xp.log(xp.sum(xp.exp(out - m), axis=1)) + m[:, 0]
    return xp.mean(lse - out[xp.arange(out.shape[0]), y])


def loss_function(xp: Any, problem: Any, conv2d: Callable | None = None) -> Callable:
    """``loss(params, x, y)`` for the problem; ``conv2d(x, w, b)`` is needed for the conv case."""
    if problem.arch not in ("mlp", "conv"):
        raise NotImplementedError(f"the functional contenders do not build the {problem.arch!r} network yet")

    def loss(params: list, x: Any, y: Any) -> Any:
        out = _convnet(xp, conv2d, params, x) if problem.arch == "conv" else _mlp(xp, problem, params, x)
        return _loss(xp, problem.loss, out, y)

    return loss
