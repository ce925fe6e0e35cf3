"""``fg.compile``: trace a training step once, then replay its NumPy calls.

The first call of ``step = fg.compile(fn)`` with given input shapes and dtypes
runs ``fn`` eagerly while a tracer records every NumPy-level computation:
each op's forward (at ``apply``, the one path into an op), each gradient
rule, broadcast-undo, cast and accumulation of the backward engine, the
in-place updates of tensors, and optimizer updates (``replay_call``). Later
calls with the same signature replay that list directly on the new inputs:
no Tensor, Node, graph walk, dict or isinstance work, and bit-identical
results, because the same NumPy functions run on the same values in the same
order. Intermediate results of ufuncs and of forwards that take ``out=``
(``core.ops.accepts_out``) are written into buffers allocated once per trace
and reused by every replay; never one whose memory outlives the call (an
output, a gradient stored into ``.grad``, or a view of either), and large
intermediates that are not buffered are released after their last use.

What is baked in at trace time: Python control flow and Python numbers. A
branch on a tensor's value (``if loss.item() > 1``) takes the branch it took
while tracing; ``.item()``, ``.numpy()``, ``float()`` or ``bool()`` of a
tensor during tracing warns about it. A new input shape or dtype traces again.

>>> import numpy as np, flowgrad as fg
>>> w = fg.tensor([1.0, -1.0], requires_grad=True)
>>> opt = fg.optim.SGD([w], lr=0.1)
>>> @fg.compile
... def step(x, y):
...     opt.zero_grad()
...     loss = ((x @ w - y) ** 2).mean()
...     loss.backward()
...     opt.step()
...     return loss
>>> x, y = np.ones((4, 2), np.float32), np.ones(4, np.float32)
>>> [round(step(x, y).item(), 4) for _ in range(3)]
[1.0, 0.36, 0.1296]
>>> step.traces
1
"""

from __future__ import annotations

import _thread
import functools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..backend import is_array, ndarray
from . import mode
from .codegen import Generator, make_function
from .tensor import Tensor

__all__ = ["compile", "CompiledFunction", "replay_call", "is_tracing", "TracingWarning"]


_tracing_lock = _thread.allocate_lock()  # guards mode.TRACING, the count of threads tracing


class TracingWarning(UserWarning):
    """A value was read from a tensor while tracing: it is fixed in the compiled step."""


class Tracer:
    """Records computations as steps over numbered value slots."""

    def __init__(self) -> None:
        self.slot_of: dict[int, int] = {}  # id(value) -> slot
        self.template: list[Any] = []  # initial slot values: constants, else None
        self.keep: list[Any] = []  # every traced value stays alive, so ids stay unique
        self.externals: list[tuple[int, Tensor]] = []  # slots re-read from tensor._data at replay
        self.inputs: list[int] = []
        self.steps: list[tuple] = []
        self.stored: set[int] = set()  # slots handed to call_with_tensors: they may become a .grad
        self.warned: set[str] = set()
        self.writer: dict[int, tuple] = {}  # slot -> the step that wrote it (filled by Plan)

    # ----- slots --------------------------------------------------------------------------------
    def _new_slot(self, value: Any, constant: bool = False) -> int:
        k = len(self.template)
        self.template.append(value if constant else None)
        self.keep.append(value)
        if value is not None:
            self.slot_of[id(value)] = k
        return k

    def input(self, value: Any) -> int:
        k = self._new_slot(value)
        self.inputs.append(k)
        return k

    def external(self, tensor: Tensor) -> int:
        k = self.slot_of.get(id(tensor._data))
        if k is None:
            k = self._new_slot(tensor._data)
            self.externals.append((k, tensor))
        return k

    def spec(self, value: Any) -> int:
        """The slot holding ``value`` at replay (a constant slot for values not traced)."""
        if isinstance(value, Tensor):
            return self.external(value) if id(value._data) not in self.slot_of else self.slot_of[id(value._data)]
        k = self.slot_of.get(id(value))
        if k is not None:
            return k
        if isinstance(value, (tuple, list)) and any(self._traced(v) for v in value):
            parts = [self.spec(v) for v in value]
            built = type(value)(value)
            k = self._new_slot(built)
            self.steps.append((_build(type(value)), parts, {}, k, False))
            return k
        return self._new_slot(value, constant=True)

    def _traced(self, value: Any) -> bool:
        if isinstance(value, Tensor):
            return True
        if isinstance(value, (tuple, list)):
            return any(self._traced(v) for v in value)
        return id(value) in self.slot_of

    # ----- recording --------------------------------------------------------------------------------
    def record(self, fn: Callable[..., Any], args: tuple, kwargs: dict, out: Any) -> None:
        arg_slots = [self.spec(a) for a in args]
        kw_slots = {k: self.spec(v) for k, v in kwargs.items()}
        dst = None if out is None else self._new_slot(out)
        self.steps.append((fn, arg_slots, kw_slots, dst, False))

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``fn`` (tensors passed as their arrays) and record the call."""
        out = fn(*[a._data if isinstance(a, Tensor) else a for a in args], **kwargs)
        self.record(fn, args, kwargs, out)
        return out

    def call_with_tensors(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Like ``call``, but tensors reach ``fn`` as the tensor objects (leaf-gradient stores)."""
        out = fn(*args)
        slots = [self._new_slot(a, constant=True) if isinstance(a, Tensor) else self.spec(a) for a in args]
        self.stored.update(slots)
        self.steps.append((fn, slots, {}, None if out is None else self._new_slot(out), False))
        return out

    def opaque(self, fn: Callable[[], Any]) -> None:
        """Re-run ``fn()`` at this point of every replay (tensors it rebinds are re-read)."""
        self.steps.append((fn, [], {}, None, True))

    def warn(self, what: str) -> None:
        if what in self.warned:
            return
        self.warned.add(what)
        warnings.warn(
            f"{what} of a tensor while tracing fg.compile: the value is fixed in the compiled step, "
            "and Python branches that depend on it keep the path they took now; return the tensor "
            "instead and read it after the call",
            TracingWarning,
            stacklevel=4,  # past mode.note_value_read and the tensor's method: the user's line
        )


