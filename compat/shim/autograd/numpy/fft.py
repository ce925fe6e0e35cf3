"""autograd.numpy.fft -> flowgrad.numpy.fft ."""

import flowgrad.numpy as _fnp
from autograd import _shim

_shim.forward_module(globals(), _fnp.fft)
