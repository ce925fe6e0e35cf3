"""The core: the op registry, tensors, the backward engine and functional gradients."""

from . import ops  # noqa: F401  (first: tensor.py and ops.py import each other)
from .tensor import Tensor  # noqa: F401
