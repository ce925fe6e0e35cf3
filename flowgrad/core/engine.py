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
import functools
import operator
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from ..errors import FlowgradError, ShapeError
from . import mode
from .ops import DIFF, RAW, check_finite
from .tensor import Tensor, as_array

__all__ = ["backward", "grad", "sum_to", "queue_after_backward", "def_inplace_vjp"]

# Rules that may write their result into the incoming gradient: rule(g, ans, *inputs, **params)
# for a one-input op. The first-order walk calls one only when the engine itself allocated g
# (a rule's fresh result, or a sum the walk made) and nothing else holds it: never the seed
# a user passed, a gradient a rule passed through unchanged, or a view.
INPLACE_VJPS: dict[Any, Callable[..., Any]] = {}


# Rules that add an op's input gradient straight into that input's gradient buffer, when the
# walk owns one already: rule(buffer, g, ans, *inputs, **params) -> True when it did. getitem's
# adds a slice there instead of scattering into a new full-size array (and adding that): taking
# T slices of one tensor costs O(T) in backward, not O(T^2).
ACCUMULATE_VJPS: dict[Any, Callable[..., bool]] = {}


def def_inplace_vjp(op: Any, rule: Callable[..., Any]) -> None:
    """Register ``rule(g, ans, *inputs, **params)``, which may overwrite ``g``, for ``op``.

    >>> import numpy as np
    >>> from flowgrad.core.engine import INPLACE_VJPS
    >>> from flowgrad.core.ops import REGISTRY
    >>> REGISTRY["relu"] in INPLACE_VJPS
    True
    """
    INPLACE_VJPS[op] = rule


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
    """Several ``backward`` calls inside count as one: queued callbacks run when it exits."""
    _deferring[0] += 1
    try:
        yield
    except BaseException:
        _after_backward.clear()  # a failed pass does not run them later, on another pass
        raise
    finally:
        _deferring[0] -= 1
    _run_after_backward()


def _run_after_backward() -> None:
    if _deferring[0]:
        return
    while _after_backward:  # one callback may queue another
        _after_backward.pop(0)()


