"""autograd.differential_operators -> the same transforms from flowgrad (see autograd/__init__.py)."""

import flowgrad as _fg
from autograd import _shim

_shim.forward_names(
    globals(),
    _fg,
    [
        "grad",
        "value_and_grad",
        "elementwise_grad",
        "jacobian",
        "hessian",
        "checkpoint",
        "deriv",
        "grad_and_aux",
        "grad_named",
        "hessian_tensor_product",
        "hessian_vector_product",
        "holomorphic_grad",
        "make_ggnvp",
        "make_hvp",
        "make_jvp",
        "make_vjp",
        "multigrad_dict",
        "tensor_jacobian_product",
        "vector_jacobian_product",
    ],
)
