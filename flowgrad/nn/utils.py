"""Gradient clipping and flat parameter vectors (``torch.nn.utils``)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

import flowgrad as fg

__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "parameters_to_vector",
    "vector_to_parameters",
    "zero_grads",
]


def _params(parameters: Any) -> list:
    return [parameters] if isinstance(parameters, fg.Tensor) else list(parameters)


def clip_grad_norm_(
    parameters: Any, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False
) -> fg.Tensor:
    """Scale gradients in place so their joint norm is at most ``max_norm``; return the norm before.

    >>> import flowgrad as fg
    >>> w = fg.ones(4, requires_grad=True); (w * 3).sum().backward()
    >>> fg.nn.utils.clip_grad_norm_([w], 1.0).item(), round(float(w.grad.norm()), 6)
    (6.0, 1.0)
    """
    max_norm = fg.errors.check_number(max_norm, "clip_grad_norm_", "max_norm")  # checked even without gradients
    norm_type = fg.errors.check_number(norm_type, "clip_grad_norm_", "norm_type")
    grads = [p.grad._data for p in _params(parameters) if p.grad is not None]
    if not grads:
        return fg.tensor(0.0)
    if norm_type == math.inf:
        total = max(float(np.abs(g).max()) if g.size else 0.0 for g in grads)
    else:
        total = float(sum(float(np.sum(np.abs(g) ** norm_type)) for g in grads) ** (1.0 / norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise fg.FlowgradError(f"clip_grad_norm_: the total gradient norm is {total}")
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for g in grads:
            g *= coef
    return fg.tensor(total, dtype=grads[0].dtype)


def clip_grad_value_(parameters: Any, clip_value: float) -> None:
    """Clamp every gradient element to [-clip_value, clip_value] in place."""
    for p in _params(parameters):
        if p.grad is not None:
            np.clip(p.grad._data, -clip_value, clip_value, out=p.grad._data)


def parameters_to_vector(parameters: Iterable[fg.Tensor]) -> fg.Tensor:
    """All parameters flattened into one vector (differentiable)."""
    return fg.cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: fg.Tensor, parameters: Iterable[fg.Tensor]) -> None:
    """Copy consecutive slices of ``vec`` into ``parameters`` (in place)."""
    data = vec._data if isinstance(vec, fg.Tensor) else np.asarray(vec)
    offset = 0
    with fg.no_grad():
        for p in parameters:
            n = p.numel()
            if offset + n > data.size:
                raise fg.ShapeError(f"vector_to_parameters: vector of {data.size} elements is too short")
            p.copy_(data[offset : offset + n].reshape(p.shape))
            offset += n
    if offset != data.size:
        raise fg.ShapeError(f"vector_to_parameters: vector has {data.size} elements, parameters need {offset}")


def zero_grads(parameters: Iterable[fg.Tensor], set_to_none: bool = True) -> None:
    """Clear the gradients of ``parameters``: drop them (``set_to_none``) or fill them with zeros.

    The one rule behind ``Module.zero_grad`` and ``Optimizer.zero_grad``.

    >>> import flowgrad as fg
    >>> w = fg.ones(2, requires_grad=True)
    >>> (w * 3).sum().backward()
    >>> fg.nn.utils.zero_grads([w], set_to_none=False); w.grad
    tensor([0., 0.])
    >>> fg.nn.utils.zero_grads([w]); w.grad is None
    True
    """
    for p in parameters:
        if p.grad is None:
            continue
        if set_to_none:
            p.grad = None
        else:
            p.grad.zero_()
