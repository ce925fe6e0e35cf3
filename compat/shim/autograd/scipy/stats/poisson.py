"""autograd.scipy.stats.poisson -> flowgrad.scipy.stats.poisson."""

import flowgrad.scipy.stats.poisson as _target
from autograd import _shim

_shim.forward_module(globals(), _target)
