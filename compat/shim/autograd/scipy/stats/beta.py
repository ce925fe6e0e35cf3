"""autograd.scipy.stats.beta -> flowgrad.scipy.stats.beta."""

import flowgrad.scipy.stats.beta as _target
from autograd import _shim

_shim.forward_module(globals(), _target)
