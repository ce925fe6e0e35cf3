"""All primitives, registered on import. See ``flowgrad.core.ops`` for the registry."""

from . import conv, elementwise, linalg, nplinalg, random, reduce, shape

__all__ = ["conv", "elementwise", "linalg", "nplinalg", "random", "reduce", "shape"]
