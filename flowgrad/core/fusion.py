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
import math
from collections.abc import Callable
from typing import Any

import numpy as np

# An emitter: (dst, args, kw, values, fresh, buf, like) -> source lines, or None where it does not
# apply. dst and args are variable names (constants of the trace are named c<slot>); values the traced argument values (shapes, dtypes, constants);
# fresh says the result must be a new array each call (it outlives the call); buf(value) binds a
# buffer like ``value`` (an array), allocated once, or the value itself (a scalar), and returns its name;
# like is the traced result. Ufuncs take ``out`` as their last positional argument (no keyword parsing).
Emitter = Callable[..., "list[str] | None"]


def _floats(*values: Any) -> bool:
    first = values[0]
    return all(
        type(v) is np.ndarray and v.dtype == first.dtype and v.shape == first.shape and v.dtype.kind == "f"
        for v in values
    )


def _sigmoid_forward(dst: str, a: list, kw: dict, vals: list, fresh: bool, buf: Callable, like: Any) -> Any:
    if kw or len(a) != 1 or not _floats(vals[0]):
        return None
    out = "" if fresh else f", {buf(vals[0])}"
    return [
        f"{dst} = negative({a[0]}{out})",
        f"minimum({dst}, {buf(_CAPS[vals[0].dtype.char])}, out={dst})",  # positional out: deprecated for minimum
        f"exp({dst}, {dst})",
        f"add({dst}, 1, {dst})",
        f"reciprocal({dst}, {dst})",
    ]


def _sigmoid_rule(dst: str, a: list, kw: dict, vals: list, fresh: bool, buf: Callable, like: Any) -> Any:
    # g * ans * (1 - ans)
    if kw or len(a) != 3 or not _floats(vals[0], vals[1]):
        return None
    g, ans = a[0], a[1]
    t = buf(vals[1])
    out = "" if fresh else f", {buf(vals[1])}"
    return [f"{dst} = multiply({g}, {ans}{out})", f"subtract(1, {ans}, {t})", f"multiply({dst}, {t}, {dst})"]


def _linear_forward(dst: str, a: list, kw: dict, vals: list, fresh: bool, buf: Callable, like: Any) -> Any:
    x, w, b = vals
    if kw or not (type(x) is np.ndarray and type(w) is np.ndarray and w.ndim == 2) or like is None:
        return None
    out = "" if fresh else f", {buf(like)}"
    lines = [f"{dst} = matmul({a[0]}, {a[1]}.T{out})"]
    if b is not None:
        lines.append(f"add({dst}, {a[2]}, {dst})")
    return lines


def _linear_grad_x(dst: str, a: list, kw: dict, vals: list, fresh: bool, buf: Callable, like: Any) -> Any:
    out = "" if fresh or like is None else f", {buf(like)}"
    return None if kw else [f"{dst} = matmul({a[0]}, {a[3]}{out})"]


def _linear_grad_w(dst: str, a: list, kw: dict, vals: list, fresh: bool, buf: Callable, like: Any) -> Any:
    if kw or not (type(vals[2]) is np.ndarray and vals[2].ndim == 2 and vals[0].ndim == 2):
        return None
    out = "" if fresh or like is None else f", {buf(like)}"
    return [f"{dst} = matmul({a[0]}.T, {a[2]}{out})"]


def _linear_grad_b(dst: str, a: list, kw: dict, vals: list, fresh: bool, buf: Callable, like: Any) -> Any:
    if kw or not (type(vals[0]) is np.ndarray and vals[0].ndim == 2):
        return None
    out = "" if fresh or like is None else f", None, {buf(like)}"
    return [f"{dst} = add_reduce({a[0]}, 0{out})"]


def _squared_error_forward(dst: str, a: list, kw: dict, vals: list, fresh: bool, buf: Callable, like: Any) -> Any:
    if set(kw) != {"reduction"} or kw["reduction"] not in ("mean", "sum") or not _floats(vals[0], vals[1]):
        return None
    d, sq = buf(vals[0]), buf(vals[0])
    lines = [f"subtract({a[0]}, {a[1]}, {d})", f"multiply({d}, {d}, {sq})"]
    if kw["reduction"] == "sum" or vals[0].size == 0:
        return None if vals[0].size == 0 else [*lines, f"{dst} = asarray(add_reduce({sq}, None))"]
    # mean_of_all: the float sum divided by an intp count, back in the sum's dtype
    mean = f"add_reduce({sq}, None) / {buf(np.intp(vals[0].size))}"  # a float64 quotient
    return [*lines, f"{dst} = asarray({'float32(' + mean + ')' if vals[0].dtype == np.float32 else mean})"]


