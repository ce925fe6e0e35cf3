"""autograd.tracer: `isbox` -> flowgrad.is_tensor (a traced value is a Tensor); `primitive` ->
flowgrad.extend.primitive. Box, Node, trace, new_box (autograd's tracing machinery): missing."""

import flowgrad as _fg
import flowgrad.extend as _fe
from autograd import _shim

isbox = _fg.is_tensor
primitive = _fe.primitive
__getattr__ = _shim.missing_names(globals())
