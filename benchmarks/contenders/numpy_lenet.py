"""Hand-written NumPy LeNet-5 step: im2col by one strided view, one GEMM per convolution.

The window gather is ``as_strided`` over the input (no copy until the GEMM needs a contiguous
operand), col2im a slice-add per kernel offset (25 of them), and max-pool's backward writes the
gradient at the argmax of each window (the first maximum, as PyTorch chooses).
"""

from __future__ import annotations

import numpy as np


def _windows(x: np.ndarray, k: int) -> np.ndarray:
    """(N, C, H, W) -> (C, k, k, N, oh, ow) view, stride 1: rows of im2col in (C, kh, kw) order."""
    n, c, h, w = x.shape
    s0, s1, s2, s3 = x.strides
    oh, ow = h - k + 1, w - k + 1
    return np.lib.stride_tricks.as_strided(x, (c, k, k, n, oh, ow), (s1, s2, s3, s0, s2, s3), writeable=False)


def _col2im(gcols: np.ndarray, shape: tuple, k: int) -> np.ndarray:
    """Adjoint of ``_windows``: gcols (C, k, k, N, oh, ow) summed back into (N, C, H, W)."""
    n, c, h, w = shape
    oh, ow = h - k + 1, w - k + 1
    out = np.zeros((c, n, h, w), dtype=gcols.dtype)
    for i in range(k):
        for j in range(k):
            out[:, :, i : i + oh, j : j + ow] += gcols[:, i, j]
    return out.transpose(1, 0, 2, 3)


def _pool(r: np.ndarray) -> tuple:
    """2x2 max-pool of (C, N, H, W); returns the pooled (C, N, H/2, W/2) and the argmax per window."""
    c, n, h, w = r.shape
    win = r.reshape(c, n, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(c, n, h // 2, w // 2, 4)
    arg = win.argmax(axis=-1)
    return np.take_along_axis(win, arg[..., None], -1)[..., 0], arg


def _unpool(g: np.ndarray, arg: np.ndarray) -> np.ndarray:
    """Index scatter: each pooled gradient to its window's argmax; back to (C, N, H, W)."""
    c, n, ph, pw = g.shape
    win = np.zeros((c, n, ph, pw, 4), dtype=g.dtype)
    np.put_along_axis(win, arg[..., None], g[..., None], -1)
    return win.reshape(c, n, ph, pw, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(c, n, 2 * ph, 2 * pw)


def lenet_step(problem, params: list, updater, loss_and_grad):
    """One SGD step of LeNet-5 (two 5x5 convolutions, two 2x2 max-pools, three Linear)."""
    w1, b1, w2, b2, w3, b3, w4, b4, w5, b5 = params
    update = updater(params, problem.lr, problem.momentum)

    def conv_relu(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple:
        n, _, h, wd = x.shape
        cols = _windows(x, 5).reshape(-1, n * (h - 4) * (wd - 4))  # the one copy, for the GEMM
        r = w.reshape(len(w), -1) @ cols
        r += b[:, None]
        np.maximum(r, 0, out=r)
        return cols, r.reshape(len(w), n, h - 4, wd - 4)

    def step(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        n = len(x)
        cols1, r1 = conv_relu(x, w1, b1)  # (6, N, 24, 24)
        p1, a1 = _pool(r1)  # (6, N, 12, 12)
        x2 = np.ascontiguousarray(p1.transpose(1, 0, 2, 3))
        cols2, r2 = conv_relu(x2, w2, b2)  # (16, N, 8, 8)
        p2, a2 = _pool(r2)  # (16, N, 4, 4)
        f = p2.transpose(1, 0, 2, 3).reshape(n, 256)
        h3 = np.maximum(f @ w3.T + b3, 0)
        h4 = np.maximum(h3 @ w4.T + b4, 0)
        loss, g = loss_and_grad("ce", h4 @ w5.T + b5, y)
        g5w, g5b = g.T @ h4, g.sum(axis=0)
        g = g @ w5
        g *= h4 > 0
        g4w, g4b = g.T @ h3, g.sum(axis=0)
        g = g @ w4
        g *= h3 > 0
        g3w, g3b = g.T @ f, g.sum(axis=0)
        g = (g @ w3).reshape(n, 16, 4, 4).transpose(1, 0, 2, 3)
        gr2 = _unpool(g, a2)
        gr2 *= r2 > 0
        gr2 = gr2.reshape(16, -1)
        g2w, g2b = (gr2 @ cols2.T).reshape(w2.shape), gr2.sum(axis=1)
        gcols2 = (w2.reshape(16, -1).T @ gr2).reshape(6, 5, 5, n, 8, 8)
        gp1 = _col2im(gcols2, x2.shape, 5).transpose(1, 0, 2, 3)  # (6, N, 12, 12)
        gr1 = _unpool(gp1, a1)
        gr1 *= r1 > 0
        gr1 = gr1.reshape(6, -1)
        g1w, g1b = (gr1 @ cols1.T).reshape(w1.shape), gr1.sum(axis=1)
        for i, grad in enumerate((g1w, g1b, g2w, g2b, g3w, g3b, g4w, g4b, g5w, g5b)):
            update(i, params[i], grad)
        return loss

    return step
