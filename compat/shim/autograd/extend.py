"""autograd.extend -> flowgrad.extend. Missing (autograd internals): Box, VSpace, vspace, JVPNode,
VJPNode, SparseObject, def_linear, defjvp_argnums, register_notrace."""

import flowgrad.extend as _fe
from autograd import _shim

_shim.forward_names(
    globals(),
    _fe,
    [
        "primitive",
        "notrace_primitive",
        "defvjp",
        "defvjp_argnum",
        "defvjp_argnums",
        "defjvp",
        "defjvp_argnum",
    ],
)
