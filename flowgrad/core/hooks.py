"""Gradient hooks on tensors (PyTorch's names), beside ``Tensor`` to keep ``core/tensor.py`` short.

``register_post_accumulate_grad_hook(hook)``: after a backward pass has added this leaf's gradient
into its ``.grad``, call ``hook(tensor)``. DistributedDataParallel uses it to start averaging a
bucket of gradients while the rest of the backward pass is still running.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import DTypeError, FlowgradError, given

__all__ = [
    "HookMethods",
    "RemovableHandle",
    "hold_post_accumulate_hooks",
    "release_post_accumulate_hooks",
    "run_post_accumulate_hooks",
]


class RemovableHandle:
    """What a ``register_*_hook`` returns: ``handle.remove()`` takes the hook away again."""

    def __init__(self, hooks: list, hook: Callable[..., Any]) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        """Take the hook away (a second call does nothing)."""
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


class HookMethods:
    """The hook methods of ``Tensor`` (a base class holding no state of its own)."""

    __slots__ = ()

    def register_post_accumulate_grad_hook(self, hook: Callable[[Any], None]) -> RemovableHandle:
        """Call ``hook(tensor)`` each time a backward pass has accumulated this leaf's ``.grad``.

        >>> import flowgrad as fg
        >>> w = fg.tensor([1.0, 2.0], requires_grad=True)
        >>> handle = w.register_post_accumulate_grad_hook(lambda t: print("grad", t.grad))
        >>> (w * 3).sum().backward()
        grad tensor([3., 3.])
        >>> handle.remove(); (w * 3).sum().backward()
        """
        if not callable(hook):
            raise DTypeError(f"register_post_accumulate_grad_hook: expected a callable, got {given(hook)}")
        if not getattr(self, "requires_grad", False) or getattr(self, "_node", None) is not None:
            raise FlowgradError(
                "register_post_accumulate_grad_hook: only a leaf tensor that requires grad accumulates "
                "a .grad (make it with requires_grad=True)"
            )
        hooks = self.__dict__.setdefault("_post_accumulate_grad_hooks", [])
        hooks.append(hook)
        return RemovableHandle(hooks, hook)


# While several roots run as one backward (engine.one_backward: fg.autograd.backward over a list),
# a leaf's gradient is final only after the last root, so its hooks wait until then: PyTorch walks
# all the roots in one pass, and DDP would otherwise average a partial gradient.
_held: list[dict[int, Any]] = []


def run_post_accumulate_hooks(t: Any) -> None:
    """Call the hooks of ``t`` (a leaf whose ``.grad`` was just accumulated), in registration order."""
    hooks = t.__dict__.get("_post_accumulate_grad_hooks")
    if hooks:
        if _held:
            _held[-1].setdefault(id(t), t)
            return
        for hook in list(hooks):
            hook(t)


def hold_post_accumulate_hooks() -> None:
    """From now on, collect the leaves whose hooks are due instead of calling them."""
    _held.append({})


def release_post_accumulate_hooks(run: bool) -> None:
    """Stop collecting; with ``run``, call the collected leaves' hooks once each, in order."""
    due = _held.pop()
    if run:
        for t in due.values():
            run_post_accumulate_hooks(t)
