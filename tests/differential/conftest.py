"""Print the differential programs' figure at the end of the session (``.ci/run`` shows it)."""

from __future__ import annotations

from .tally import TALLY

# Library modules, not tests (and no doctests): --doctest-modules would import them, and they
# import torch, which may be missing.
collect_ignore = [
    "programs.py", "pieces.py", "specs.py", "specs_reduce.py", "specs_shapes.py", "specs_nn.py", "specs_linalg.py", "specs_layers.py",
]  # fmt: skip


def pytest_sessionfinish(session, exitstatus):
    if not TALLY["run"]:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if TALLY["verify"]:
        line = f"differential: {TALLY['run']} programs, {TALLY['passed']} passed, {TALLY['failed']} failed"
    else:
        line = f"differential programs: {TALLY['run']} run, {TALLY['passed']} passed"
        if TALLY["failed"]:
            line += f", {TALLY['failed']} failed"
    # how many compared second derivatives, and how many float32 gaps the float64 referee settled
    line += f" (second derivatives in {TALLY['second']}; float32 refereed: {TALLY['refereed']})"
    if reporter is not None:
        reporter.write_line("")
        reporter.write_line(line)
    else:  # pragma: no cover - terminal reporting switched off
        print(line)
