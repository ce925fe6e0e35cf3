"""``convolve`` as HIPS autograd's ``scipy.signal.convolve``: N-dimensional convolution along
chosen axes of two arrays, with dot products along others (a batch of images against a bank of
filters, say), differentiable in both arrays to any order.

Each convolved axis pair is a product with a constant 0/1 tensor ``T[k, j, n] = (n == k + j)``
(the full convolution ``out[n] = sum_k a[k] b[n - k]``), and the whole is one ``einsum``, so the
gradients are einsum's: exact, and the same code serves every mode. ``valid`` and ``same`` take
the middle of the full result, as SciPy does.

>>> import flowgrad as fg, flowgrad.numpy as np
>>> from flowgrad.scipy.signal import convolve
>>> convolve(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))
array([0. , 1. , 2.5, 4. , 1.5])
>>> fg.grad(lambda a: np.sum(convolve(a, np.array([1.0, -1.0]), mode="valid") ** 2))(np.array([1.0, 3.0, 2.0]))
array([-4.,  6., -2.])
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any

import numpy as onp

from .. import numpy as np

__all__ = ["convolve"]


def _shape(x: Any) -> tuple:
    return onp.shape(getattr(x, "_data", x))


def _out_range(la: int, lb: int, mode: str) -> tuple[int, int]:
    """The slice of the full convolution (length la + lb - 1) that ``mode`` keeps."""
    if mode == "full":
        return 0, la + lb - 1
    if mode == "valid":
        return min(la, lb) - 1, max(la, lb)
    start = (lb - 1) // 2  # "same": as long as the first array, centred as SciPy centres it
    return start, start + la


def convolve(
    a: Any,
    b: Any,
    axes: Sequence[Sequence[int]] | None = None,
    dot_axes: Sequence[Sequence[int]] = ((), ()),
    mode: str = "full",
) -> Any:
    """Convolve ``a`` with ``b`` along ``axes = (axes of a, axes of b)`` (all of a's, by default),
    summing products along ``dot_axes``; the result's axes are a's other axes, then b's other
    axes, then the convolved ones. ``mode`` is ``"full"``, ``"valid"`` or ``"same"`` (SciPy's)."""
    if mode not in ("full", "valid", "same"):
        raise ValueError(f"convolve: mode must be 'full', 'valid' or 'same', got {mode!r}")
    sa, sb = _shape(a), _shape(b)
    conv_a, conv_b = (list(range(len(sa))), list(range(len(sa)))) if axes is None else map(list, axes)
    dot_a, dot_b = map(list, dot_axes)
    if len(conv_a) != len(conv_b) or len(dot_a) != len(dot_b):
        raise ValueError(f"convolve: axes {axes} and dot_axes {dot_axes} must pair up a's axes with b's")
    for ia, ib in zip(dot_a, dot_b):
        if sa[ia] != sb[ib]:
            raise ValueError(f"convolve: dot axes {ia} of a and {ib} of b differ in length: {sa[ia]} vs {sb[ib]}")
    if mode == "valid" and not (
        all(sa[i] >= sb[j] for i, j in zip(conv_a, conv_b)) or all(sa[i] <= sb[j] for i, j in zip(conv_a, conv_b))
    ):
        raise ValueError("convolve: in 'valid' mode one array must be at least as long as the other on every axis")
    letters = iter(string.ascii_letters)
    sub_a, sub_b = [next(letters) for _ in sa], [next(letters) for _ in sb]
    for ia, ib in zip(dot_a, dot_b):
        sub_b[ib] = sub_a[ia]
    # One conv axis at a time, a pairwise einsum each (a single many-operand einsum would loop over
    # every index at once): a's axis k becomes b's axis j and the output axis n.
    current, current_sub, out_conv = a, "".join(sub_a), []
    for ia, ib in zip(conv_a, conv_b):
        la, lb = sa[ia], sb[ib]
        start, stop = _out_range(la, lb, mode)
        place = onp.zeros((la, lb, stop - start))
        k, j = onp.meshgrid(onp.arange(la), onp.arange(lb), indexing="ij")
        keep = (k + j >= start) & (k + j < stop)
        place[k[keep], j[keep], (k + j)[keep] - start] = 1.0
        n = next(letters)
        after = current_sub.replace(sub_a[ia], sub_b[ib] + n)
        current = np.einsum(f"{current_sub},{sub_a[ia]}{sub_b[ib]}{n}->{after}", current, place)
        current_sub = after
        out_conv.append(n)
    ignored_a = [sub_a[i] for i in range(len(sa)) if i not in conv_a and i not in dot_a]
    ignored_b = [sub_b[i] for i in range(len(sb)) if i not in conv_b and i not in dot_b]
    spec = f"{current_sub},{''.join(sub_b)}->{''.join(ignored_a + ignored_b + out_conv)}"
    return np.einsum(spec, current, b)
