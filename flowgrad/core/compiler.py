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
            stacklevel=3,
        )


def _build(kind: type) -> Callable[..., Any]:
    return lambda *parts: kind(parts)


class Plan:
    """A recorded step, replayed on new inputs."""

    def __init__(self, tracer: Tracer, output: Any) -> None:
        self.template = tracer.template
        self.externals = tracer.externals
        self.inputs = tracer.inputs
        self.output = output
        dead = _dead_after(tracer, output)
        reusable = _reusable_slots(tracer, output)
        self.buffers = len(reusable)
        # One flat list of closures: the replay loop does nothing but call them.
        self.steps: list[Callable[[list], None]] = []
        for i, s in enumerate(tracer.steps):
            fn, args, kw, dst = s[:4]
            if dst in reusable:  # written into a buffer allocated now, once, and reused every call
                self.steps.append(_specialize_out(fn, args, dst, np.empty_like(tracer.keep[dst])))
            else:
                self.steps.append(_specialize(fn, args, kw, dst))
            if s[4]:  # an opaque call may rebind tensors' arrays: re-read them after it
                self.steps.append(self._refresh)
            if i in dead:  # large intermediates are let go after their last use, as eager does
                self.steps.append(_release(dead[i]))

    def _refresh(self, vals: list) -> None:
        for k, t in self.externals:
            vals[k] = t._data

    def run(self, arrays: list[np.ndarray]) -> Any:
        vals = list(self.template)
        for k, t in self.externals:
            vals[k] = t._data
        for k, a in zip(self.inputs, arrays):
            vals[k] = a
        for step in self.steps:
            step(vals)
        return _rebuild(self.output, vals)


def _takes_out(fn: Any, nargs: int) -> bool:
    if isinstance(fn, np.ufunc):
        return fn.nout == 1 and fn.nin == nargs
    return getattr(fn, "_accepts_out", False)  # set by core.ops.accepts_out


def _reusable_slots(tracer: Tracer, output: Any) -> set[int]:
    """Slots whose value a step can write into a buffer kept from call to call.

    A slot qualifies when its step's function takes ``out=`` (a ufunc, or a forward marked with
    ``accepts_out``) and its value is a fresh array. It does not when anything that outlives the
    call may hold its memory: an output of the compiled function or a gradient stored into
    ``.grad`` (or a view of either), whose array must be new on every call. Views share their
    owner's ``base``, so comparing owners finds them.
    """
    escaping = set(_output_slots(output)) | tracer.stored
    owners = set()
    for k in escaping:
        v = tracer.keep[k]
        if is_array(v):
            owners.add(id(v if v.base is None else v.base))
        elif isinstance(v, (list, tuple)):  # a built list (concatenate's operands): all escape
            owners.update(id(x if x.base is None else x.base) for x in v if is_array(x))
    reusable = set()
    for fn, args, kw, dst, opaque in tracer.steps:
        if dst is None or kw or opaque or not _takes_out(fn, len(args)):
            continue
        v = tracer.keep[dst]
        if type(v) is ndarray and v.base is None and id(v) not in owners and v.flags.writeable:
            reusable.add(dst)
    return reusable


def _specialize_out(fn: Callable[..., Any], a: list[int], dst: int, buf: np.ndarray) -> Callable[[list], None]:
    if len(a) == 1:
        (i,) = a

        def step(v: list) -> None:
            v[dst] = fn(v[i], out=buf)

    elif len(a) == 2:
        i, j = a

        def step(v: list) -> None:
            v[dst] = fn(v[i], v[j], out=buf)

    else:

        def step(v: list) -> None:
            v[dst] = fn(*[v[i] for i in a], out=buf)

    return step


def _release(slots: list[int]) -> Callable[[list], None]:
    def release(vals: list) -> None:
        for k in slots:
            vals[k] = None

    return release


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


def _specialize(fn: Callable[..., Any], a: list[int], kw: dict, dst: int | None) -> Callable[[list], None]:
    """A closure for one step, with the common shapes unrolled (this loop is the replay's cost)."""
    if kw:
        kitems = list(kw.items())

        def step(v: list) -> None:
            r = fn(*[v[i] for i in a], **{k: v[i] for k, i in kitems})
            if dst is not None:
                v[dst] = r

    elif dst is None:

        def step(v: list) -> None:
            fn(*[v[i] for i in a])

    elif len(a) == 1:
        (i,) = a

        def step(v: list) -> None:
            v[dst] = fn(v[i])

    elif len(a) == 2:
        i, j = a

        def step(v: list) -> None:
            v[dst] = fn(v[i], v[j])

    elif len(a) == 3:
        i, j, k = a

        def step(v: list) -> None:
            v[dst] = fn(v[i], v[j], v[k])

    elif len(a) == 5:  # a gradient rule of a 3-input op (linear): g, ans and the inputs
        i, j, k, m, n = a

        def step(v: list) -> None:
            v[dst] = fn(v[i], v[j], v[k], v[m], v[n])

    else:

        def step(v: list) -> None:
            v[dst] = fn(*[v[i] for i in a])

    return step


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


def _rebuild(spec: tuple, vals: list) -> Any:
    kind = spec[0]
    if kind == "tensor":
        return Tensor._wrap(vals[spec[1]])
    if kind == "array":
        return vals[spec[1]]
    if kind in ("tuple", "list"):
        items = [_rebuild(s, vals) for s in spec[1]]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict":
        return {k: _rebuild(s, vals) for k, s in spec[1].items()}
    return spec[1]


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
            return plan.run([a._data if isinstance(a, Tensor) else a for a in args])
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
    tracer = mode.current_tracer()
    if tracer is not None:
        tracer.opaque(fn)
