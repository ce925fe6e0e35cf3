"""Hand-written NumPy: forward, backward and update written out, the floor for any NumPy framework.

Arrays are updated in place and gradients computed straight from the saved activations, with
no graph and no bookkeeping: what a careful person writes for one fixed network.
"""

from __future__ import annotations

import numpy as np

from ..problems import Problem
from . import Setup


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


def _im2col(a: np.ndarray, k: int) -> np.ndarray:
    """(C, N, H, W) -> (C*k*k, N*oh*ow) im2col rows: one strided view, copied once."""
    c, n, h, w = a.shape
    oh, ow = h - k + 1, w - k + 1
    s0, s1, s2, s3 = a.strides
    view = np.lib.stride_tricks.as_strided(a, (c, k, k, n, oh, ow), (s0, s2, s3, s1, s2, s3), writeable=False)
    return view.reshape(c * k * k, n * oh * ow)


def _pool(z: np.ndarray) -> tuple:
    """2x2 max-pool of (C, N, H, W), ReLU after it (the same as before it); and each window's choice."""
    quads = [z[:, :, i::2, j::2] for i in (0, 1) for j in (0, 1)]
    pooled = quads[0].copy()
    choice = np.zeros(pooled.shape, dtype=np.uint8)
    for k in (1, 2, 3):  # a strictly greater value moves the choice on: the first maximum stays
        np.maximum(choice, (quads[k] > pooled).view(np.uint8) * np.uint8(k), out=choice)
        np.maximum(pooled, quads[k], out=pooled)
    np.maximum(pooled, 0, out=pooled)
    return pooled, choice


def _unpool(g: np.ndarray, choice: np.ndarray, pooled: np.ndarray) -> np.ndarray:
    c, n, h, w = g.shape
    g = g * (pooled > 0)
    out = np.empty((c, n, 2 * h, 2 * w), dtype=g.dtype)
    for k, (i, j) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        np.multiply(g, choice == k, out=out[:, :, i::2, j::2])
    return out


