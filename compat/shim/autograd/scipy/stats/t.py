"""autograd.scipy.stats.t -> flowgrad.scipy.stats.t."""

import flowgrad.scipy.stats.t as _target
from autograd import _shim

_shim.forward_module(globals(), _target)
