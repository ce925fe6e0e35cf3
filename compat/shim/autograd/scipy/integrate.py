"""autograd.scipy.integrate -> flowgrad.scipy.integrate (what flowgrad has of it; the rest is missing)."""

import importlib

from autograd import _shim

try:
    _target = importlib.import_module("flowgrad.scipy.integrate")
except ImportError:
    _shim.missing_module(globals())
else:
    _shim.forward_module(globals(), _target)
