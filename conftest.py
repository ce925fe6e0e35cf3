"""Shared pytest set-up: skip doctests of modules whose optional dependency is missing."""

import importlib.util

collect_ignore = []
if importlib.util.find_spec("matplotlib") is None:
    collect_ignore.append("flowgrad/plot.py")
