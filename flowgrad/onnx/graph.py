"""The ONNX graph under construction, and the view of one traced call that an emitter gets.

>>> from flowgrad.onnx.graph import Graph
>>> g = Graph(opset=18)
>>> g.node("Relu", ["x"], out="y")
'y'
>>> [n.op_type for n in g.nodes]
['Relu']
"""

from __future__ import annotations

from typing import Any

import numpy as np

from flowgrad.errors import FlowgradError

from . import _onnx

__all__ = ["Graph", "Call", "ExportError"]


class ExportError(FlowgradError, NotImplementedError):
    """The model uses an op, or a form of one, that has no ONNX equivalent here."""


class Graph:
    """Nodes and initializers, and the ONNX name of every traced value."""

    def __init__(self, opset: int) -> None:
        self.opset = opset
        self.nodes: list[Any] = []
        self.initializers: dict[str, np.ndarray] = {}
        self.names: dict[int, str] = {}  # trace key -> ONNX name
        self.virtual: dict[str, dict] = {}  # names of values kept symbolic (conv and pooling windows)
        self.origin: dict[str, tuple] = {}  # a reshape's output -> (its input's name, its input's shape)
        self._used: set[str] = set()

    def fresh(self, hint: str) -> str:
        name, k = hint, 0
        while name in self._used:
            k += 1
            name = f"{hint}_{k}"
        self._used.add(name)
        return name

    def node(self, op_type: str, inputs: list[str], out: str | None = None, **attrs: Any) -> str:
        """Append one node; returns the name of its (single) output."""
        out = out or self.fresh(op_type.lower())
        self._used.add(out)
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(_onnx.onnx.helper.make_node(op_type, inputs, [out], name=self.fresh("n_" + out), **attrs))
        return out

    def const(self, value: Any, hint: str = "const") -> str:
        name = self.fresh(hint)
        self.initializers[name] = np.asarray(value)
        return name

    def ints(self, values: Any) -> str:
        return self.const(np.asarray(list(values), np.int64), "shape")

    def reduce(self, op_type: str, x: str, axes: list[int] | None, keepdims: bool, out: str | None = None) -> str:
        """A Reduce* node: axes as an attribute before opset 18 (13 for ReduceSum), an input after."""
        as_input = self.opset >= (13 if op_type == "ReduceSum" else 18)
        keep = int(bool(keepdims))
        if axes is None:
            return self.node(op_type, [x], out, keepdims=keep)
        if as_input:
            return self.node(op_type, [x, self.ints(axes)], out, keepdims=keep)
        return self.node(op_type, [x], out, keepdims=keep, axes=list(axes))


class Call:
    """One traced primitive call as an emitter sees it."""

    def __init__(self, g: Graph, step: Any, values: dict, values2: dict | None) -> None:
        self.g, self.op, self.params, self.where = g, step.op, step.params, step.where
        self._step, self._values, self._values2 = step, values, values2
        self.out = g.names[step.out]
        out = values[step.out]
        self.out_shape: tuple = out.shape
        self.out_dtype = out.dtype
        other = None if values2 is None else values2.get(step.out)
        self.dyn_out = [False] * out.ndim if other is None else [a != b for a, b in zip(out.shape, other.shape)]

    def __len__(self) -> int:
        return len(self._step.args)

    def fail(self, what: str) -> ExportError:
        return ExportError(f"onnx.export: {self.op} in {self.where}: {what}")

    def is_value(self, i: int) -> bool:
        return self._step.is_value[i]

    def value(self, i: int) -> Any:
        """The argument's value in the example run (a constant, or a traced array)."""
        a = self._step.args[i]
        return self._values[a] if self._step.is_value[i] else a

    def shape(self, i: int) -> tuple:
        return np.shape(self.value(i))

    def dyn(self, i: int) -> list[bool]:
        """Per axis of argument ``i``: does its size follow a dynamic axis of the inputs?"""
        shape = self.shape(i)
        if not self._step.is_value[i] or self._values2 is None or self._step.args[i] not in self._values2:
            return [False] * len(shape)
        return [a != b for a, b in zip(shape, self._values2[self._step.args[i]].shape)]

    def virtual(self, i: int) -> dict | None:
        if not self._step.is_value[i]:
            return None
        return self.g.virtual.get(self.g.names[self._step.args[i]])

    def const_dtype(self) -> np.dtype:
        if self.out_dtype.kind in "fc":
            return self.out_dtype
        for i in range(len(self)):
            if self.is_value(i):
                return np.asarray(self.value(i)).dtype
        return self.out_dtype

    def name(self, i: int) -> str:
        """The ONNX name of argument ``i``; a constant becomes an initializer of a matching dtype."""
        a = self._step.args[i]
        if self._step.is_value[i]:
            name = self.g.names[a]
            if name in self.g.virtual:
                raise self.fail(
                    f"takes the windows of {self.g.virtual[name]['kind']} in a form that is neither a "
                    "convolution nor a pooling; only conv2d, max_pool2d and avg_pool2d's patterns have an ONNX form"
                )
            return name
        if a is None:
            return ""
        arr = np.asarray(a)
        target = self.const_dtype()
        if arr.dtype.kind in "fiub" and target.kind == "f" and (arr.dtype.kind == "f" or arr.ndim == 0):
            arr = arr.astype(target)
        return self.g.const(arr, f"{self.op}_const")

    def names(self) -> list[str]:
        return [self.name(i) for i in range(len(self))]

    def common_names(self, first: int = 0) -> list[str]:
        """Arguments ``first..`` cast to one dtype, as NumPy promotes them (ONNX never mixes types).

        The dtype is the output's for arithmetic, the promoted inputs' for comparisons.
        """
        if self.out_dtype.kind in "fciu":
            target = self.out_dtype
        else:
            target = np.result_type(*[np.asarray(self.value(i)) for i in range(first, len(self)) if self.is_value(i)])
        out = [self.name(i) for i in range(first)]
        for i in range(first, len(self)):
            value = self.value(i)
            if not self.is_value(i) and value is not None:
                out.append(self.g.const(np.asarray(value).astype(target), f"{self.op}_const"))
                continue
            name = self.name(i)
            if value is not None and np.asarray(value).dtype != target:
                name = self.g.node("Cast", [name], to=int(_onnx.onnx.helper.np_dtype_to_tensor_dtype(target)))
            out.append(name)
        return out
