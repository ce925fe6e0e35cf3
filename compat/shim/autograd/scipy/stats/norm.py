"""autograd.scipy.stats.norm -> flowgrad.scipy.stats.norm."""

import flowgrad.scipy.stats.norm as _target
from autograd import _shim

_shim.forward_module(globals(), _target)
