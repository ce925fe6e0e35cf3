"""``fg.autograd``: PyTorch's ``torch.autograd`` names, and custom ``Function``s.

>>> import flowgrad as fg
>>> x = fg.tensor(2.0, requires_grad=True)
>>> fg.autograd.grad(x ** 3, x)
(tensor(12.),)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import is_array
from ..core.engine import backward as _backward
from ..core.engine import grad
from ..core.engine import one_backward as _one_backward
from ..core.engine import queue_after_backward as _queue_after_backward
from ..core.legacy import Variable
from ..core.mode import detect_anomaly, enable_grad, no_grad, set_detect_anomaly, set_grad_enabled
from ..core.ops import Op, apply
from ..core.tensor import Tensor
from . import graph

__all__ = [
    "graph",
    "grad",
    "backward",
    "Function",
    "FunctionCtx",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "detect_anomaly",
    "set_detect_anomaly",
    "Variable",
    "queue_callback",
]


def queue_callback(fn: Any) -> None:
    """Run ``fn()`` once, when the next ``backward()`` has set every leaf's ``.grad`` (PyTorch's
    ``Variable._execution_engine.queue_callback``; DistributedDataParallel averages gradients there).

    >>> import flowgrad as fg
    >>> w = fg.tensor([1.0], requires_grad=True)
    >>> fg.autograd.queue_callback(lambda: print("grad is", w.grad))
    >>> (w * 3).sum().backward()
    grad is tensor([3.])
    """
    _queue_after_backward(fn)


def backward(
    tensors: Any, grad_tensors: Any = None, retain_graph: Any = None, create_graph: bool = False, inputs: Any = None
) -> None:
    """Accumulate gradients of ``tensors`` into leaves' ``.grad`` (``torch.autograd.backward``)."""
    ts = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    gs = [grad_tensors] * len(ts) if grad_tensors is None or isinstance(grad_tensors, Tensor) else list(grad_tensors)
    with _one_backward():  # callbacks queued for the end of backward run once, after the last root
        for t, g in zip(ts, gs):
            _backward(t, g, True if retain_graph is None else retain_graph, create_graph, inputs)


class FunctionCtx:
    """The ``ctx`` a custom Function's forward and backward share."""

    def __init__(self) -> None:
        self.saved_tensors: tuple = ()
        self.needs_input_grad: tuple = ()

    def save_for_backward(self, *tensors: Any) -> None:
        """Keep tensors for backward (read them back as ``ctx.saved_tensors``)."""
        self.saved_tensors = tuple(tensors)

    def mark_non_differentiable(self, *tensors: Any) -> None:  # accepted for compatibility
        pass


def _function_forward(*datas: Any, fn: type[Function], ctx: FunctionCtx) -> np.ndarray:
    args = [Tensor._wrap(d) if is_array(d) else d for d in datas]
    with no_grad():
        out = fn.forward(ctx, *args)
    if not isinstance(out, Tensor):
        out = Tensor._wrap(np.asarray(out))
    return out._data


def _function_backward(
    xp: Any, g: Any, ans: Any, wanted: list, *inputs: Any, fn: type[Function], ctx: FunctionCtx
) -> list:
    differentiable = isinstance(g, Tensor)  # create_graph=True: keep the user's ops recorded
    g_t = g if differentiable else Tensor._wrap(g)
    if differentiable:
        with enable_grad():
            grads = fn.backward(ctx, g_t)
    else:
        with no_grad():
            grads = fn.backward(ctx, g_t)
    if not isinstance(grads, tuple):
        grads = (grads,)
    if len(grads) < len(inputs):
        raise TypeError(f"{fn.__name__}.backward returned {len(grads)} gradients but forward took {len(inputs)} inputs")
    out: list[Any] = []
    for gi, need, inp in zip(grads, wanted, inputs):
        if not need:
            out.append(None)
        elif gi is None:  # PyTorch reads None as a zero gradient
            out.append(np.zeros(np.shape(inp._data if isinstance(inp, Tensor) else inp)))
        elif differentiable:
            out.append(gi if isinstance(gi, Tensor) else Tensor._wrap(np.asarray(gi)))
        else:
            out.append(gi._data if isinstance(gi, Tensor) else np.asarray(gi))
    return out


class Function:
    """A custom differentiable operation, as ``torch.autograd.Function``.

    Write ``forward(ctx, *inputs)`` and ``backward(ctx, grad_output)`` as static
    methods and call ``MyFunction.apply(...)``. Item assignment on the gradient
    (``grad_input[x < 0] = 0``) is allowed there.

    >>> import flowgrad as fg
    >>> class MyReLU(fg.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x.clamp(min=0)
    ...     @staticmethod
    ...     def backward(ctx, grad_output):
    ...         (x,) = ctx.saved_tensors
    ...         grad_input = grad_output.clone()
    ...         grad_input[x < 0] = 0
    ...         return grad_input
    >>> x = fg.tensor([-1.0, 2.0], requires_grad=True)
    >>> MyReLU.apply(x).sum().backward(); x.grad
    tensor([0., 1.])
    """

    _op: Op | None = None

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("write forward(ctx, *inputs) as a @staticmethod")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        raise NotImplementedError("write backward(ctx, grad_output) as a @staticmethod")

    @classmethod
    def apply(cls, *args: Any) -> Tensor:
        op = cls.__dict__.get("_op")
        if op is None:
            # One Op per Function class, outside the registry: user ops are not primitives.
            op = Op(cls.__name__, _function_forward, vjp_all=_function_backward)
            cls._op = op
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        return apply(op, args, {"fn": cls, "ctx": ctx})
