"""Products: matmul (NumPy semantics, batched and 1-D), dot, outer, einsum."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..backend import is_array
from ..core.exports import export
from ..core.ops import accepts_out, apply, defop
from ..core.tensor import Tensor
from ..errors import DTypeError, ShapeError, given


def _matmul_grad_a(xp: Any, g: Any, ans: Any, a: Any, b: Any) -> Any:
    if b.ndim == 1:
        if a.ndim == 1:
            return g * b
        return xp.expand_dims(g, -1) * b
    if a.ndim == 1:
        return xp.matmul(xp.expand_dims(g, -2), xp.swapaxes(b, -1, -2))[..., 0, :]
    return xp.matmul(g, xp.swapaxes(b, -1, -2))


def _matmul_grad_b(xp: Any, g: Any, ans: Any, a: Any, b: Any) -> Any:
    if a.ndim == 1:
        if b.ndim == 1:
            return g * a
        return xp.expand_dims(a, -1) * xp.expand_dims(g, -2)
    if b.ndim == 1:
        return xp.matmul(xp.swapaxes(a, -1, -2), xp.expand_dims(g, -1))[..., 0]
    return xp.matmul(xp.swapaxes(a, -1, -2), g)


def _matmul_explain(a: Any, b: Any) -> str | None:
    sa, sb = np.shape(a), np.shape(b)
    if len(sa) == 0 or len(sb) == 0:
        return f"matmul: {sa} @ {sb}: both operands need at least one dimension"
    ka = sa[-1]
    kb = sb[-2] if len(sb) > 1 else sb[0]
    if ka != kb:
        return f"matmul: {sa} @ {sb}: inner dimensions {ka} and {kb} differ"
    return f"matmul: {sa} @ {sb}: batch dimensions {sa[:-2]} and {sb[:-2]} do not broadcast"


MATMUL = defop("matmul", np.matmul, _matmul_grad_a, _matmul_grad_b, explain=_matmul_explain)


# ----- linear: x @ weight.T + bias as one primitive ---------------------------------------
# One node instead of three (transpose, matmul, add) per layer, and the weight gradient
# computed as g.T @ x in the weight's own (C) layout: a transposed view would make the
# optimizer's update walk the weight against its memory order.
@accepts_out
def _linear_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, out: np.ndarray | None = None) -> np.ndarray:
    out = np.matmul(x, w.T, out=out)
    if b is not None:
        out += b  # the same ufunc as out + b, without a second buffer
    return out


def _linear_grad_x(xp: Any, g: Any, ans: Any, x: Any, w: Any, b: Any) -> Any:
    return xp.matmul(g, w)


def _linear_grad_w(xp: Any, g: Any, ans: Any, x: Any, w: Any, b: Any) -> Any:
    if x.ndim == 1:
        return xp.expand_dims(g, -1) * x
    if x.ndim > 2:  # batch dimensions all contribute: fold them into one (sized: -1 fails on size 0)
        rows = math.prod(x.shape[:-1])
        g, x = xp.reshape(g, (rows, g.shape[-1])), xp.reshape(x, (rows, x.shape[-1]))
    return xp.matmul(g.T, x)  # g is 2-D here: .T is swapaxes(-1, -2) without NumPy's dispatch


def _linear_grad_b(xp: Any, g: Any, ans: Any, x: Any, w: Any, b: Any) -> Any:
    if g.ndim == 2:
        return xp.sum(g, axis=0)
    return xp.sum(g, axis=tuple(range(g.ndim - 1))) if g.ndim > 1 else g


LINEAR = defop("linear", _linear_forward, _linear_grad_x, _linear_grad_w, _linear_grad_b)


def linear(x: Any, weight: Any, bias: Any = None) -> Tensor:
    """``x @ weight.T + bias`` (weight of shape (out, in)) as one primitive, as layers use it.

    Falls back to the composite ``x @ weight.T + bias`` (same values) where the fused op does not
    apply: a weight that is not 2-D, a bias not of shape (out,) or of another dtype.

    >>> import flowgrad as fg
    >>> fg.linear(fg.ones(4, 3), fg.ones(2, 3), fg.zeros(2)).tolist()[0]
    [3.0, 3.0]
    """
    wd, xd, bd = _data(weight), _data(x), _data(bias)
    fused = (
        is_array(wd)
        and is_array(xd)
        and wd.ndim == 2
        and xd.ndim >= 1
        and xd.shape[-1] == wd.shape[1]
        and xd.dtype == wd.dtype
        and wd.dtype.kind == "f"
        and (bias is None or (is_array(bd) and bd.shape == wd.shape[:1] and bd.dtype == wd.dtype))
    )
    if fused:
        return apply(LINEAR, (x, weight, bias))
    from .shape import transpose

    out = matmul(x, transpose(weight))
    return out if bias is None else out + bias


def _parse_einsum(subscripts: str, n: int) -> tuple[list[str], str]:
    spec = subscripts.replace(" ", "")
    if "." in spec:
        raise ShapeError("einsum: '...' is not supported; write the axes out")
    if "->" in spec:
        ins, out = spec.split("->")
    else:
        ins = spec
        letters = ins.replace(",", "")
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    parts = ins.split(",")
    if len(parts) != n:
        raise ShapeError(f"einsum: {subscripts!r} names {len(parts)} operands but {n} were given")
    return parts, out


def _einsum_forward(*operands: np.ndarray, subscripts: str) -> np.ndarray:
    return np.einsum(subscripts, *operands, optimize=len(operands) > 2)


def _einsum_rule(xp: Any, g: Any, ans: Any, wanted: list, *ops: Any, subscripts: str) -> list:
    parts, out = _parse_einsum(subscripts, len(ops))
    grads: list = []
    for i, need in enumerate(wanted):
        if not need:
            grads.append(None)
            continue
        mine = parts[i]
        if len(set(mine)) != len(mine):
            raise NotImplementedError(f"einsum: no gradient for repeated axes in {mine!r}")
        others = [p for j, p in enumerate(parts) if j != i]
        available = set(out).union(*others) if others else set(out)
        kept = "".join(c for c in mine if c in available)
        spec = ",".join([out] + others) + "->" + kept
        gi = xp.einsum(spec, g, *[o for j, o in enumerate(ops) if j != i])
        if kept != mine:  # axes summed away in the forward pass come back by broadcasting
            sizes = dict(zip(mine, ops[i].shape))
            shape = tuple(sizes[c] if c in kept else 1 for c in mine)
            gi = xp.broadcast_to(xp.reshape(gi, shape), ops[i].shape)
        grads.append(gi)
    return grads


EINSUM = defop("einsum", _einsum_forward, vjp_all=_einsum_rule)


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with NumPy's rules (1-D operands, broadcast batch dimensions).

    >>> import flowgrad as fg
    >>> fg.matmul(fg.ones(2, 3), fg.ones(3)).shape
    (2,)
    """
    return apply(MATMUL, (a, b))


