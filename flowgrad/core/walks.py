"""The backward engine's two walks over a counted graph (see ``flowgrad.core.engine``).

``walk_fast`` runs first-order passes on plain ndarrays: most of the cost of a training step, so
it stays lean. ``walk_general`` serves ``create_graph=True`` (rules run on tensors), anomaly
mode, ``fg.compile``'s tracing (array work goes through ``call``, which records it) and
``fg.viz.record`` (a recorder is told each gradient and contribution). Both start each step
with ``stops_here`` and add each contribution with ``accumulate``; tests/test_engine_walks.py
runs the op table through both and requires bit-identical gradients.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import backend
from ..errors import FlowgradError
from . import mode
from .hooks import run_post_accumulate_hooks
from .ops import NUMPY_XP, TENSOR_XP, check_finite
from .tensor import Tensor

__all__ = ["walk_fast", "walk_general", "sum_to", "check_versions", "store_leaf_grad", "own_copy"]


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


def stops_here(
    t: Tensor, g: Any, targets: Any, results: dict, allocated: set, store: Callable[..., Any], create_graph: bool
) -> bool:
    """The start of a step, shared by both walks: True when the walk ends at ``t``, a target (its
    gradient is a result) or a leaf (its gradient goes to ``.grad``); a non-leaf that retains its
    gradient gets it too, and the walk goes on through it."""
    if targets is not None and t in targets:
        results[t] = g
        return True
    if t._node is None:
        if targets is None:
            store(store_leaf_grad, t, g, t in allocated, create_graph)
        return True
    if t._retains_grad and targets is None:
        store(store_leaf_grad, t, g, False, create_graph)
    return False


def accumulate(
    grads: dict, allocated: set, inp: Tensor, gi: Any, new_array: bool, create_graph: bool = False, call: Any = None
) -> None:
    """Add one contribution to ``inp``'s gradient, shared by both walks. A rule's new_array result is
    ours to add into later; the upstream ``g`` or a view of it is not, so the first sum into such
    a gradient makes a new buffer (``call`` runs the array work, recorded while fg.compile traces)."""
    prev = grads.get(inp)
    if prev is None:
        grads[inp] = gi
        if new_array and not create_graph and gi.base is None:
            allocated.add(inp)
    elif create_graph:
        grads[inp] = prev + gi
    elif inp in allocated:
        np.add(prev, gi, out=prev) if call is None else call(np.add, prev, gi, out=prev)
    else:
        grads[inp] = _add_new(prev, gi) if call is None else call(_add_new, prev, gi)
        allocated.add(inp)


def walk_fast(
    ready: list, grads: dict, allocated: set, counts: dict, targets: Any, retain_graph: bool, live: dict | None
) -> dict[Tensor, Any]:
    """The first-order walk, kept lean: it is most of the cost of a training step."""
    results: dict[Tensor, Any] = {}
    ndarray = backend.ndarray
    version_now = mode.version_counter  # nothing changes in place during a backward pass
    while ready:
        t = ready.pop()
        g = grads.pop(t)
        if stops_here(t, g, targets, results, allocated, _call, False):
            continue
        node = t._node
        op = node.op
        inputs = node.inputs
        arrays = node.input_arrays
        params = node.params
        positions = node.grad_positions if live is None else live.get(node, ())
        if version_now > node.version:
            check_versions(node, inputs, positions)
        if op.vjp_all is not None:
            input_grads = op.vjp_all(
                NUMPY_XP, g, t._data, [i in positions for i in range(len(inputs))], *arrays, **params
            )
        else:
            input_grads = None
        vjps = op.vjps
        # g may be overwritten only when this walk allocated it and nothing else holds it (and only
        # by a one-input rule: another input's rule would read it afterwards).
        in_place = op.vjp_in_place if t in allocated and len(positions) == 1 else None
        add_into = op.vjp_add_into
        for i in positions:
            inp = inputs[i]
            if add_into is not None and inp in allocated and add_into(grads[inp], g, t._data, *arrays, **params):
                c = counts[inp] - 1
                counts[inp] = c
                if c == 0:
                    ready.append(inp)
                continue
            if in_place is not None:
                gi = in_place(g, t._data, *arrays, **params)
                new_array = True
            else:
                gi = input_grads[i] if input_grads is not None else vjps[i](NUMPY_XP, g, t._data, *arrays, **params)
                new_array = gi is not g
            if type(gi) is not ndarray:
                gi = np.asarray(gi)
            d = inp._data
            if gi.shape != d.shape:
                gi = sum_to(gi, d.shape)
            if gi.dtype != d.dtype:  # a real input's gradient: the real part (autograd's convention)
                gi = (gi if d.dtype.kind == "c" else gi.real).astype(d.dtype)
            accumulate(grads, allocated, inp, gi, new_array)
            c = counts[inp] - 1
            counts[inp] = c
            if c == 0:
                ready.append(inp)
        if not retain_graph:
            node.inputs = None
            node.input_arrays = None
    return results


def check_versions(node: Any, inputs: tuple, positions: list) -> None:
    """Refuse a node whose saved inputs were changed in place after it was recorded."""
    recorded = node.version
    if mode.version_counter <= recorded:  # nothing anywhere changed in place since: the usual case
        return
    for inp in inputs:
        if isinstance(inp, Tensor) and inp._version > recorded:
            raise FlowgradError(
                f"backward: an input of {node.op.name} (shape {inp.shape}) was changed in place "
                "after the op used it, so its gradient would be wrong; change a copy "
                "instead, or change it after backward"
            )


def walk_general(
    ready: list,
    grads: dict,
    allocated: set,
    counts: dict,
    targets: Any,
    retain_graph: bool,
    create_graph: bool,
    tracer: Any = None,
    live: dict | None = None,
    recorder: Any = None,
) -> dict[Tensor, Any]:
    """The walk for create_graph=True (rules run on tensors), anomaly mode, fg.compile's
    tracing (every array computation goes through ``call``, which records it) and fg.viz.record
    (``recorder`` is told each tensor's gradient and each contribution, in the walk's order)."""
    xp = TENSOR_XP if create_graph else NUMPY_XP
    call = tracer.call if tracer is not None else _call
    store = tracer.call_with_tensors if tracer is not None else _call
    anomaly = mode.state.anomaly
    results: dict[Tensor, Any] = {}
    while ready:
        t = ready.pop()
        g = grads.pop(t)
        node = t._node
        if recorder is not None:
            recorder.on_visit(t, g)
        if stops_here(t, g, targets, results, allocated, store, create_graph):
            continue
        op = node.op
        inputs = node.inputs
        positions = node.grad_positions if live is None else live.get(node, ())
        check_versions(node, inputs, positions)
        args = inputs if create_graph else node.input_arrays
        ans = t if create_graph else t._data
        params = node.params
        if op.vjp_all is not None:
            mask = [i in positions for i in range(len(inputs))]
            every = call(functools.partial(op.vjp_all, xp), g, ans, mask, *args, **params)
            input_grads = {i: call(operator.getitem, every, i) for i in positions}
        else:
            input_grads = {i: call(functools.partial(op.vjps[i], xp), g, ans, *args, **params) for i in positions}
        for i in positions:
            inp = inputs[i]
            gi = input_grads[i]
            new_array = gi is not g
            d = inp._data
            if create_graph or type(gi) is not backend.ndarray or gi.shape != d.shape or gi.dtype != d.dtype:
                gi = call(_fit, gi, d.shape, d.dtype, create_graph)
            if anomaly:
                check_finite(op, gi, "backward", node)
            if recorder is not None:
                recorder.on_contribution(t, node, i, g, gi)
            accumulate(grads, allocated, inp, gi, new_array, create_graph, call)
            counts[inp] -= 1
            if counts[inp] == 0:
                ready.append(inp)
        if not retain_graph:
            node.inputs = None
            node.input_arrays = None
    return results


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return fn(*args, **kwargs)


def _add_new(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    acc = a + b
    return acc if type(acc) is backend.ndarray else backend.asarray(acc)  # 0-d sums are scalars


def _fit(gi: Any, shape: tuple, dtype: Any, create_graph: bool) -> Any:
    """Bring a rule's result to its input's shape and dtype."""
    if create_graph:
        if not isinstance(gi, Tensor):
            gi = Tensor._wrap(np.asarray(gi))
        if gi.shape != shape:
            gi = TENSOR_XP.sum_to(gi, shape)
        if gi.dtype != dtype:
            gi = (gi if np.dtype(dtype).kind == "c" else TENSOR_XP.real(gi)).astype(dtype)
        return gi
    if type(gi) is not backend.ndarray:
        gi = backend.asarray(gi)
    if gi.shape != shape:
        gi = sum_to(gi, shape)
    if gi.dtype != dtype:
        gi = (gi if np.dtype(dtype).kind == "c" else gi.real).astype(dtype)
    return gi


def own_copy(g: np.ndarray) -> np.ndarray:
    # order='A': a transposed (Fortran-ordered) view stays Fortran, a memcpy; the rest C-ordered.
    return g.copy(order="A")


def store_leaf_grad(t: Tensor, g: Any, allocated: bool, create_graph: bool) -> None:
    if create_graph:
        t.grad = g if t.grad is None else t.grad + g
    elif t.grad is None:
        t.grad = Tensor._wrap(g if allocated else own_copy(g))
    else:
        t.grad._data += g
        t.grad._mark_changed()
    if "_post_accumulate_grad_hooks" in t.__dict__:  # one dict lookup when no hook is registered
        run_post_accumulate_hooks(t)
