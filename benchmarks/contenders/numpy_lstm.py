"""Hand-written NumPy LSTM training step for the benchmarks' ``lstm`` problem (forward and
backward through time written out), the referee flowgrad's and PyTorch's LSTM steps are timed against."""

from __future__ import annotations

from typing import Any

import numpy as np


def _sigmoid(z: np.ndarray) -> np.ndarray:
    np.negative(z, out=z)
    np.exp(z, out=z)
    z += 1
    return np.reciprocal(z, out=z)


def lstm_step(problem: Any, params: list, updater: Any, loss_and_grad: Any) -> Any:
    # Gates of all steps' inputs in one GEMM, then one (B, H) @ (H, 4H) product per step; backward
    # through time keeps each step's gate gradients in one (T, B, 4H) array for two weight GEMMs.
    update = updater(params, problem.lr, problem.momentum)

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
        loss, gl = loss_and_grad("ce", hs[seq] @ wo.T + bo, y)
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
