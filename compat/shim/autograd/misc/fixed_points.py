"""autograd.misc.fixed_points -> flowgrad.misc.fixed_points (fixed_point)."""

import flowgrad.misc.fixed_points as _fx
from autograd import _shim

_shim.forward_names(globals(), _fx, ["fixed_point"])
