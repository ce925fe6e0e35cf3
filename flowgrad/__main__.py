"""``python -m flowgrad`` runs the ``flowgrad`` command."""

from flowgrad.cli import entry_point

entry_point()
