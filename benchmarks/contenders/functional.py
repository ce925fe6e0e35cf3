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


def _conv_shifted(xp: Any, x: Any, w: Any, b: Any, pad: int) -> Any:
    """Stride-1 convolution as k*k shifted slices stacked, then one contraction (any xp)."""
    if pad:
        x = xp.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    o, c, k, _ = w.shape
    oh, ow = x.shape[2] - k + 1, x.shape[3] - k + 1
    patches = xp.stack([x[:, :, i : i + oh, j : j + ow] for i in range(k) for j in range(k)], axis=2)
    out = xp.einsum("nckhw,ock->nohw", patches, xp.reshape(w, (o, c, k * k)))
    return out + xp.reshape(b, (1, o, 1, 1))


def _pool2(xp: Any, r: Any) -> Any:
    n, c, h, w = r.shape
    return xp.max(xp.reshape(r, (n, c, h // 2, 2, w // 2, 2)), axis=(3, 5))


def _lenet(xp: Any, params: list, x: Any) -> Any:
    w1, b1, w2, b2, w3, b3, w4, b4, w5, b5 = params
    a = _pool2(xp, xp.maximum(_conv_shifted(xp, x, w1, b1, 2), 0))
    a = _pool2(xp, xp.maximum(_conv_shifted(xp, a, w2, b2, 0), 0))
    h = xp.reshape(a, (a.shape[0], 400))
    h = xp.maximum(_linear(xp, h, w3, b3), 0)
    h = xp.maximum(_linear(xp, h, w4, b4), 0)
    return _linear(xp, h, w5, b5)


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
        if problem.arch == "lenet":
            out = _lenet(xp, params, x)
        else:
            out = _convnet(xp, conv2d, params, x) if problem.arch == "conv" else _mlp(xp, problem, params, x)
        return _loss(xp, problem.loss, out, y)

    return loss
