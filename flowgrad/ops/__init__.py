"""All primitives, registered on import. See ``flowgrad.core.ops`` for the registry."""

from . import (
    compose,
    compose_more,
    conv,
    conv_gemm,
    elementwise,
    elementwise_more,
    fused,
    linalg,
    nplinalg,
    random,
    reduce,
    shape,
    torch_index,
    torch_more,
)

__all__ = [
    "compose",
    "compose_more",
    "conv",
    "conv_gemm",
    "elementwise",
    "elementwise_more",
    "fused",
    "linalg",
    "nplinalg",
    "random",
    "reduce",
    "shape",
    "torch_index",
    "torch_more",
]
