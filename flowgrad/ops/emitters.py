"""Inline NumPy code for fg.compile's generated replay (``flowgrad/core/fusion.py``), declared for
the ops it replaces: sigmoid's forward and rule, the squared error's forward and rule, and the
linear layer's forward and rules. Each emitter writes the same ufuncs on the same operands in
the same order as the function it replaces; ``fusion.fuse`` still checks every one bit for bit
against that function on random inputs before a plan uses it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..backend import ndarray
from ..core.fusion import declare_emitter, rule_key
from . import elementwise, linalg, reduce

_CAPS = {c: elementwise._exp_cap(np.dtype(c)) for c in "fd"}  # sigmoid's cap on exp's argument, per dtype


def _floats(*values: Any) -> bool:
    first = values[0]
    return all(
        type(v) is ndarray and v.dtype == first.dtype and v.shape == first.shape and v.dtype.kind == "f" for v in values
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
    if kw or not (type(x) is ndarray and type(w) is ndarray and w.ndim == 2) or like is None:
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
    if kw or not (type(vals[2]) is ndarray and vals[2].ndim == 2 and vals[0].ndim == 2):
        return None
    out = "" if fresh or like is None else f", {buf(like)}"
    return [f"{dst} = matmul({a[0]}.T, {a[2]}{out})"]


def _linear_grad_b(dst: str, a: list, kw: dict, vals: list, fresh: bool, buf: Callable, like: Any) -> Any:
    if kw or not (type(vals[0]) is ndarray and vals[0].ndim == 2):
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
    if type(g) is not ndarray or g.ndim or not isinstance(needs, list):
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


declare_emitter(elementwise._sigmoid_forward, _sigmoid_forward)
declare_emitter(rule_key(elementwise.SIGMOID.vjps[0]), _sigmoid_rule)
declare_emitter(linalg._linear_forward, _linear_forward)
declare_emitter(rule_key(linalg._linear_grad_x), _linear_grad_x)
declare_emitter(rule_key(linalg._linear_grad_w), _linear_grad_w)
declare_emitter(rule_key(linalg._linear_grad_b), _linear_grad_b)
declare_emitter(reduce._squared_error_forward, _squared_error_forward)
declare_emitter(rule_key(reduce._squared_error_rule), _squared_error_rule)
