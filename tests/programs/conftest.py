"""The programs are run by test_programs.py in subprocesses, never imported by collection
(--doctest-modules would import them, running each with whatever ``torch`` is installed)."""

from pathlib import Path

collect_ignore = [p.name for p in Path(__file__).parent.glob("*.py") if p.stem not in ("test_programs", "conftest")]
