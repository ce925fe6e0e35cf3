"""Gradient checking for your own ops and models: ``gradcheck`` and ``gradgradcheck``.

Both compare the Jacobian the engine computes with central differences, in
the inputs' dtype (use float64), and return True or raise
``GradcheckError`` naming the worst element, its index and both values.

>>> import flowgrad as fg
>>> x = fg.randn(3, dtype=fg.float64, requires_grad=True)
>>> fg.testing.gradcheck(lambda t: (t.tanh() * t).sum(), (x,))
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import flowgrad as fg

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(fg.FlowgradError, AssertionError):
    """An analytic gradient disagrees with the numerical one."""


def _outputs(fn: Callable[..., Any], inputs: Sequence[Any]) -> list[fg.Tensor]:
    out = fn(*inputs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    return [o for o in outs if isinstance(o, fg.Tensor)]


def _numerical(fn: Callable[..., Any], inputs: Sequence[Any], x: fg.Tensor, eps: float) -> list[np.ndarray]:
    """d outputs / d x by central differences: one array (out.size, x.size) per output."""
    flat = x._data.reshape(-1)
    cols: list[list[np.ndarray]] = []
    # Not under no_grad: fn may itself differentiate (gradgradcheck). The data is
    # nudged directly, so no version bump makes a later backward refuse.
    for i in range(flat.size):
        orig = flat[i]
        flat[i] = orig + eps
        plus = [o._data.astype(np.float64).reshape(-1).copy() for o in _outputs(fn, inputs)]
        flat[i] = orig - eps
        minus = [o._data.astype(np.float64).reshape(-1).copy() for o in _outputs(fn, inputs)]
        flat[i] = orig
        cols.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
    n_out = len(_outputs(fn, inputs))
    return [np.stack([c[k] for c in cols], axis=1) if cols else np.zeros((0, 0)) for k in range(n_out)]


def _analytical(fn: Callable[..., Any], inputs: Sequence[Any], x: fg.Tensor) -> list[np.ndarray]:
    outs = _outputs(fn, inputs)
    result = []
    for o in outs:
        jac = np.zeros((o.numel(), x.numel()))
        for k in range(o.numel()):
            if not o.requires_grad:
                break
            seed = np.zeros(o.numel(), dtype=o.dtype)
            seed[k] = 1
            (g,) = fg.autograd.grad(o, [x], [seed.reshape(o.shape)], retain_graph=True, allow_unused=True)
            if g is not None:
                jac[k] = g._data.reshape(-1)
        result.append(jac)
    return result


def gradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Check first derivatives of ``fn`` with respect to every input that requires grad."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    for idx, x in enumerate(inputs):
        if not (isinstance(x, fg.Tensor) and x.requires_grad):
            continue
        if x.dtype != np.float64:
            raise fg.DTypeError(f"gradcheck: input {idx} is {x.dtype}; use float64 inputs for a meaningful check")
        for k, (num, ana) in enumerate(zip(_numerical(fn, inputs, x, eps), _analytical(fn, inputs, x))):
            if num.size == 0:
                continue
            bad = np.abs(ana - num) - (atol + rtol * np.abs(num))
            if bad.max() > 0:
                worst = np.unravel_index(int(np.argmax(bad)), bad.shape)
                if not raise_exception:
                    return False
                raise GradcheckError(
                    f"gradcheck: output {k}, input {idx}: d out[{worst[0]}] / d in[{worst[1]}] "
                    f"(flat indexes) is {ana[worst]!r} analytically but {num[worst]!r} numerically "
                    f"(eps={eps}, atol={atol}, rtol={rtol})"
                )
    return True


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    grad_outputs: Sequence[Any] | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Check second derivatives: gradcheck of the vector-Jacobian product of ``fn``."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    diff = [x for x in inputs if isinstance(x, fg.Tensor) and x.requires_grad]
    outs = _outputs(fn, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = [rng.standard_normal(o.shape).astype(o.dtype) for o in outs]

    def first_derivatives(*xs: Any) -> tuple:
        os_ = _outputs(fn, xs)
        pairs = [(o, g) for o, g in zip(os_, grad_outputs) if o.requires_grad]
        targets = [x for x in xs if isinstance(x, fg.Tensor) and x.requires_grad]
        gs = fg.autograd.grad(
            [o for o, _ in pairs], targets, [g for _, g in pairs], create_graph=True, allow_unused=True
        )
        return tuple(g for g in gs if g is not None)

    if not diff:
        return True
    return gradcheck(first_derivatives, inputs, eps, atol, rtol, raise_exception)
