"""The one small hierarchy of errors that flowgrad raises.

Every error derives from :class:`FlowgradError`; the ones about shapes and
dtypes also derive from the built-in ``ValueError`` / ``TypeError`` so code
that already catches those keeps working.

>>> import flowgrad as fg
>>> try:
...     fg.ones(3, 4) @ fg.ones(5, 2)
... except fg.ShapeError as e:
...     print(str(e).splitlines()[0])
matmul: (3, 4) @ (5, 2): inner dimensions 4 and 5 differ
"""

from __future__ import annotations

import os
import sys

__all__ = [
    "FlowgradError",
    "ShapeError",
    "DTypeError",
    "DataError",
    "CheckpointError",
    "AnomalyError",
    "DivergedError",
    "user_location",
]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class FlowgradError(Exception):
    """Base class of every error flowgrad raises on purpose."""


class ShapeError(FlowgradError, ValueError):
    """Shapes that do not fit the operation (names the op and the shapes)."""


class DTypeError(FlowgradError, TypeError):
    """A dtype the operation cannot take (names the op and the dtypes)."""


class DataError(FlowgradError, ValueError):
    """A data file or data set that cannot be read as asked."""


class CheckpointError(FlowgradError, ValueError):
    """A checkpoint file that is missing, truncated, corrupted or unsafe."""


class DivergedError(FlowgradError, FloatingPointError):
    """Training produced a NaN or infinite loss (names the epoch and step)."""


class AnomalyError(FlowgradError, FloatingPointError):
    """Raised under ``fg.detect_anomaly()`` at the first NaN or inf."""


def user_location() -> str:
    """Return ``file:line`` of the innermost frame outside the flowgrad package.

    Used only on error paths, so its cost does not matter.
    """
    frame = sys._getframe(1)
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if not filename.startswith(_PACKAGE_DIR + os.sep):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return "<unknown>"
