"""Hand-written NumPy: forward, backward and update written out, the floor for any NumPy framework.

Arrays are updated in place and gradients computed straight from the saved activations, with
no graph and no bookkeeping: what a careful person writes for one fixed network.
"""

from __future__ import annotations

import numpy as np

from ..problems import Problem
from . import Setup
from .numpy_lenet import lenet_step
from .numpy_lstm import lstm_step


def _activate(name: str | None, z: np.ndarray) -> np.ndarray:
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if name == "relu":
        return np.maximum(z, 0)
    if name == "tanh":
        return np.tanh(z)
    return z


def _activation_backward(name: str | None, a: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Gradient through the activation from its output ``a``; ``g`` is ours to overwrite."""
    if name == "sigmoid":
        g *= a * (1 - a)
    elif name == "relu":
        g *= a > 0
    elif name == "tanh":
        g *= 1 - a * a
    return g


def _loss_and_grad(kind: str, out: np.ndarray, y: np.ndarray) -> tuple:
    if kind == "mse":
        d = out - y
        return np.mean(d * d), d * (2 / d.size)
    rows = np.arange(len(out))  # softmax cross-entropy over integer labels
    shifted = out - out.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    loss = np.mean(np.log(s[:, 0]) - shifted[rows, y])
    g = e / s
    g[rows, y] -= 1
    g /= len(out)
    return loss, g


class _Updater:
    """SGD, with momentum when asked (buf = m * buf + g; p -= lr * buf), in place."""

    def __init__(self, params: list, lr: float, momentum: float) -> None:
        self.lr, self.momentum = lr, momentum
        self.bufs = [np.zeros_like(p) for p in params] if momentum else None

    def __call__(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        if self.bufs is not None:
            buf = self.bufs[i]
            buf *= self.momentum
            buf += g
            g = buf
        p -= self.lr * g


def _mlp_step(problem, params: list):
    n = len(params) // 2
    acts = [problem.hidden] * (n - 1) + [problem.output]
    update = _Updater(params, problem.lr, problem.momentum)

    def step(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        hs = [x]
        for i in range(n):
            hs.append(_activate(acts[i], hs[-1] @ params[2 * i].T + params[2 * i + 1]))
        loss, g = _loss_and_grad(problem.loss, hs[-1], y)
        for i in reversed(range(n)):
            w, b = params[2 * i], params[2 * i + 1]
            g = _activation_backward(acts[i], hs[i + 1], g)
            gw, gb = g.T @ hs[i], g.sum(axis=0)
            if i:
                g = g @ w
            update(2 * i, w, gw)
            update(2 * i + 1, b, gb)
        return loss

    return step


def _conv_step(problem, params: list):
    # Conv2d(1, 8, 3, padding=1) by im2col, ReLU, 2x2 max-pool, flatten (C, H, W), Linear(128, 10).
    # im2col takes the 8x8 output positions in pooling-window order, (dh, dw, B, 4, 4), so the
    # convolution is one (8, 9) @ (9, 4*B*16) product and pooling a max over one axis.
    wc, bc, wf, bf = params
    update = _Updater(params, problem.lr, problem.momentum)
    offsets = [(ki, kj, dh, dw) for ki in range(3) for kj in range(3) for dh in range(2) for dw in range(2)]
    padded: dict = {}

    def step(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        bsz = len(x)
        if bsz not in padded:
            padded[bsz] = np.zeros((bsz, 10, 10), dtype=x.dtype)
        xp = padded[bsz]
        xp[:, 1:9, 1:9] = x[:, 0]
        cols = np.empty((36, bsz, 4, 4), dtype=x.dtype)
        for k, (ki, kj, dh, dw) in enumerate(offsets):
            cols[k] = xp[:, ki + dh : ki + dh + 8 : 2, kj + dw : kj + dw + 8 : 2]
        cols = cols.reshape(9, 4 * bsz * 16)
        r = wc.reshape(8, 9) @ cols
        r += bc[:, None]
        np.maximum(r, 0, out=r)
        r = r.reshape(8, 4, bsz * 16)  # (C, window element, B*4*4)
        pooled = r.max(axis=1)
        flat = pooled.reshape(8, bsz, 16).transpose(1, 0, 2).reshape(bsz, 128)
        loss, g = _loss_and_grad("ce", flat @ wf.T + bf, y)
        gwf, gbf = g.T @ flat, g.sum(axis=0)
        gpool = (g @ wf).reshape(bsz, 8, 16).transpose(1, 0, 2).reshape(8, bsz * 16)
        gpool *= pooled > 0  # through the ReLU
        chosen = r == pooled[:, None]  # the first maximum of each window, as PyTorch chooses
        seen = chosen[:, 0].copy()
        for k in range(1, 4):
            chosen[:, k] &= ~seen
            seen |= chosen[:, k]
        gr = (chosen * gpool[:, None]).reshape(8, 4 * bsz * 16)
        update(0, wc, (gr @ cols.T).reshape(8, 1, 3, 3))
        update(1, bc, gr.sum(axis=1))
        update(2, wf, gwf)
        update(3, bf, gbf)
        return loss

    return step


def setup(problem: Problem, threads: int) -> Setup:
    params = [np.array(p) for p in problem.params]
    if problem.arch == "lenet":
        step = lenet_step(problem, params, _Updater, _loss_and_grad)
    elif problem.arch == "lstm":
        step = lstm_step(problem, params, _Updater, _loss_and_grad)
    elif problem.arch == "conv":
        step = _conv_step(problem, params)
    else:
        step = _mlp_step(problem, params)
    return Setup(step, problem.batches, {"numpy": np.__version__})
