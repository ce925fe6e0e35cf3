"""autograd.numpy.random -> flowgrad.numpy.random ."""

import flowgrad.numpy as _fnp
from autograd import _shim

_shim.forward_module(globals(), _fnp.random)
