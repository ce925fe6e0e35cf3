"""The one backward engine.

Given output tensors and their upstream gradients, it counts how many
consumers each tensor has (Kahn's algorithm, no recursion, so graphs of any
depth work), then walks from the outputs, calling each op's gradient rules
once all of a tensor's consumers have reported. Broadcasting is undone here,
once, for every op, and gradients are cast back to their input's dtype.

First-order passes run the rules on plain ndarrays (``xp`` = NumPy);
``create_graph=True`` runs the same rules on tensors (``xp`` = flowgrad.numpy)
so the gradients are themselves differentiable.

>>> import flowgrad as fg
>>> x = fg.tensor([1.0, 2.0], requires_grad=True)
>>> y = (x * x).sum()
>>> (gx,) = fg.autograd.grad(y, [x], create_graph=True)
>>> gx
tensor([2., 4.], grad_fn=<AddBackward>)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from ..errors import FlowgradError, ShapeError
from . import hooks, mode
from .tensor import Tensor, as_array
from .walks import own_copy, store_leaf_grad, sum_to, walk_fast, walk_general

__all__ = ["backward", "grad", "sum_to", "queue_after_backward"]

# Callbacks run once, when the current backward() has filled every leaf's .grad (PyTorch's
# queue_callback): DistributedDataParallel averages the gradients across processes there.
_after_backward: list[Callable[[], None]] = []
_deferring = [0]  # fg.autograd.backward over several roots runs them after the last root only


def queue_after_backward(fn: Callable[[], None]) -> None:
    """Run ``fn()`` once, at the end of the next ``backward()`` (after every leaf's ``.grad`` is set).

    >>> import flowgrad as fg
    >>> from flowgrad.core.engine import queue_after_backward
    >>> w = fg.tensor([1.0], requires_grad=True)
    >>> queue_after_backward(lambda: print("grad is", w.grad))
    >>> (w * 3).sum().backward()
    grad is tensor([3.])
    """
    _after_backward.append(fn)


@contextlib.contextmanager
def one_backward() -> Iterator[None]:
    """Several ``backward`` calls inside count as one: leaves' post-accumulate hooks and queued
    callbacks run once, when it exits."""
    outermost = not _deferring[0]
    if outermost:
        hooks.hold_post_accumulate_hooks()
    _deferring[0] += 1
    try:
        yield
    except BaseException:
        _after_backward.clear()  # a failed pass does not run them later, on another pass
        if outermost:
            hooks.release_post_accumulate_hooks(run=False)
        raise
    finally:
        _deferring[0] -= 1
    if outermost:
        hooks.release_post_accumulate_hooks(run=True)
    _run_after_backward()


def _run_after_backward() -> None:
    if _deferring[0]:
        return
    while _after_backward:  # one callback may queue another
        _after_backward.pop(0)()


def _seed(root: Tensor, gradient: Any, create_graph: bool) -> Any:
    if gradient is None:
        if root._data.size != 1:
            raise ShapeError(
                f"backward: grad can be created implicitly only for scalar outputs, but this "
                f"output has shape {root.shape}; pass gradient= (an array of that shape) or "
                "reduce it first (for example .sum())"
            )
        g: Any = np.ones_like(root._data)
    else:
        g = gradient
        if not (create_graph and isinstance(g, Tensor)):
            g = as_array(g, root._data.dtype)
        if g.shape != root.shape:
            raise ShapeError(f"backward: gradient has shape {tuple(g.shape)} but the output has shape {root.shape}")
    if create_graph and not isinstance(g, Tensor):
        g = Tensor._wrap(g)
    return g


def _count_consumers(roots: Sequence[Tensor], targets: set | None) -> dict[Tensor, int]:
    """How many recorded ops consume each tensor that takes part, from the roots (no recursion)."""
    # Dicts are keyed by the tensors themselves: Tensor hashes by identity, in C.
    counts: dict[Tensor, int] = {}
    stack = []
    for r in roots:
        if r not in counts:
            counts[r] = 0
            stack.append(r)
    while stack:
        t = stack.pop()
        node = t._node
        if node is None or (targets is not None and t in targets):
            continue
        inputs = node.inputs
        if inputs is None:
            raise FlowgradError(
                "backward: trying to go through a graph a second time, but its saved values were "
                "freed after the first backward; pass retain_graph=True to the first call"
            )
        for i in node.grad_positions:
            inp = inputs[i]
            if inp in counts:
                counts[inp] += 1
            else:
                counts[inp] = 1
                stack.append(inp)
    return counts


def _seeded(roots: Sequence[Tensor], seeds: Sequence[Any], counts: dict) -> tuple[dict, list]:
    """The starting gradients (a root given twice gets the sum) and the roots ready to process."""
    grads: dict[Tensor, Any] = {}
    for r, s in zip(roots, seeds):
        prev = grads.get(r)
        grads[r] = s if prev is None else prev + s
    ready: list[Tensor] = []
    for r in roots:
        if counts[r] == 0 and all(r is not q for q in ready):
            ready.append(r)
    return grads, ready


# Tests set this to run every backward pass through the general walk (see tests/test_engine_walks.py).
force_general_walk = False


def _run(
    roots: Sequence[Tensor],
    seeds: Sequence[Any],
    targets: set | None,
    retain_graph: bool,
    create_graph: bool,
) -> dict:
    """Walk the graph; return gradients of ``targets`` (or fill leaves' ``.grad``)."""
    counts = _count_consumers(roots, targets)
    live = None
    if targets is not None:
        counts, live = _prune(roots, targets, counts)
    grads, ready = _seeded(roots, seeds, counts)
    allocated: set[Tensor] = set()  # tensors whose gradient buffer we allocated: safe to add into
    tracer = mode.current_tracer()
    if create_graph or mode.state.anomaly or tracer is not None or mode.RECORDING or force_general_walk:
        if tracer is not None and create_graph:
            raise FlowgradError(
                "fg.compile: create_graph=True (higher derivatives) cannot be compiled; call it eagerly"
            )
        recorder = mode.state.recorder if mode.RECORDING else None
        if recorder is not None:
            recorder.on_backward_start(roots, seeds)
        return walk_general(
            ready, grads, allocated, counts, targets, retain_graph, create_graph, tracer, live, recorder
        )
    return walk_fast(ready, grads, allocated, counts, targets, retain_graph, live)


def _prune(roots: Sequence[Tensor], targets: set, counts: dict) -> tuple[dict, dict]:
    """The part of the graph through which a target is reached: consumer counts over its edges
    alone, and each of its nodes' inputs that lead to a target. Rules of other branches never
    run (as in PyTorch's autograd.grad): they would cost time, and a branch whose rule is missing
    or re-enters this very walk (fixed_point's) must not stop a gradient it has no part in."""
    remaining = dict(counts)
    order: list[Tensor] = []  # consumers before their inputs (Kahn's algorithm over counted edges)
    ready = [r for r in dict.fromkeys(roots) if remaining[r] == 0]
    while ready:
        t = ready.pop()
        order.append(t)
        node = t._node
        if node is None or t in targets:
            continue
        for i in node.grad_positions:
            inp = node.inputs[i]
            remaining[inp] -= 1
            if remaining[inp] == 0:
                ready.append(inp)
    useful: set[Tensor] = set()
    for t in reversed(order):
        node = t._node
        if t in targets or (node is not None and any(node.inputs[i] in useful for i in node.grad_positions)):
            useful.add(t)
    pruned = dict.fromkeys(counts, 0)
    live: dict = {}
    for t in order:
        node = t._node
        if node is None or t in targets or t not in useful:
            continue
        keep = tuple(i for i in node.grad_positions if node.inputs[i] in useful)
        live[node] = keep
        for i in keep:
            pruned[node.inputs[i]] += 1
    return pruned, live


def backward(
    root: Tensor,
    gradient: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Any = None,
) -> None:
    """``root.backward(...)``: accumulate gradients into leaves' ``.grad``."""
    if not root.requires_grad:
        raise FlowgradError(
            "backward: this tensor does not require grad and has no grad_fn; make at least one "
            "input with requires_grad=True (and compute it outside fg.no_grad())"
        )
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        got = grad([root], ins, [gradient], retain_graph, create_graph, allow_unused=True)
        for t, g in zip(ins, got):
            if g is not None:
                store_leaf_grad(t, g if create_graph else g._data, False, create_graph)
        if _after_backward:
            _run_after_backward()
        return
    seed = _seed(root, gradient, create_graph)
    try:
        if create_graph:
            with mode.enable_grad():
                _run([root], [seed], None, retain_graph, True)
        else:
            _run([root], [seed], None, retain_graph, False)
    except BaseException:
        if not _deferring[0]:
            _after_backward.clear()  # a failed pass does not run them later, on another pass
        raise
    if _after_backward:
        _run_after_backward()


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple:
    """Gradients of ``outputs`` with respect to ``inputs``, as in ``torch.autograd.grad``.

    Leaves' ``.grad`` are not touched. With ``create_graph=True`` the results
    are tensors with a graph of their own, for higher derivatives.

    >>> import flowgrad as fg
    >>> x = fg.tensor(3.0, requires_grad=True)
    >>> fg.autograd.grad(x ** 2, x)
    (tensor(6.),)
    """
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        gos: list[Any] = [None] * len(outs)
    elif isinstance(grad_outputs, Tensor) or not isinstance(grad_outputs, (list, tuple)):
        gos = [grad_outputs]
    else:
        gos = list(grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph
    for i, t in enumerate(ins):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise FlowgradError(f"grad: input {i} is not a tensor that requires grad")
    roots, seeds = [], []
    for o, go in zip(outs, gos):
        if not isinstance(o, Tensor) or not o.requires_grad:
            continue
        roots.append(o)
        seeds.append(_seed(o, go, create_graph))
    targets = set(ins)
    if create_graph:
        with mode.enable_grad():
            res = _run(roots, seeds, targets, retain_graph, True) if roots else {}
    else:
        res = _run(roots, seeds, targets, retain_graph, False) if roots else {}
    result: list[Tensor | None] = []
    for i, t in enumerate(ins):
        g = res.get(t)
        if g is None:
            if not allow_unused:
                raise FlowgradError(
                    f"grad: input {i} (shape {t.shape}) was not used to compute the outputs; "
                    "pass allow_unused=True to get None for it"
                )
            result.append(None)
        elif isinstance(g, Tensor):
            result.append(g)
        else:
            if g.base is not None:  # a view into a buffer the walk shares: the caller gets its own
                tracer = mode.current_tracer()
                g = own_copy(g) if tracer is None else tracer.call(own_copy, g)  # fg.compile replays it
            result.append(Tensor._wrap(g))
    return tuple(result)
