"""autograd.scipy.stats.chi2 -> flowgrad.scipy.stats.chi2."""

import flowgrad.scipy.stats.chi2 as _target
from autograd import _shim

_shim.forward_module(globals(), _target)
