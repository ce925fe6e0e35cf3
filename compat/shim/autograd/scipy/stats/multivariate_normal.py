"""autograd.scipy.stats.multivariate_normal -> flowgrad.scipy.stats.multivariate_normal."""

import flowgrad.scipy.stats.multivariate_normal as _target
from autograd import _shim

_shim.forward_module(globals(), _target)
