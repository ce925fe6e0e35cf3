"""autograd.scipy.stats.dirichlet -> flowgrad.scipy.stats.dirichlet."""

import flowgrad.scipy.stats.dirichlet as _target
from autograd import _shim

_shim.forward_module(globals(), _target)
