"""autograd.builtins -> flowgrad.builtins (tuple, list, dict, isinstance, type)."""

import flowgrad.builtins as _fb
from autograd import _shim

_shim.forward_names(globals(), _fb, ["tuple", "list", "dict", "isinstance", "type"])
