"""autograd -> flowgrad rename shim. Only names flowgrad has are mapped."""

from autograd import _shim

# flowgrad's autograd-style transforms (flowgrad/core/transforms.py), same names and conventions:
from flowgrad import (  # same call conventions
    checkpoint,
    deriv,
    elementwise_grad,
    grad,
    grad_and_aux,
    grad_named,
    hessian,
    hessian_tensor_product,
    hessian_vector_product,
    holomorphic_grad,
    jacobian,
    make_ggnvp,
    make_hvp,
    make_jvp,
    make_vjp,
    multigrad_dict,
    tensor_jacobian_product,
    value_and_grad,
    vector_jacobian_product,
)
from flowgrad.builtins import dict, isinstance, list, tuple, type  # noqa: A004
from flowgrad.extend import primitive  # autograd's top-level `primitive` (deprecated alias of extend.primitive)

__getattr__ = _shim.missing_names(globals())
