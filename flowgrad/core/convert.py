"""Python numbers to arrays as PyTorch converts them, and the message for a gradient NumPy
would drop (helpers of ``core/tensor.py``, kept apart so that file reads on one screen)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes
from ..errors import DTypeError, ShapeError


def from_python(data: Any, want: np.dtype | None) -> np.ndarray:
    """Python numbers (nested lists of them) as an array in their natural dtype, then PyTorch's."""
    try:
        arr = np.array(data)
    except (ValueError, OverflowError) as exc:
        raise ShapeError(f"tensor: cannot make an array from {type(data).__name__}: {exc}") from None
    if arr.dtype == np.uint64:  # only Python ints above int64's range land here
        raise DTypeError(
            f"tensor: integers must fit in int64 (|x| < 2**63), got {type(data).__name__} with larger ones"
        )
    if want is None:
        if arr.dtype == np.float64:
            return arr.astype(dtypes.get_default_dtype(), copy=False)
        if arr.dtype.kind in "iu" and arr.dtype != np.int64:
            return arr.astype(np.int64)
    elif want.kind == "f" and arr.dtype.kind in "iu":
        return arr.astype(np.float64)  # PyTorch reads a Python int as a double for a float dtype
    elif want.kind in "iu" and arr.dtype.kind in "iuf" and arr.size:
        check_fits(arr, want)
        if arr.dtype.kind == "f":  # ints beside floats: each number to the int directly, as PyTorch
            return np.array(data, dtype=want)
    return arr


def check_fits(arr: np.ndarray, want: np.dtype) -> None:
    """Refuse numbers an integer dtype cannot hold: NumPy's cast would wrap them silently."""
    info = np.iinfo(want)
    if arr.dtype.kind == "f":  # compared as floats: float(2**63 - 1) rounds up to 2**63
        lo, hi = np.trunc(arr.min()), np.trunc(arr.max())
        fits = bool(np.isfinite(lo) and np.isfinite(hi) and info.min <= lo and hi < float(info.max) + 1)
    else:
        lo, hi = arr.min(), arr.max()
        fits = bool(info.min <= lo and hi <= info.max)
    if not fits:
        bad = lo if not (np.isfinite(lo) and lo >= info.min) else hi
        raise DTypeError(
            f"tensor: {bad} cannot be converted to {want} without overflow (its range: {info.min} to {info.max})"
        )


def lost_gradient_message() -> str:
    """Name the NumPy function (and the user's line) that asked for a tensor's raw array."""
    import os
    import sys

    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    numpy_dir = os.path.dirname(os.path.abspath(np.__file__))
    frame: Any = sys._getframe(2)
    what, where = "a NumPy conversion (np.asarray, np.array or a NumPy function)", "<unknown>"
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if filename.startswith(numpy_dir + os.sep) and what.startswith("a NumPy"):
            parts = [p for p in frame.f_globals.get("__name__", "numpy").split(".") if not p.startswith("_")]
            what = ".".join(["np", *parts[1:], frame.f_code.co_name])
        elif not filename.startswith((here + os.sep, numpy_dir + os.sep)):
            where = f"{frame.f_code.co_filename}:{frame.f_lineno}"
            break
        frame = frame.f_back
    return (
        f"{what} (at {where}) was given a tensor that requires grad and would compute on its raw "
        "array, dropping the gradient. Use flowgrad's version (import flowgrad.numpy as np: "
        "np.linalg, np.fft, ...), or call .detach() first if the gradient is not wanted"
    )
