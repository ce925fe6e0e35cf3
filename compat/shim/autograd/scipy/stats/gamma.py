"""autograd.scipy.stats.gamma -> flowgrad.scipy.stats.gamma."""

import flowgrad.scipy.stats.gamma as _target
from autograd import _shim

_shim.forward_module(globals(), _target)
