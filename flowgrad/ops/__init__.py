"""All primitives, registered on import. See ``flowgrad.core.ops`` for the registry."""

import importlib

from ..core import fusion as _fusion
from ..core import ops as _core_ops
from . import (
    complexops,
    compose,
    compose_more,
    conv,
    conv_gemm,
    elementwise,
    elementwise_more,
    fft,
    fused,
    linalg,
    nplinalg,
    reduce,
    shape,
    torch_index,
    torch_more,
)

__all__ = [
    "complexops",
    "compose",
    "compose_more",
    "conv",
    "conv_gemm",
    "elementwise",
    "elementwise_more",
    "fft",
    "fused",
    "linalg",
    "nplinalg",
    "reduce",
    "shape",
    "torch_index",
    "torch_more",
]


# Ops whose rules are the real formula unchanged for complex values (holomorphic, or linear
# with real coefficients), each checked on complex inputs in tests/test_complex_grad.py.
_core_ops.allow_complex(
    "add", "sub", "mul", "div", "neg", "exp", "log", "sin", "cos", "tanh", "square", "sqrt",
    "reciprocal", "sum", "mean", "getitem", "index_scatter", "reshape", "transpose", "copy",
    "broadcast_to", "sum_to", "squeeze", "expand_dims", "concatenate", "stack", "matmul",
    "einsum", "pad", "flip", "astype", "where", "tan", "sinh", "cosh", "log2", "log10", "log1p",
    "expm1", "exp2", "arcsinh", "arcsin", "arccos", "arctan", "arctanh", "cumsum",
    "pow", "prod",
)  # fmt: skip
# Not arccosh: its rule 1 / sqrt(z^2 - 1) is the derivative of NumPy's principal arccosh only
# where Re z > 0 (elsewhere it is 1 / (sqrt(z - 1) sqrt(z + 1)), of the other sign).

# fg.compile's written-out steps for these ops, loaded on the first compile (import time).
_fusion.declare_emitter_loader(lambda: importlib.import_module("flowgrad.ops.emitters"))
