"""autograd.misc.tracers -> flowgrad.misc.tracers (const_graph)."""

from flowgrad.misc.tracers import const_graph  # noqa: F401
