"""autograd.misc.flatten -> flowgrad.misc.flatten (flatten, flatten_func)."""

import importlib

_ff = importlib.import_module(
    "flowgrad.misc.flatten"
)  # the module (flowgrad.misc.flatten the attribute is the function)

from autograd import _shim

_shim.forward_names(globals(), _ff, ["flatten", "flatten_func"])
