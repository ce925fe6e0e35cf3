"""autograd.scipy.linalg -> flowgrad.scipy.linalg (what flowgrad has of it; the rest is missing)."""

import importlib

from autograd import _shim

try:
    _target = importlib.import_module("flowgrad.scipy.linalg")
except ImportError:
    _shim.missing_module(globals())
else:
    _shim.forward_module(globals(), _target)