def _build(kind: type) -> Callable[..., Any]:
    return lambda *parts: kind(parts)


class Plan:
    """A recorded step, replayed on new inputs by one generated Python function (``.source``)."""

    def __init__(self, tracer: Tracer, output: Any) -> None:
        self.output = output
        safe = _buffer_safe_slots(tracer, output)
        reusable = {k for k in safe if type(tracer.keep[k]) is ndarray and _takes_out(*_step_of(tracer, k))}
        generated = Generator(tracer, output, reusable, safe, _dead_after(tracer, output))
        self.source = generated.source
        self.buffers, self.fused = generated.buffers, generated.fused
        self.run_generated = make_function(self.source, generated.namespace, "replay", "<fg.compile step>")

    def run(self, arrays: list[np.ndarray]) -> Any:
        return self.run_generated(*arrays)


def _step_of(tracer: Tracer, k: int) -> tuple:
    step = tracer.writer[k]
    return step[0], -1 if step[2] else len(step[1])  # keyword arguments: no out= added


def _takes_out(fn: Any, nargs: int) -> bool:
    if isinstance(fn, np.ufunc):
        return fn.nout == 1 and fn.nin == nargs
    return getattr(fn, "_accepts_out", False)  # set by core.ops.accepts_out


def _buffer_safe_slots(tracer: Tracer, output: Any) -> set[int]:
    """Slots whose value a step can write into a buffer kept from call to call.

    A slot qualifies when its value is a fresh array (or a list of them) written by a step without
    keyword arguments. It does not when anything that outlives the call may hold its memory: an
    output of the compiled function or a gradient stored into ``.grad`` (or a view of either),
    whose array must be new on every call. Views share their owner's ``base``, so comparing
    owners finds them.
    """
    escaping = set(_output_slots(output)) | tracer.stored
    owners = set()
    for k in escaping:
        v = tracer.keep[k]
        if is_array(v):
            owners.add(id(v if v.base is None else v.base))
        elif isinstance(v, (list, tuple)):  # a built list (concatenate's operands): all escape
            owners.update(id(x if x.base is None else x.base) for x in v if is_array(x))

    def fresh(v: Any) -> bool:
        return type(v) is ndarray and v.base is None and id(v) not in owners and v.flags.writeable

    safe = set()
    for step in tracer.steps:
        fn, args, kw, dst, opaque = step
        if dst is None or opaque:
            continue
        tracer.writer[dst] = step
        v = tracer.keep[dst]
        if fresh(v) or (type(v) is list and v and all(x is None or fresh(x) for x in v)):
            safe.add(dst)
    return safe


_LARGE = 1 << 16  # bytes: smaller values are not worth a check per step


