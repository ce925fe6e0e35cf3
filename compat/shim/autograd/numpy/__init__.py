"""autograd.numpy -> flowgrad.numpy (which itself forwards unknown names to NumPy)."""

import flowgrad.numpy as _fnp
from autograd import _shim

_SKIP = {"annotations", "builtins", "Callable", "Any"}  # flowgrad.numpy's own imports
for _k, _v in list(vars(_fnp).items()):
    if not _k.startswith("_") and _k not in _SKIP:
        globals()[_k] = _v

from . import fft, linalg, random  # noqa: E402


def __getattr__(name):
    return getattr(_fnp, name)
