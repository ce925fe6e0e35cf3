"""autograd.misc.optimizers -> flowgrad.misc.optimizers (sgd, rmsprop, adam). unflatten_optimizer: missing."""

import flowgrad.misc.optimizers as _fo
from autograd import _shim

_shim.forward_names(globals(), _fo, ["sgd", "rmsprop", "adam"])
