"""The ``onnx`` package, imported once, with a clear error when the extra is not installed."""

from __future__ import annotations

from typing import Any

try:
    import onnx
except ImportError:  # the optional extra [onnx]
    onnx: Any = None  # type: ignore[no-redef]


def require(what: str) -> Any:
    """The ``onnx`` module, or an ImportError saying how to install it."""
    if onnx is None:
        raise ImportError(f"{what} needs the onnx package: pip install 'flowgrad[onnx]'")
    return onnx
