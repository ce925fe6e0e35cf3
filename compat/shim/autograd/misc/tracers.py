"""autograd.misc.tracers -> flowgrad.misc.tracers (const_graph; full_graph draws autograd's own
graph nodes: missing)."""

import flowgrad.misc.tracers as _tr
from autograd import _shim

_shim.forward_names(globals(), _tr, ["const_graph"])
