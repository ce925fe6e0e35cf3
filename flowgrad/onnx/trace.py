"""Record a model's forward as a list of registry primitives, observing it with
``fg.autograd.graph.observe``: for each op, the primitive's name, its inputs (traced values or
constants), its parameters and its result. The innermost module whose forward was running is kept
too, so an error can name where the op came from; in-place changes are refused (an ONNX graph has
none) and reading a value into Python warns (the exported graph keeps the path taken now).

>>> import numpy as np, flowgrad as fg
>>> from flowgrad.onnx.trace import trace
>>> t = trace(fg.nn.Sequential(fg.nn.Linear(3, 2), fg.nn.ReLU()), [np.ones((4, 3), np.float32)])
>>> [s.op for s in t.steps]
['linear', 'relu']
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import flowgrad as fg
from flowgrad.errors import FlowgradError

__all__ = ["Step", "Trace", "trace"]


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


class _Tracer(fg.autograd.graph.Observer):
    """Told of each op of the forward (``fg.autograd.graph.observe``); keeps them as steps."""

    def __init__(self) -> None:
        self.out = Trace()
        self.key_of: dict[int, int] = {}  # id(array) -> key
        self.keep: list[Any] = []  # every array stays alive while tracing, so ids stay unique
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

    def on_op(self, name: str, inputs: tuple, params: dict, output: Any) -> None:
        keys, flags = [], []
        for a in inputs:
            if isinstance(a, fg.Tensor):
                keys.append(self.key(a._data, a))
                flags.append(True)
            elif isinstance(a, np.ndarray) and id(a) in self.key_of:  # a traced value's array (where's mask)
                keys.append(self.key_of[id(a)])
                flags.append(True)
            else:
                keys.append(a)
                flags.append(False)
        dst = self.key(output._data, output)
        self.out.steps.append(Step(name, keys, flags, dict(params), dst, self.path()))

    def path(self) -> str:
        return self.where[-1] or "the model's forward"

    def _refuse(self, what: str) -> None:
        raise FlowgradError(
            f"onnx.export: {what} in {self.path()} during the forward; an ONNX graph has no in-place "
            "updates: write the forward with out-of-place ops (x = x + y, not x += y)"
        )

    def on_inplace(self, what: str, target: Any) -> None:
        self._refuse(what)

    def on_read(self, what: str) -> None:
        if what not in self.warned:
            self.warned.add(what)
            warnings.warn(
                f"onnx.export: {what} of a tensor in {self.path()}: the value is fixed in the exported "
                "graph, and Python branches that depend on it keep the path they took now",
                fg.compiler.TracingWarning,
                stacklevel=4,  # past mode.note_value_read and the tensor's method: the user's line
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
    try:
        with fg.no_grad(), fg.autograd.graph.observe(tracer):
            result = model(*tensors)
    finally:
        for m in undo:
            object.__delattr__(m, "forward")
    results = list(result) if isinstance(result, (tuple, list)) else [result]
    for r in results:
        if not isinstance(r, fg.Tensor):
            raise FlowgradError(f"onnx.export: the forward must return tensors (or a tuple of them), got {r!r}")
        tracer.out.outputs.append(tracer.key(r._data, r))
    return tracer.out
