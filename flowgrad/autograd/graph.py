"""``fg.autograd.graph``: watch the autograd graph being built and walked (PyTorch keeps its graph
hooks under ``torch.autograd.graph`` too).

``observe(observer)`` tells ``observer`` of everything that happens on this thread until the
``with`` block ends: each primitive op as it runs, each in-place change made outside an op, each
read of a tensor's value into Python, and each backward pass step by step. ``fg.viz.record`` draws
graphs from it and ``fg.onnx.export`` builds ONNX graphs from it. While nothing observes, an op
pays one counter read for this.

>>> import flowgrad as fg
>>> class Names(fg.autograd.graph.Observer):
...     def __init__(self): self.ops = []
...     def on_op(self, name, inputs, params, output): self.ops.append(name)
>>> seen = Names()
>>> with fg.autograd.graph.observe(seen):
...     y = (fg.tensor([1.0, 2.0], requires_grad=True) * 3).sum()
>>> seen.ops
['mul', 'sum']
"""

from __future__ import annotations

import _thread  # a lock without importing threading (import time)
import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..core import mode
from ..core.engine import sum_to
from ..core.ops import NUMPY_XP
from ..core.tensor import Tensor

__all__ = ["Observer", "observe", "local_derivative"]

_count_lock = _thread.allocate_lock()


class Observer:
    """What ``observe`` calls; every method does nothing unless overridden."""

    def on_op(self, name: str, inputs: tuple, params: dict, output: Tensor) -> None:
        """A primitive ran: its registry name, its arguments (tensors or constants) and parameters, its output."""

    def on_inplace(self, what: str, target: Any) -> None:
        """An array is about to change in place outside an op (``x += y``; ``target`` the tensor), or
        a step replayed as a whole runs (an optimizer's step; ``target`` None)."""

    def on_read(self, what: str) -> None:
        """A tensor's value was read into Python: ``what`` is ``.item()``, ``.numpy()``, ``.tolist()`` or ``bool()``."""

    def on_backward_start(self, roots: list, seeds: list) -> None:
        """A backward pass starts from ``roots`` with gradients ``seeds``."""

    def on_visit(self, tensor: Tensor, grad: Any) -> None:
        """The walk reached ``tensor`` with its whole gradient ``grad``, in the engine's order."""

    def on_contribution(self, output: Tensor, node: Any, i: int, grad: Any, input_grad: Any) -> None:
        """``node`` (``output.grad_fn``) sent ``input_grad`` to its input ``i``, from ``output``'s ``grad``."""


@contextlib.contextmanager
def observe(observer: Observer) -> Iterator[Observer]:
    """Tell ``observer`` what happens on this thread inside the ``with`` block (nested: the inner one).

    Backward passes are walked by the engine's general walk while observed, so they are slower.
    """
    state = mode.state
    previous = state.recorder
    state.recorder = observer
    with _count_lock:
        mode.RECORDING += 1
    try:
        yield observer
    finally:
        with _count_lock:
            mode.RECORDING -= 1
        state.recorder = previous


def local_derivative(output: Tensor, node: Any, i: int) -> np.ndarray | None:
    """d output / d (input ``i`` of ``node``) for an output of one element: the op's rule with an
    upstream gradient of 1, in the input's shape; None once backward has freed the node's inputs.

    >>> import flowgrad as fg
    >>> x = fg.tensor([1.0, 2.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> fg.autograd.graph.local_derivative(y, y.grad_fn, 0).tolist()
    [1.0, 1.0]
    """
    op, arrays, params = node.op, node.input_arrays, node.params
    if arrays is None:
        return None
    ones = np.ones_like(output._data)
    if op.vjp_all is not None:
        mask = [j == i for j in range(len(node.inputs))]
        local = op.vjp_all(NUMPY_XP, ones, output._data, mask, *arrays, **params)[i]
    else:
        local = op.vjps[i](NUMPY_XP, ones, output._data, *arrays, **params)
    shape = node.inputs[i]._data.shape
    local = np.asarray(local)
    return np.array(sum_to(local, shape) if local.shape != shape else local, copy=True)