def sum_to(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``g`` down to ``shape``, undoing NumPy broadcasting."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and g.shape[i + lead] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if lead:
        g = g.reshape(shape)
    return g


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


def _run(
    roots: Sequence[Tensor],
    seeds: Sequence[Any],
    targets: set | None,
    retain_graph: bool,
    create_graph: bool,
) -> dict:
    """Walk the graph; return gradients of ``targets`` (or fill leaves' ``.grad``)."""
    # Pass 1: count consumers of every tensor that takes part, from the roots.
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
        for i in node.needs:
            inp = inputs[i]
            if inp in counts:
                counts[inp] += 1
            else:
                counts[inp] = 1
                stack.append(inp)

    live = None
    if targets is not None:
        counts, live = _prune(roots, targets, counts)

    grads: dict[Tensor, Any] = {}
    owned: set[Tensor] = set()  # tensors whose gradient buffer we allocated: safe to add into
    for r, s in zip(roots, seeds):
        prev = grads.get(r)
        grads[r] = s if prev is None else prev + s
    ready: list[Tensor] = []
    for r in roots:
        if counts[r] == 0 and all(r is not q for q in ready):
            ready.append(r)
    tracer = mode.current_tracer()
    if create_graph or mode.state.anomaly or tracer is not None:
        if tracer is not None and create_graph:
            raise FlowgradError(
                "fg.compile: create_graph=True (higher derivatives) cannot be compiled; call it eagerly"
            )
        return _walk_general(ready, grads, owned, counts, targets, retain_graph, create_graph, tracer, live)

    # The first-order walk, kept lean: it is most of the cost of a training step.
    results: dict[Tensor, Any] = {}
    ndarray = np.ndarray
    add = np.add
    clock = mode.clock  # nothing changes in place during a backward pass
    inplace_vjps = INPLACE_VJPS
    accumulate_vjps = ACCUMULATE_VJPS
    while ready:
        t = ready.pop()
        g = grads.pop(t)
        node = t._node
        if targets is not None and t in targets:
            results[t] = g
            continue
        if node is None:
            if targets is None:
                _store_leaf_grad(t, g, t in owned, False)
            continue
        if t._retains_grad and targets is None:
            _store_leaf_grad(t, g, False, False)
        op = node.op
        inputs = node.inputs
        datas = node.datas
        params = node.params
        needs = node.needs if live is None else live.get(node, ())
        if clock > node.time:
            _check_versions(node, inputs, needs)
        if op.vjp_all is not None:
            gins = op.vjp_all(RAW, g, t._data, [i in needs for i in range(len(inputs))], *datas, **params)
        else:
            gins = None
        vjps = op.vjps
        inplace = inplace_vjps.get(op) if t in owned else None
        accumulate = accumulate_vjps.get(op)
        for i in needs:
            inp = inputs[i]
            if accumulate is not None and inp in owned and accumulate(grads.get(inp), g, t._data, *datas, **params):
                c = counts[inp] - 1
                counts[inp] = c
                if c == 0:
                    ready.append(inp)
                continue
            if inplace is not None:  # g is the walk's own buffer, held by nothing else
                gi = inplace(g, t._data, *datas, **params)
                fresh = True
            else:
                gi = gins[i] if gins is not None else vjps[i](RAW, g, t._data, *datas, **params)
                fresh = gi is not g
            if type(gi) is not ndarray:
                gi = np.asarray(gi)
            d = inp._data
            if gi.shape != d.shape:
                gi = sum_to(gi, d.shape)
            if gi.dtype != d.dtype:
                gi = gi.astype(d.dtype)
            prev = grads.get(inp)
            if prev is None:
                grads[inp] = gi
                if fresh and gi.base is None:
                    owned.add(inp)
            elif inp in owned:
                add(prev, gi, out=prev)
            else:
                acc = prev + gi
                grads[inp] = acc if type(acc) is ndarray else np.asarray(acc)  # 0-d sums are scalars
                owned.add(inp)
            c = counts[inp] - 1
            counts[inp] = c
            if c == 0:
                ready.append(inp)
        if not retain_graph:
            node.inputs = None
            node.datas = None
    return results


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
        for i in node.needs:
            inp = node.inputs[i]
            remaining[inp] -= 1
            if remaining[inp] == 0:
                ready.append(inp)
    useful: set[Tensor] = set()
    for t in reversed(order):
        node = t._node
        if t in targets or (node is not None and any(node.inputs[i] in useful for i in node.needs)):
            useful.add(t)
    pruned = dict.fromkeys(counts, 0)
    live: dict = {}
    for t in order:
        node = t._node
        if node is None or t in targets or t not in useful:
            continue
        keep = tuple(i for i in node.needs if node.inputs[i] in useful)
        live[node] = keep
        for i in keep:
            pruned[node.inputs[i]] += 1
    return pruned, live


def _check_versions(node: Any, inputs: tuple, needs: list) -> None:
    """Refuse a node whose saved inputs were changed in place after it was recorded."""
    time = node.time
    if mode.clock <= time:  # nothing anywhere changed in place since: the usual case
        return
    for inp in inputs:
        if isinstance(inp, Tensor) and inp._version > time:
            raise FlowgradError(
                f"backward: an input of {node.op.name} (shape {inp.shape}) was changed in place "
                "after the op used it, so its gradient would be wrong; change a copy "
                "instead, or change it after backward"
            )


def _walk_general(
    ready: list,
    grads: dict,
    owned: set,
    counts: dict,
    targets: Any,
    retain_graph: bool,
    create_graph: bool,
    tracer: Any = None,
    live: dict | None = None,
) -> dict[Tensor, Any]:
    """The walk for create_graph=True (rules run on tensors), anomaly mode and fg.compile's
    tracing (every array computation goes through ``call``, which records it)."""
    xp = DIFF if create_graph else RAW
    call = tracer.call if tracer is not None else _call
    store = tracer.call_with_tensors if tracer is not None else _call
    anomaly = mode.state.anomaly
    results: dict[Tensor, Any] = {}
    while ready:
        t = ready.pop()
        g = grads.pop(t)
        node = t._node
        if targets is not None and t in targets:
            results[t] = g
            continue
        if node is None:
            if targets is None:
                store(_store_leaf_grad, t, g, t in owned, create_graph)
            continue
        if t._retains_grad and targets is None:
            store(_store_leaf_grad, t, g, False, create_graph)
        op = node.op
        inputs = node.inputs
        needs = node.needs if live is None else live.get(node, ())
        _check_versions(node, inputs, needs)
        args = inputs if create_graph else node.datas
        ans = t if create_graph else t._data
        params = node.params
        if op.vjp_all is not None:
            mask = [i in needs for i in range(len(inputs))]
            every = call(functools.partial(op.vjp_all, xp), g, ans, mask, *args, **params)
            gins = {i: call(operator.getitem, every, i) for i in needs}
        else:
            gins = {i: call(functools.partial(op.vjps[i], xp), g, ans, *args, **params) for i in needs}
        for i in needs:
            inp = inputs[i]
            gi = gins[i]
            fresh = gi is not g
            d = inp._data
            if create_graph or type(gi) is not np.ndarray or gi.shape != d.shape or gi.dtype != d.dtype:
                gi = call(_fit, gi, d.shape, d.dtype, create_graph)
            if anomaly:
                check_finite(op, gi, "backward", node)
            prev = grads.get(inp)
            if prev is None:
                grads[inp] = gi
                # A rule's fresh result is ours to add into; the upstream g or a view is not.
                if fresh and not create_graph and gi.base is None:
                    owned.add(inp)
            elif create_graph:
                grads[inp] = prev + gi
            elif inp in owned:
                call(np.add, prev, gi, out=prev)
            else:
                grads[inp] = call(_add_new, prev, gi)
                owned.add(inp)
            counts[inp] -= 1
            if counts[inp] == 0:
                ready.append(inp)
        if not retain_graph:
            node.inputs = None
            node.datas = None
    return results


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return fn(*args, **kwargs)


def _add_new(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    acc = a + b
    return acc if type(acc) is np.ndarray else np.asarray(acc)  # 0-d sums are scalars


def _fit(gi: Any, shape: tuple, dtype: Any, create_graph: bool) -> Any:
    """Bring a rule's result to its input's shape and dtype."""
    if create_graph:
        if not isinstance(gi, Tensor):
            gi = Tensor._wrap(np.asarray(gi))
        if gi.shape != shape:
            gi = DIFF.sum_to(gi, shape)
        if gi.dtype != dtype:
            gi = gi.astype(dtype)
        return gi
    if type(gi) is not np.ndarray:
        gi = np.asarray(gi)
    if gi.shape != shape:
        gi = sum_to(gi, shape)
    if gi.dtype != dtype:
        gi = gi.astype(dtype)
    return gi


def _own_copy(g: np.ndarray) -> np.ndarray:
    # order='A': a transposed (Fortran-ordered) view stays Fortran, a memcpy; the rest C-ordered.
    return g.copy(order="A")


def _store_leaf_grad(t: Tensor, g: Any, owned: bool, create_graph: bool) -> None:
    if create_graph:
        t.grad = g if t.grad is None else t.grad + g
        return
    if t.grad is None:
        t.grad = Tensor._wrap(g if owned else _own_copy(g))
    else:
        t.grad._data += g
        t.grad._mark_changed()


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
                _store_leaf_grad(t, g if create_graph else g._data, False, create_graph)
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
                g = _own_copy(g) if tracer is None else tracer.call(_own_copy, g)  # fg.compile replays it
            result.append(Tensor._wrap(g))
    return tuple(result)
