"""The source of one Python function that replays a recorded step (``fg.compile``'s plans).

Every value slot of the trace becomes a local variable (``v12``), every recorded call one line;
the functions, constants and buffers the lines use are names in the function's globals. Steps
whose function ``fusion`` knows are written out as their NumPy calls with ``out=`` buffers, the
gradient stores and plain SGD's update inline. The source is kept on the plan (``.source``) so
that what a compiled step does can be read.
"""

from __future__ import annotations

import builtins
import functools
import operator
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from ..backend import ndarray
from . import fusion
from .tensor import Tensor
from .walks import store_leaf_grad


def make_function(source: str, namespace: dict, name: str, filename: str) -> Callable[..., Any]:
    """The function ``name`` defined by ``source`` (one ``def`` we wrote), with ``namespace`` as globals.

    The source holds only names and numbers this module formats, never text from a file or a user.
    """
    module = builtins.compile(source, filename, "exec")
    code = next(c for c in module.co_consts if isinstance(c, types.CodeType) and c.co_name == name)
    return types.FunctionType(code, namespace, name)


class Generator:
    """Writes the replay function of one trace: ``lines`` and the ``namespace`` they run in."""

    def __init__(self, tracer: Any, output: Any, reusable: set[int], safe: set[int], dead: dict) -> None:
        self.tracer = tracer
        emitters = fusion.emitters()
        self.namespace: dict[str, Any] = {**fusion.NAMESPACE, "wrap": Tensor._wrap}
        self.written = set(tracer.inputs) | {k for k, _ in tracer.externals}
        self.written.update(s[3] for s in tracer.steps if s[3] is not None)
        self.buffers = 0
        self.fused = 0
        params = ", ".join(f"v{k}" for k in tracer.inputs)
        self.lines = [f"def replay({params}):"]
        # The externals are read on entry, unless an opaque call (zero_grad) comes first and re-reads them.
        first = tracer.steps[0] if tracer.steps else None
        generic = first is not None and first[4] and not (self._fusable_opaque(first[0]) or self._zero_grad(first[0]))
        body = [] if generic else self.refresh()
        for i, (fn, args, kw, dst, opaque) in enumerate(tracer.steps):
            if opaque:
                body += self.opaque(i, fn)
            elif fn is store_leaf_grad and len(args) == 4:
                body += self.store(i, fn, args)
            elif fn is operator.getitem and len(args) == 2 and not kw and dst is not None:
                index = tracer.template[args[1]] if args[1] not in self.written else None
                key = repr(index) if type(index) is int else self.name(args[1])  # a literal index: no lookup
                body.append(f"v{dst} = {self.name(args[0])}[{key}]")
            else:
                emit = emitters.get(fusion.key_of(fn))
                lines = None
                if emit is not None and dst is not None:
                    fresh = dst not in safe
                    kwv = {k: tracer.keep[s] for k, s in kw.items()}
                    vals = [tracer.keep[a] for a in args]
                    lines = fusion.fuse(
                        emit, fn, f"v{dst}", self.names(args), vals, kwv, fresh, tracer.keep[dst], self.buf
                    )
                if lines is not None:
                    self.fused += 1
                    body += lines
                else:
                    body.append(self.call(i, fn, args, kw, dst, dst in reusable))
            for k in dead.get(i, ()):  # large intermediates are let go after their last use, as eager does
                body.append(f"v{k} = None")
        body.append(f"return {self.rebuild(output)}")
        self.lines += [f"    {line}" for line in body]
        self.source = "\n".join(self.lines) + "\n"

    # ----- names ----------------------------------------------------------------------------------
    def name(self, k: int) -> str:
        if k in self.written:
            return f"v{k}"
        self.namespace[f"c{k}"] = self.tracer.template[k]  # a constant of the trace
        return f"c{k}"

    def names(self, slots: list[int]) -> list[str]:
        return [self.name(k) for k in slots]

    def bind(self, prefix: str, value: Any) -> str:
        name = f"{prefix}{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def buf(self, like: Any) -> str:
        if type(like) is not ndarray:  # a scalar constant of an emitter
            return self.bind("k", like)
        self.buffers += 1
        return self.bind("b", np.empty_like(like))

    # ----- steps ----------------------------------------------------------------------------------
    def refresh(self) -> list[str]:
        return [f"v{k} = {self.bind('e', t)}._data" for k, t in self.tracer.externals]

    @staticmethod
    def _fusable_opaque(fn: Any) -> bool:
        return getattr(fn, "__name__", "") == "_update_all" and getattr(fn, "__self__", None) is not None

    @staticmethod
    def _zero_grad(fn: Any) -> bool:
        """``Optimizer.zero_grad(set_to_none=True)`` as the base class defines it."""
        if not (isinstance(fn, functools.partial) and fn.args == (True,) and not fn.keywords):
            return False
        owner = getattr(fn.func, "__self__", None)
        method = getattr(type(owner), "_zero_grad", None)
        return getattr(method, "__qualname__", "") == "Optimizer._zero_grad" and hasattr(owner, "param_groups")

    def opaque(self, i: int, fn: Any) -> list[str]:
        owner = getattr(fn, "__self__", None)
        if self._fusable_opaque(fn):
            inline = getattr(owner, "_inline_update", None)  # SGD's (optim/first_order.py)
            written = inline(self.bind("o", owner), self.buf) if inline is not None else None
            if written is not None:  # updates arrays in place: nothing to re-read
                lines, names = written
                self.namespace.update(names)
                self.fused += 1
                return lines
        if self._zero_grad(fn):  # every parameter's .grad to None; no array changes
            return [
                f"for _g in {self.bind('o', fn.func.__self__)}.param_groups:",
                "    for _p in _g['params']: _p.grad = None",
            ]
        return [f"{self.bind('f', fn)}()", *self.refresh()]  # it may rebind tensors' arrays: re-read them

    def store(self, i: int, fn: Any, args: list[int]) -> list[str]:
        t, g, owned, create = (self.name(k) for k in args)
        call = f"{self.bind('f', fn)}({t}, {g}, {owned}, {create})"
        if owned.startswith("c") and self.namespace[owned] is True and self.namespace.get(create) is False:
            return [f"if {t}.grad is None: {t}.grad = wrap({g})", f"else: {call}"]
        return [call]

    def call(self, i: int, fn: Any, args: list[int], kw: dict, dst: int | None, buffered: bool) -> str:
        parts = self.names(args) + [f"{k}={self.name(s)}" for k, s in kw.items()]
        if buffered:
            out = self.buf(self.tracer.keep[dst])
            positional = isinstance(fn, np.ufunc) and fn not in (np.minimum, np.maximum)  # those two deprecate it
            parts.append(out if positional else f"out={out}")
        expr = f"{self.bind('f', fn)}({', '.join(parts)})"
        return expr if dst is None else f"v{dst} = {expr}"

    def rebuild(self, spec: tuple) -> str:
        kind = spec[0]
        if kind == "tensor":
            return f"wrap(v{spec[1]})"
        if kind == "array":
            return f"v{spec[1]}"
        if kind in ("tuple", "list"):
            items = "".join(f"{self.rebuild(s)}, " for s in spec[1])
            return f"({items})" if kind == "tuple" else f"[{items}]"
        if kind == "dict":
            return "{" + ", ".join(f"{self.bind('k', k)}: {self.rebuild(s)}" for k, s in spec[1].items()) + "}"
        return self.bind("k", spec[1])
