"""Run one computation in flowgrad and in PyTorch and compare values and gradients.

Shared by the op table's PyTorch check (``tests/test_ops_gradcheck.py``) and the
compositions in ``tests/test_torch_compare.py``. torch is imported when a
comparison runs, so the op table loads without it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import flowgrad as fg

from .opcases import TorchAsFlowgrad

TT = TorchAsFlowgrad()
# (flowgrad dtype, torch dtype name, rtol, atol). float64: both sides run the same formulas in double
# precision, so only a few ulps of rounding apart; float32: single-precision rounding of the same formulas.
DTYPES = {"float64": (fg.float64, "float64", 1e-9, 1e-12), "float32": (fg.float32, "float32", 1e-4, 1e-5)}


def _torch() -> Any:
    import torch

    return torch


def leaves(arrs: list[np.ndarray], dtype: str, grad: tuple[int, ...] | None = None) -> tuple[list, list]:
    """The same inputs as flowgrad and torch tensors; float ones in ``dtype``, those in ``grad`` (all: None) leaves."""
    torch = _torch()
    fdt, tname = DTYPES[dtype][:2]
    fx, tx = [], []
    for i, a in enumerate(arrs):
        a = np.asarray(a)
        if a.dtype.kind != "f":
            fx.append(fg.tensor(a))
            tx.append(torch.tensor(a))
            continue
        g = grad is None or i in grad
        fx.append(fg.tensor(a, dtype=fdt, requires_grad=g))
        tx.append(torch.tensor(a, dtype=getattr(torch, tname), requires_grad=g))
    return fx, tx


def as_numpy(t: Any) -> np.ndarray:
    torch = _torch()
    if isinstance(t, torch.Tensor):
        return t.detach().numpy()
    return t.numpy() if isinstance(t, fg.Tensor) else np.asarray(t)


def assert_same(a: Any, b: Any, rtol: float, atol: float, what: str = "", scaled: bool = False) -> None:
    an, bn = as_numpy(a), as_numpy(b)
    assert an.shape == bn.shape, f"{what}: shape {an.shape} != torch {bn.shape}"
    assert an.dtype == bn.dtype, f"{what}: dtype {an.dtype} != torch {bn.dtype}"
    if scaled:  # long compositions: absolute error relative to the size of the numbers
        atol = atol * max(1.0, float(np.abs(bn).max(initial=0.0)))
    np.testing.assert_allclose(an, bn, rtol=rtol, atol=atol, err_msg=what)


def _flat(r: Any) -> list:
    return list(r) if isinstance(r, (tuple, list)) else [r]


def compare(
    fo: Any, to: Any, fx: list, tx: list, rtol: float, atol: float, scaled: bool = False, seed: int = 1
) -> None:
    """Compare outputs, then backward ``sum((out * w).sum())`` on both sides and compare every ``.grad``.

    With no input requiring a gradient (ops without gradient rules), only the values are compared.
    """
    torch = _torch()
    fo, to = _flat(fo), _flat(to)
    assert len(fo) == len(to)
    rng = np.random.default_rng(seed)
    floss, tloss = [], []
    for i, (a, b) in enumerate(zip(fo, to)):
        assert_same(a, b, rtol, atol, f"output {i}", scaled)
        if b.dtype.is_floating_point and b.requires_grad:
            w = rng.standard_normal(tuple(b.shape))
            floss.append((a * fg.tensor(w, dtype=a.dtype)).sum())
            tloss.append((b * torch.tensor(w, dtype=b.dtype)).sum())
    if not any(t.requires_grad for t in tx):
        return
    assert floss, "nothing to differentiate"
    sum(floss).backward()
    sum(tloss).backward()
    for i, (a, b) in enumerate(zip(fx, tx)):
        if not b.requires_grad:
            continue
        ga = np.zeros(a.shape, a.dtype) if a.grad is None else a.grad
        gb = torch.zeros_like(b) if b.grad is None else b.grad
        assert_same(ga, gb, rtol, atol, f"grad of input {i}", scaled)
