"""autograd.scipy -> flowgrad.scipy."""

from . import special, stats  # noqa: F401