def dot(a: Any, b: Any) -> Tensor:
    """NumPy's dot: a product of scalars, vectors or matrices."""
    if np.ndim(_data(a)) == 0 or np.ndim(_data(b)) == 0:
        from .elementwise import multiply

        return multiply(a, b)
    if np.ndim(_data(b)) > 2:  # the last axis of a with the second-to-last of b
        from .compose import tensordot

        return tensordot(a, b, ([-1], [-2]))
    return matmul(a, b)


def outer(a: Any, b: Any) -> Tensor:
    """Outer product of two vectors (flattened first, as NumPy does)."""
    from .elementwise import multiply
    from .shape import reshape

    return multiply(reshape(a, (-1, 1)), reshape(b, (1, -1)))


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _from_sublists(args: tuple) -> tuple[str, tuple]:
    """NumPy's other form, einsum(op0, [0, 1], op1, [1, 2], [0, 2]), as a subscripts string."""
    pairs, out = (list(args[:-1]), args[-1]) if len(args) % 2 else (list(args), None)
    ops, subs = pairs[0::2], pairs[1::2]

    def word(sub: Any) -> str:
        return "".join("..." if s is Ellipsis else _LETTERS[int(s)] for s in sub)

    spec = ",".join(word(s) for s in subs) + ("" if out is None else "->" + word(out))
    return spec, tuple(ops)


def _expand_ellipsis(spec: str, operands: tuple) -> str:
    """Write '...' out with letters the subscripts do not use (NumPy's right-aligned broadcast)."""
    if "." not in spec:
        return spec
    ins, arrow, out = spec.partition("->")
    parts = ins.split(",")
    free = [c for c in _LETTERS if c not in spec]
    widths = [np.ndim(_data(op)) - len(p.replace("...", "")) for p, op in zip(parts, operands)]
    width = max([w for p, w in zip(parts, widths) if "..." in p] or [0])
    extra = "".join(free[:width])
    parts = [p.replace("...", extra[width - w :] if w else "") for p, w in zip(parts, widths)]
    if arrow:
        out = out.replace("...", extra)
    else:  # implicit output: the broadcast axes first, then the letters used once
        letters = "".join(parts).replace(",", "")
        out = extra + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in extra))
    return ",".join(parts) + "->" + out


def einsum(subscripts: Any, *operands: Any, **kwargs: Any) -> Tensor:
    """Einstein summation, differentiable in every operand; '...' and NumPy's sublist form too.

    >>> import flowgrad as fg
    >>> fg.einsum("ij,jk->ik", fg.ones(2, 3), fg.ones(3, 4)).shape
    (2, 4)
    >>> fg.einsum("...i,...i->...", fg.ones(2, 3), fg.ones(3)).shape
    (2,)
    """
    if not isinstance(subscripts, str):
        if not operands or not all(isinstance(s, (list, tuple)) for s in operands[0::2]):
            raise DTypeError(f"einsum: subscripts must be a string such as 'ij,jk->ik', got {given(subscripts)}")
        subscripts, operands = _from_sublists((subscripts, *operands))
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    spec = _expand_ellipsis(subscripts.replace(" ", ""), operands)
    _parse_einsum(spec, len(operands))
    return apply(EINSUM, operands, {"subscripts": spec})


def _data(x: Any) -> Any:
    return x._data if isinstance(x, Tensor) else x


# ----- public names (core/exports.py): flowgrad.numpy's, the Tensor method's, flowgrad's ------------
for _fn, _numpy, _method, _top in [
    (dot, "dot", "dot", "dot"),
    (matmul, "matmul", "", "matmul"),
    (outer, "outer", "outer", "outer"),
    (linear, "", "", "linear"),
    (einsum, "", "", "einsum"),
]:
    export(_numpy, _method, _top)(_fn)