def _dead_after(tracer: Tracer, output: Any) -> dict[int, list[int]]:
    """Step index -> the large slots last read (or written, if never read) by that step."""
    last: dict[int, int] = {}
    for i, (_, args, kw, dst, _) in enumerate(tracer.steps):
        if dst is not None:
            last.setdefault(dst, i)
        for k in (*args, *kw.values()):
            last[k] = i
    keep = set(_output_slots(output)) | {k for k, _ in tracer.externals} | set(tracer.inputs)
    keep.update(k for k, v in enumerate(tracer.template) if v is not None)  # constants
    dead: dict[int, list[int]] = {}
    for k, i in last.items():
        v = tracer.keep[k]
        if k not in keep and is_array(v) and v.nbytes >= _LARGE:
            dead.setdefault(i, []).append(k)
    return dead


def _output_slots(spec: tuple) -> list[int]:
    kind = spec[0]
    if kind in ("tensor", "array"):
        return [spec[1]]
    if kind in ("tuple", "list"):
        return [k for s in spec[1] for k in _output_slots(s)]
    if kind == "dict":
        return [k for s in spec[1].values() for k in _output_slots(s)]
    return []


def _output_spec(value: Any, tracer: Tracer) -> Any:
    if isinstance(value, Tensor):
        k = tracer.slot_of.get(id(value._data))
        return ("tensor", k, value.requires_grad) if k is not None else ("const", value)
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, [_output_spec(v, tracer) for v in value])
    if isinstance(value, dict):
        return ("dict", {k: _output_spec(v, tracer) for k, v in value.items()})
    if is_array(value) and id(value) in tracer.slot_of:
        return ("array", tracer.slot_of[id(value)])
    return ("const", value)


def _signature(args: tuple) -> tuple:
    key: list[tuple] = []
    for a in args:
        if isinstance(a, Tensor):
            key.append(("T", a._data.shape, a._data.dtype.str, a.requires_grad))
        elif is_array(a):
            key.append(("A", a.shape, a.dtype.str))
        else:
            key.append(("V", a))  # Python values are baked: a new value traces again
    return tuple(key)


class CompiledFunction:
    """What ``fg.compile(fn)`` returns: call it like ``fn``. ``.traces`` counts the traces made."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.plans: dict[tuple, Plan] = {}
        self.traces = 0
        functools.update_wrapper(self, fn)

    def __call__(self, *args: Any) -> Any:
        try:
            key = _signature(args)
            plan = self.plans.get(key)
        except TypeError:  # an unhashable Python argument: nothing to cache on
            return self.fn(*args)
        if plan is not None:
            return plan.run_generated(
                *[a._data if isinstance(a, Tensor) else a for a in args if isinstance(a, Tensor) or is_array(a)]
            )
        if mode.current_tracer() is not None:  # nested compile: the outer trace records our ops
            return self.fn(*args)
        result, plan = self._trace(args)
        self.plans[key] = plan
        return result

    def _trace(self, args: tuple) -> tuple[Any, Plan]:
        tracer = Tracer()
        for a in args:
            if isinstance(a, Tensor):
                tracer.input(a._data)
            elif is_array(a):
                tracer.input(a)
        state = mode.state
        with _tracing_lock:
            mode.TRACING += 1
        state.tracer = tracer  # this thread's ops only: another thread's never enter the trace
        try:
            result = self.fn(*args)
        finally:
            state.tracer = None
            with _tracing_lock:
                mode.TRACING -= 1
        self.traces += 1
        return result, Plan(tracer, _output_spec(result, tracer))


def compile(fn: Callable[..., Any]) -> CompiledFunction:  # noqa: A001 - the name people expect
    """Trace ``fn`` on its first call per input signature; replay the recorded NumPy calls after.

    ``fn`` takes tensors or arrays, runs a forward pass, ``backward()`` and an optimizer
    step (or returns a loss and gradients), and returns tensors. Results are bit-identical
    to eager mode. See the module docstring for what is fixed at trace time.
    """
    return CompiledFunction(fn)


def is_tracing() -> bool:
    """True while ``fg.compile`` is tracing a function on this thread."""
    return mode.current_tracer() is not None


def replay_call(fn: Callable[[], Any]) -> None:
    """While tracing, have ``fn()`` run again at this point of every replay.

    Optimizers and modules use it for work that is plain Python over tensors' arrays
    (``optimizer.step()``, ``zero_grad()``): the call is recorded, not its insides.
    """
    if mode.RECORDING:
        mode.note_inplace("a step that is replayed as a whole (an optimizer step)", None)
    tracer = mode.current_tracer()
    if tracer is not None:
        tracer.opaque(fn)
