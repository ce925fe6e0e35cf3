"""All primitives, registered on import. See ``flowgrad.core.ops`` for the registry."""

from . import compose, conv, elementwise, elementwise_more, linalg, nplinalg, random, reduce, shape

__all__ = ["compose", "conv", "elementwise", "elementwise_more", "linalg", "nplinalg", "random", "reduce", "shape"]
