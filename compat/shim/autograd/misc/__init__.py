"""autograd.misc -> flowgrad.misc: `flatten` (the function, as in autograd, whose __init__ does
`from .flatten import flatten`). const_graph (autograd.misc.tracers): missing."""

from autograd import _shim

from .flatten import flatten  # noqa: E402  (submodule loaded first, then the name rebound to the function)

__getattr__ = _shim.missing_names(globals())