def _lenet_step(problem, params: list):
    # Activations as (C, N, H, W): each convolution is one (O, C*k*k) @ (C*k*k, N*oh*ow) product
    # on im2col rows copied once from one strided view, whose result needs no transpose; the
    # flattened features are put in PyTorch's (C, H, W) order for the first Linear.
    update = _Updater(params, problem.lr, problem.momentum)

    def step(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        w1, b1, w2, b2, w3, b3, w4, b4, w5, b5 = params
        n = len(x)
        xp = np.zeros((1, n, 32, 32), dtype=x.dtype)
        xp[0, :, 2:30, 2:30] = x[:, 0]
        cols1 = _im2col(xp, 5)  # (25, N*784)
        z1 = (w1.reshape(6, 25) @ cols1).reshape(6, n, 28, 28)
        z1 += b1[:, None, None, None]
        a1, c1 = _pool(z1)  # (6, N, 14, 14)
        cols2 = _im2col(a1, 5)  # (150, N*100)
        z2 = (w2.reshape(16, 150) @ cols2).reshape(16, n, 10, 10)
        z2 += b2[:, None, None, None]
        a2, c2 = _pool(z2)  # (16, N, 5, 5)
        f = a2.transpose(1, 0, 2, 3).reshape(n, 400)
        h3 = np.maximum(f @ w3.T + b3, 0)
        h4 = np.maximum(h3 @ w4.T + b4, 0)
        loss, g = _loss_and_grad("ce", h4 @ w5.T + b5, y)
        gw5, gb5 = g.T @ h4, g.sum(axis=0)
        g = (g @ w5) * (h4 > 0)
        gw4, gb4 = g.T @ h3, g.sum(axis=0)
        g = (g @ w4) * (h3 > 0)
        gw3, gb3 = g.T @ f, g.sum(axis=0)
        gz2 = _unpool((g @ w3).reshape(n, 16, 5, 5).transpose(1, 0, 2, 3), c2, a2).reshape(16, n * 100)
        gw2 = (cols2 @ gz2.T).T.reshape(16, 6, 5, 5)
        gcols = (w2.reshape(16, 150).T @ gz2).reshape(6, 5, 5, n, 10, 10)
        ga1 = np.zeros((6, n, 14, 14), dtype=x.dtype)
        for i in range(5):  # col2im: one slice-add per kernel offset
            for j in range(5):
                ga1[:, :, i : i + 10, j : j + 10] += gcols[:, i, j]
        gz1 = _unpool(ga1, c1, a1).reshape(6, n * 784)
        gw1 = (cols1 @ gz1.T).T.reshape(6, 1, 5, 5)
        grads = [gw1, gz1.sum(axis=1), gw2, gz2.sum(axis=1), gw3, gb3, gw4, gb4, gw5, gb5]
        for i, (p, gp) in enumerate(zip(params, grads)):
            update(i, p, gp)
        return loss

    return step


def _sigmoid(z: np.ndarray) -> np.ndarray:
    np.negative(z, out=z)
    np.exp(z, out=z)
    z += 1
    return np.reciprocal(z, out=z)


def _lstm_step(problem, params: list):
    # Gates of all steps' inputs in one GEMM, then one (B, H) @ (H, 4H) product per step; backward
    # through time keeps each step's gate gradients in one (T, B, 4H) array for two weight GEMMs.
    update = _Updater(params, problem.lr, problem.momentum)

    def step(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        w_ih, w_hh, b_ih, b_hh, wo, bo = params
        seq, b, d = x.shape
        hid = w_hh.shape[1]
        acts = (x.reshape(seq * b, d) @ w_ih.T).reshape(seq, b, 4 * hid)
        acts += b_ih + b_hh
        hs = np.zeros((seq + 1, b, hid), dtype=x.dtype)
        cs = np.zeros((seq + 1, b, hid), dtype=x.dtype)
        tcs = np.empty((seq, b, hid), dtype=x.dtype)
        for t in range(seq):
            z = acts[t]
            z += hs[t] @ w_hh.T
            _sigmoid(z[:, : 2 * hid])
            np.tanh(z[:, 2 * hid : 3 * hid], out=z[:, 2 * hid : 3 * hid])
            _sigmoid(z[:, 3 * hid :])
            i, f, g, o = z[:, :hid], z[:, hid : 2 * hid], z[:, 2 * hid : 3 * hid], z[:, 3 * hid :]
            np.multiply(f, cs[t], out=cs[t + 1])
            cs[t + 1] += i * g
            np.tanh(cs[t + 1], out=tcs[t])
            np.multiply(o, tcs[t], out=hs[t + 1])
        loss, gl = _loss_and_grad("ce", hs[seq] @ wo.T + bo, y)
        gwo, gbo = gl.T @ hs[seq], gl.sum(axis=0)
        dh = gl @ wo
        dc = np.zeros((b, hid), dtype=x.dtype)
        dz = np.empty_like(acts)
        for t in reversed(range(seq)):
            z = acts[t]
            i, f, g, o = z[:, :hid], z[:, hid : 2 * hid], z[:, 2 * hid : 3 * hid], z[:, 3 * hid :]
            tc = tcs[t]
            dc += dh * o * (1 - tc * tc)
            dz[t, :, :hid] = dc * g * i * (1 - i)
            dz[t, :, hid : 2 * hid] = dc * cs[t] * f * (1 - f)
            dz[t, :, 2 * hid : 3 * hid] = dc * i * (1 - g * g)
            dz[t, :, 3 * hid :] = dh * tc * o * (1 - o)
            dc *= f
            dh = dz[t] @ w_hh
        flat = dz.reshape(seq * b, 4 * hid)
        gb = flat.sum(axis=0)
        grads = [flat.T @ x.reshape(seq * b, d), flat.T @ hs[:seq].reshape(seq * b, hid), gb, gb, gwo, gbo]
        for k, (p, gp) in enumerate(zip(params, grads)):
            update(k, p, gp)
        return loss

    return step


def setup(problem: Problem, threads: int) -> Setup:
    params = [np.array(p) for p in problem.params]
    builders = {"conv": _conv_step, "lenet": _lenet_step, "lstm": _lstm_step}
    step = builders.get(problem.arch, _mlp_step)(problem, params)
    return Setup(step, problem.batches, {"numpy": np.__version__})
