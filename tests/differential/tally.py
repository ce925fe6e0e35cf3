"""Counts of the differential programs run in this session (printed by ``conftest.py`` at the end).

A module of its own, free of torch, so that the conftest hook can read it where torch is missing.
"""

from __future__ import annotations

TALLY = {"run": 0, "passed": 0, "failed": 0, "second": 0, "refereed": 0, "verify": False}