def _squared_error_rule(dst: str, a: list, kw: dict, vals: list, fresh: bool, buf: Callable, like: Any) -> Any:
    # d = a - b; g = g / n (mean); half = g * d; gd = half + half; [gd, -gd] as needed
    g, _, needs, x, y = vals
    if set(kw) != {"reduction"} or kw["reduction"] not in ("mean", "sum") or not _floats(x, y):
        return None
    if type(g) is not np.ndarray or g.ndim or not isinstance(needs, list):
        return None
    d, half = buf(x), buf(x)
    lines = [f"subtract({a[3]}, {a[4]}, {d})"]
    scale = a[0]
    if kw["reduction"] == "mean":
        count = max(math.prod(x.shape), 1)
        if a[0].startswith("c"):  # the seed, a constant of the trace: divided once, here
            folded = np.true_divide(g, count)
            unit = folded == 1.0 and np.result_type(folded, x) == x.dtype  # 1.0 * d is d, bit for bit
            scale = "1.0" if unit else buf(folded)
        else:
            lines.append(f"_s = true_divide({a[0]}, {count})")
            scale = "_s"
    if scale == "1.0":
        half = d
    else:
        lines.append(f"multiply({scale}, {d}, {half})")
    gd = "_gd"
    lines.append(f"{gd} = add({half}, {half}" + ("" if fresh else f", {buf(x)}") + ")")
    first = gd if needs[0] else "None"
    second = f"negative({gd})" if needs[1] else "None"
    lines.append(f"{dst} = [{first}, {second}]")
    return lines


def emitters() -> dict[Any, Emitter]:
    """The functions the generated replay writes out inline, keyed by the traced callable."""
    from ..ops import elementwise, linalg, reduce
    from .ops import RAW

    def rule(fn: Callable | None) -> tuple:
        return ("partial", fn, RAW)

    _CAPS.update({c: elementwise._exp_cap(np.dtype(c)) for c in "fd"})
    return {
        elementwise._sigmoid_forward: _sigmoid_forward,
        rule(elementwise.SIGMOID.vjps[0]): _sigmoid_rule,
        linalg._linear_forward: _linear_forward,
        rule(linalg._linear_grad_x): _linear_grad_x,
        rule(linalg._linear_grad_w): _linear_grad_w,
        rule(linalg._linear_grad_b): _linear_grad_b,
        reduce._squared_error_forward: _squared_error_forward,
        rule(reduce._squared_error_rule): _squared_error_rule,
    }


_CAPS: dict[str, float] = {}  # sigmoid's cap on exp's argument, per dtype (from the op itself)
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
    """The key ``emitters()`` files ``fn`` under (gradient rules are partials over RAW)."""
    if isinstance(fn, functools.partial) and len(fn.args) == 1 and not fn.keywords:
        return ("partial", fn.func, fn.args[0])
    return fn


def _random_like(value: Any, rng: np.random.Generator) -> Any:
    if type(value) is np.ndarray and value.dtype.kind == "f":
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
        space[name] = np.empty_like(value) if type(value) is np.ndarray else value
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


def sgd_update(owner: Any, name: str, buf: Callable) -> list[str] | None:
    """Plain SGD's update (``p -= lr * grad`` per parameter) written out, read from ``name`` each call.

    The learning rate and the flags are read from the optimizer's groups on every call, so a
    scheduler's changes take effect; a group with momentum, weight decay or maximize, a learning
    rate that is not a Python float (NumPy scalars promote differently), or parameter lists of
    other lengths than traced run the optimizer's own update instead.
    """
    from ..optim.optimizer import _BLOCK, subtract_scaled

    NAMESPACE["subtract_scaled"] = subtract_scaled

    cls_update = getattr(type(owner), "_update", None)
    if getattr(owner, "_compiled_update", None) != "sgd" or getattr(cls_update, "__qualname__", "") != "SGD._update":
        return None
    groups = owner.param_groups
    test = [f"len(_gs) == {len(groups)}"]
    for i, group in enumerate(groups):
        g = f"_gs[{i}]"
        test.append(f"not ({g}['momentum'] or {g}['weight_decay'] or {g}['maximize'])")
        test.append(f"type({g}['lr']) is float and len({g}['params']) == {len(group['params'])}")
    lines = [f"_gs = {name}.param_groups", f"if {' and '.join(test)}:"]
    for i, group in enumerate(groups):
        lines += [f"    _g = _gs[{i}]", "    _lr = _g['lr']", "    _ps = _g['params']"]
        for j, p in enumerate(group["params"]):
            lines += [f"    _p = _ps[{j}]", "    _q = _p.grad", "    if _q is not None:"]
            if p._data.size > _BLOCK:  # block by block through a small buffer, as the optimizer does
                lines.append("        subtract_scaled(_p._data, _lr, _q._data)")
            else:
                b = buf(p._data)
                lines.append(f"        _d = _p._data; multiply(_q._data, _lr, {b}); subtract(_d, {b}, _d)")
    return [*lines, "else:", f"    {name}._update_all()"]
