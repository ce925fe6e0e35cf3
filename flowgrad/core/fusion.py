"""Inline NumPy code for the steps ``fg.compile`` knows: elementwise chains written out with ``out=``.

A recorded step is normally replayed as a call of the function that ran while tracing (an op's
forward, a gradient rule). For the functions listed here the generated replay holds their NumPy
calls instead, written into buffers kept from call to call: sigmoid's forward and gradient rule,
the squared-error forward and rule, and the linear layer's forward and rules. Each emitter writes
the same ufuncs on the same operands in the same order as the function it replaces, so the values
are the same to the last bit; before a plan uses an emitter, ``verified`` runs both on random
inputs of the traced shapes and dtypes and keeps the emitter only if every output is equal, so a
change in an op's math makes the replay fall back to calling the op, never to other digits.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from ..backend import ndarray

# An emitter: (dst, args, kw, values, fresh, buf, like) -> source lines, or None where it does not
# apply. dst and args are variable names (constants of the trace are named c<slot>); values the traced argument values (shapes, dtypes, constants);
# fresh says the result must be a new array each call (it outlives the call); buf(value) binds a
# buffer like ``value`` (an array), allocated once, or the value itself (a scalar), and returns its name;
# like is the traced result. Ufuncs take ``out`` as their last positional argument (no keyword parsing).
Emitter = Callable[..., "list[str] | None"]


# The emitters, filed under the function each replaces: an op's forward, or rule_key(rule) for a
# gradient rule. flowgrad/ops/emitters.py declares them with declare_emitter.
EMITTERS: dict[Any, Emitter] = {}


# Called once, on the first compile: the ops layer declares its emitters there, so that
# `import flowgrad` does not pay for them (fg.compile is not used by most programs).
_LOADERS: list[Callable[[], Any]] = []


def declare_emitter_loader(load: Callable[[], Any]) -> None:
    """Have ``load()`` (which declares emitters) run before the first plan is written."""
    _LOADERS.append(load)


def emitters() -> dict[Any, Emitter]:
    """The emitters, keyed as ``key_of`` keys a traced callable (their loaders run on first use)."""
    while _LOADERS:
        _LOADERS.pop(0)()
    return EMITTERS


def declare_emitter(key: Any, emitter: Emitter, names: dict[str, Any] | None = None) -> None:
    """File ``emitter`` under ``key`` (``fn`` or ``rule_key(rule)``); ``names``: what its lines call."""
    EMITTERS[key] = emitter
    NAMESPACE.update(names or {})


def rule_key(rule: Callable[..., Any] | None) -> tuple:
    """The key of a gradient rule as the backward walk calls it (a partial over NumPy)."""
    from .ops import NUMPY_XP

    return ("partial", rule, NUMPY_XP)


NAMESPACE = {
    "negative": np.negative,
    "minimum": np.minimum,
    "exp": np.exp,
    "add": np.add,
    "reciprocal": np.reciprocal,
    "multiply": np.multiply,
    "subtract": np.subtract,
    "true_divide": np.true_divide,
    "matmul": np.matmul,
    "add_reduce": np.add.reduce,
    "asarray": np.asarray,
    "float32": np.float32,
    "float64": np.float64,
    "intp": np.intp,
    "empty": np.empty,
}


def key_of(fn: Any) -> Any:
    """The key ``EMITTERS`` files ``fn`` under (gradient rules are partials over NUMPY_XP)."""
    if isinstance(fn, functools.partial) and len(fn.args) == 1 and not fn.keywords:
        return ("partial", fn.func, fn.args[0])
    return fn


def _random_like(value: Any, rng: np.random.Generator) -> Any:
    if type(value) is ndarray and value.dtype.kind == "f":
        # Magnitudes from 0.1 to 20,000: sigmoid's cap on exp's argument is crossed both ways.
        scale = np.exp(rng.uniform(-2.0, 10.0, value.shape))
        return np.asarray(rng.standard_normal(value.shape) * scale, dtype=value.dtype)
    if isinstance(value, list):
        return [_random_like(v, rng) for v in value]
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if a is None or b is None:
        return a is None and b is None
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)


def fuse(
    emit: Emitter, fn: Callable, dst: str, a: list, vals: list, kw: dict, fresh: bool, like: Any, buf: Callable
) -> Any:
    """The lines ``emit`` writes for this step, if they give what ``fn`` gives bit for bit, else None.

    The check runs both on random inputs of the traced shapes and dtypes, with the emitter's
    buffers allocated for the check alone.
    """
    space: dict = dict(NAMESPACE)

    def check_buf(value: Any) -> str:
        name = f"_b{len(space)}"
        space[name] = np.empty_like(value) if type(value) is ndarray else value
        return name

    from .codegen import make_function

    names = [f"_a{i}" for i in range(len(a))]
    lines = emit("_r", names, kw, vals, fresh, check_buf, like)
    if lines is None:
        return None
    source = f"def _check({', '.join(names)}):\n" + "".join(f"    {ln}\n" for ln in lines) + "    return _r\n"
    try:
        with np.errstate(all="ignore"):  # overflow on purpose: the wide random inputs
            equal = _agree(make_function(source, space, "_check", "<flowgrad fusion check>"), fn, vals, kw)
    except Exception:  # noqa: BLE001 - an emitter that fails here is simply not used
        return None
    return emit(dst, a, kw, vals, fresh, buf, like) if equal else None


def _agree(check: Callable, fn: Callable, vals: list, kw: dict) -> bool:
    rng = np.random.default_rng(0)
    for _ in range(4):
        values = [_random_like(v, rng) for v in vals]
        if not _same(check(*values), fn(*values, **kw)):
            return False
    return True
