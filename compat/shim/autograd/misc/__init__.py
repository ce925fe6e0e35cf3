"""autograd.misc -> flowgrad.misc: `flatten` (the function, as in autograd, whose __init__ does
`from .flatten import flatten`) and const_graph (autograd.misc.tracers)."""

from autograd import _shim

from .flatten import flatten  # noqa: E402  (submodule loaded first, then the name rebound to the function)
from .tracers import const_graph  # noqa: E402, F401

__getattr__ = _shim.missing_names(globals())
