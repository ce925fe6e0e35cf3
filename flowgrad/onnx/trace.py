"""Record a model's forward as a list of registry primitives, with fg.compile's tracer hook.

Every op reaches ``core.ops.apply``, which hands each call to the tracer of the current thread
(``mode.state.tracer``) while ``mode.TRACING`` is set: the hook ``fg.compile`` records its NumPy
steps with. The tracer here receives the same calls and keeps, for each, the primitive's name,
its inputs (traced values or constants), its parameters and its result. The innermost module
whose forward was running is kept too, so an error can name where the op came from.

>>> import numpy as np, flowgrad as fg
>>> from flowgrad.onnx.trace import trace
>>> t = trace(fg.nn.Sequential(fg.nn.Linear(3, 2), fg.nn.ReLU()), [np.ones((4, 3), np.float32)])
>>> [s.op for s in t.steps]
['linear', 'relu']
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import flowgrad as fg
from flowgrad.core import mode
from flowgrad.core.compiler import TracingWarning, _tracing_lock
from flowgrad.core.ops import REGISTRY, Op
from flowgrad.errors import FlowgradError

__all__ = ["Step", "Trace", "trace"]


def _op_of_forward() -> dict[int, Op]:
    return {id(op.forward): op for op in REGISTRY.values()}


@dataclass
class Step:
    """One primitive call: ``args`` holds value keys (ints) for traced values, else constants."""

    op: str
    args: list[Any]
    is_value: list[bool]
    params: dict[str, Any]
    out: int
    where: str


@dataclass
class Trace:
    """The steps of one forward, the keys of its inputs and outputs, and every value seen."""

    steps: list[Step] = field(default_factory=list)
    inputs: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)
    values: dict[int, np.ndarray] = field(default_factory=dict)  # key -> the array of this run
    tensors: dict[int, Any] = field(default_factory=dict)  # key -> the Tensor, for values not made by a step


class _Tracer:
    """Receives ``apply``'s calls (the interface of ``core.compiler.Tracer``) and keeps primitives."""

    def __init__(self) -> None:
        self.out = Trace()
        self.key_of: dict[int, int] = {}  # id(array) -> key
        self.keep: list[Any] = []  # every array stays alive while tracing, so ids stay unique
        self.ops = _op_of_forward()
        self.where: list[str] = [""]
        self.warned: set[str] = set()

    def key(self, array: np.ndarray, tensor: Any = None) -> int:
        k = self.key_of.get(id(array))
        if k is None:
            k = self.key_of[id(array)] = len(self.keep)
            self.keep.append(array)
            self.out.values[k] = array
            if tensor is not None:
                self.out.tensors[k] = tensor
        return k

    def record(self, fn: Callable[..., Any], args: list, kwargs: dict, out: Any) -> None:
        if isinstance(fn, functools.partial):  # core.ops._forward_of: the forward, made to return an ndarray
            fn = fn.args[0]
        op = self.ops.get(id(fn))
        if op is None:
            raise FlowgradError(f"onnx.export: a computation that is not a registry op ran in {self.path()}")
        keys, flags = [], []
        for a in args:
            if isinstance(a, fg.Tensor):
                keys.append(self.key(a._data, a))
                flags.append(True)
            elif isinstance(a, np.ndarray) and id(a) in self.key_of:
                keys.append(self.key_of[id(a)])
                flags.append(True)
            else:
                keys.append(a)
                flags.append(False)
        dst = self.key(out)
        self.out.steps.append(Step(op.name, keys, flags, dict(kwargs), dst, self.path()))

    def path(self) -> str:
        return self.where[-1] or "the model's forward"

    def _refuse(self, what: str) -> None:
        raise FlowgradError(
            f"onnx.export: {what} in {self.path()} during the forward; an ONNX graph has no in-place "
            "updates: write the forward with out-of-place ops (x = x + y, not x += y)"
        )

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self._refuse(f"an in-place update ({getattr(fn, '__name__', fn)})")

    def call_with_tensors(self, fn: Callable[..., Any], *args: Any) -> Any:
        self._refuse("a gradient store")

    def opaque(self, fn: Callable[[], Any]) -> None:
        self._refuse("a step that is replayed as a whole (an optimizer step)")

    def warn(self, what: str) -> None:
        if what not in self.warned:
            self.warned.add(what)
            warnings.warn(
                f"onnx.export: {what} of a tensor in {self.path()}: the value is fixed in the exported "
                "graph, and Python branches that depend on it keep the path they took now",
                TracingWarning,
                stacklevel=3,
            )


def _wrap_forwards(model: Any, tracer: _Tracer) -> list:
    """Have each submodule's forward say where it is; returns what to undo."""
    undo = []
    for name, m in model.named_modules():
        if "forward" in m.__dict__:
            continue
        label = f"module '{name}' ({type(m).__name__})" if name else f"the model ({type(m).__name__})"

        def forward(*args: Any, _m: Any = m, _label: str = label, **kwargs: Any) -> Any:
            tracer.where.append(_label)
            try:
                return type(_m).forward(_m, *args, **kwargs)
            finally:
                tracer.where.pop()

        object.__setattr__(m, "forward", forward)
        undo.append(m)
    return undo


def trace(model: Any, inputs: list[np.ndarray]) -> Trace:
    """Run ``model(*inputs)`` in eval mode without gradients, recording each primitive."""
    tracer = _Tracer()
    tensors = [fg.from_numpy(np.ascontiguousarray(a)) for a in inputs]
    tracer.out.inputs = [tracer.key(t._data) for t in tensors]
    undo = _wrap_forwards(model, tracer) if isinstance(model, fg.nn.Module) else []
    state = mode.state
    with _tracing_lock:
        mode.TRACING += 1
    state.tracer = tracer
    try:
        with fg.no_grad():
            result = model(*tensors)
    finally:
        state.tracer = None
        with _tracing_lock:
            mode.TRACING -= 1
        for m in undo:
            object.__delattr__(m, "forward")
    results = list(result) if isinstance(result, (tuple, list)) else [result]
    for r in results:
        if not isinstance(r, fg.Tensor):
            raise FlowgradError(f"onnx.export: the forward must return tensors (or a tuple of them), got {r!r}")
        tracer.out.outputs.append(tracer.key(r._data, r))
    return tracer.out
