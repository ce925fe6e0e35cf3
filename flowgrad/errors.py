"""The one small hierarchy of errors that flowgrad raises.

Every error derives from :class:`FlowgradError`; the ones about shapes and
dtypes also derive from the built-in ``ValueError`` / ``TypeError`` so code
that already catches those keeps working. A wrong argument is a ``DTypeError``
(a ``TypeError``) when its type is wrong and an ``ArgumentError`` (a
``ValueError``) when its value is; both name the function, what it takes and
what it was given.

>>> import flowgrad as fg
>>> try:
...     fg.ones(3, 4) @ fg.ones(5, 2)
... except fg.ShapeError as e:
...     print(str(e).splitlines()[0])
matmul: (3, 4) @ (5, 2): inner dimensions 4 and 5 differ
"""

from __future__ import annotations

import operator
import os
import sys
import types
from typing import Any

__all__ = [
    "FlowgradError",
    "ShapeError",
    "DTypeError",
    "ArgumentError",
    "InPlaceError",
    "DataError",
    "CheckpointError",
    "CheckpointWriteError",
    "AnomalyError",
    "DivergedError",
    "DLPackError",
    "user_location",
]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class FlowgradError(Exception):
    """Base class of every error flowgrad raises on purpose."""


class ShapeError(FlowgradError, ValueError):
    """Shapes that do not fit the operation (names the op and the shapes)."""


class DTypeError(FlowgradError, TypeError):
    """A dtype, or a type of argument, the operation cannot take (names the op and the types)."""


class ArgumentError(FlowgradError, ValueError):
    """An argument value the function cannot take: a negative learning rate, an unknown mode.

    >>> import flowgrad as fg
    >>> net = fg.nn.Linear(2, 1)
    >>> fg.optim.SGD(net.parameters(), lr=-0.1)
    Traceback (most recent call last):
    flowgrad.errors.ArgumentError: SGD: lr must be >= 0, got -0.1
    """


class InPlaceError(FlowgradError, TypeError):
    """Changing in place a tensor that requires grad, which would make its gradients wrong.

    A ``TypeError`` too, as HIPS autograd's traced arrays refuse item assignment with one.
    """


class NoDerivativeError(FlowgradError, NotImplementedError):
    """A derivative was needed from a primitive that has no rule for it (a
    ``NotImplementedError``, as HIPS autograd raises for a missing VJP or JVP)."""


class DataError(FlowgradError, ValueError):
    """A data file or data set that cannot be read as asked."""


class CheckpointError(FlowgradError, ValueError):
    """A checkpoint file that is missing, truncated, corrupted or unsafe."""


class CheckpointWriteError(CheckpointError, OSError):
    """A checkpoint that could not be written (disk full, no permission, no such folder...).

    Also an ``OSError``, as the failure is one; the previous file at the path is left intact.
    """


class DivergedError(FlowgradError, FloatingPointError):
    """Training produced a NaN or infinite loss (names the epoch and step)."""


class AnomalyError(FlowgradError, FloatingPointError):
    """Raised under ``fg.detect_anomaly()`` at the first NaN or inf."""


class DLPackError(FlowgradError, BufferError):
    """A tensor or array that cannot cross DLPack as asked: a dtype the other side has no match
    for, a tensor that requires grad, another device, a read-only tensor for an old consumer.

    Also a ``BufferError``, what the array API standard and PyTorch raise for the same refusals.
    """


def user_location() -> str:
    """Return ``file:line`` of the innermost frame outside the flowgrad package.

    Used only on error paths, so its cost does not matter.
    """
    frame: types.FrameType | None = sys._getframe(1)
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if not filename.startswith(_PACKAGE_DIR + os.sep):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return "<unknown>"


# ----- argument checks shared by the public functions -----------------------------------------
def given(value: Any) -> str:
    """A short description of a wrong argument for a message: ``'abc' (str)``."""
    text = " ".join(repr(value).split())  # one line, even for an array
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def check_int(value: Any, where: str, name: str, minimum: int | None = 0) -> int:
    """``value`` as an int, else a DTypeError; below ``minimum``, an ArgumentError.

    An integer is anything with ``__index__`` (int, np.int64, a one-element integer tensor),
    not a bool, a float or a string.

    >>> check_int(3, "Linear", "in_features")
    3
    >>> check_int(2.5, "Linear", "in_features")
    Traceback (most recent call last):
    flowgrad.errors.DTypeError: Linear: in_features must be an integer, got 2.5 (float)
    """
    if isinstance(value, bool) or not hasattr(type(value), "__index__"):
        raise DTypeError(f"{where}: {name} must be an integer, got {given(value)}")
    try:
        number = operator.index(value)
    except TypeError:  # e.g. a float tensor, whose __index__ refuses
        raise DTypeError(f"{where}: {name} must be an integer, got {given(value)}") from None
    if minimum is not None and number < minimum:
        raise ArgumentError(f"{where}: {name} must be >= {minimum}, got {number}")
    return number


def check_number(value: Any, where: str, name: str) -> float:
    """``value`` as a float (an int, a float, a NumPy or one-element tensor number), else a DTypeError.

    >>> check_number("0.1", "SGD", "lr")
    Traceback (most recent call last):
    flowgrad.errors.DTypeError: SGD: lr must be a number, got '0.1' (str)
    """
    if isinstance(value, (str, bytes, bool)) or value is None or not hasattr(type(value), "__float__"):
        raise DTypeError(f"{where}: {name} must be a number, got {given(value)}")
    try:
        return float(value)
    except (TypeError, ValueError):  # a complex number, a tensor of many elements
        raise DTypeError(f"{where}: {name} must be a number, got {given(value)}") from None


def check_axis(axis: Any, ndim: int, where: str, name: str = "dim") -> int:
    """``axis`` of a tensor with ``ndim`` dims, made non-negative; out of range, a ShapeError.

    (``axis % ndim`` alone would silently take dim 5 of a matrix as dim 1.)

    >>> check_axis(-1, 2, "sum")
    1
    >>> check_axis(5, 2, "sum")
    Traceback (most recent call last):
    flowgrad.errors.ShapeError: sum: dim 5 is out of range for a tensor with 2 dims
    """
    number = check_int(axis, where, name, minimum=None)
    if not -max(ndim, 1) <= number < max(ndim, 1):  # a 0-d tensor takes dim 0 and -1, as in PyTorch
        raise ShapeError(f"{where}: {name} {number} is out of range for a tensor with {ndim} dims")
    return number % max(ndim, 1)
