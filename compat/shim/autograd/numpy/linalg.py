"""autograd.numpy.linalg -> flowgrad.numpy.linalg ."""

import flowgrad.numpy as _fnp
from autograd import _shim

_shim.forward_module(globals(), _fnp.linalg)
