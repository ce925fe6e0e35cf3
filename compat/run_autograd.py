"""Run HIPS autograd's own tests and examples against flowgrad, `import autograd` mapped by
compat/shim (renames only), and compare the examples' printed numbers with real autograd's.

    python compat/run_autograd.py            # everything (about 10 minutes)
    python compat/run_autograd.py --tests    # the test files only
    python compat/run_autograd.py --examples # the examples only

autograd's source distribution comes from the package registry (pip download, cached under
~/.cache/flowgrad-compat) and is unpacked in a scratch folder outside the repository; nothing of
it is copied into flowgrad. Expected exclusions, each with its reason, are in
compat/autograd_expected.py. Exit status 1 when a test that should pass fails, an example that
should run fails, or an example prints numbers that differ from autograd's.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import autograd_expected as expected  # noqa: E402

# A number not inside a name (the 64 of "np.float64(...)" is not one)
NUMBER = re.compile(r"(?<![A-Za-z_\d.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def fetch_sdist(version: str) -> Path:
    """autograd's sdist from the registry (cached); returns the unpacked source folder."""
    cache = Path(os.environ.get("FLOWGRAD_COMPAT_CACHE", Path.home() / ".cache" / "flowgrad-compat"))
    cache.mkdir(parents=True, exist_ok=True)
    archive = cache / f"autograd-{version}.tar.gz"
    if not archive.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", f"autograd=={version}"]
            + ["--no-deps", "--no-binary", ":all:", "-d", str(cache)],
            check=True,
        )
    work = Path(tempfile.gettempdir()) / f"flowgrad-compat-autograd-{version}"
    source = work / f"autograd-{version}"
    if not source.exists():
        work.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive) as tar:
            tar.extractall(work, filter="data")
    return source


def scratch_copy(source: Path) -> Path:
    """tests/ and examples/ alone in a fresh folder, so autograd's own package cannot shadow the
    shim."""
    run = source.parent / "run"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir()
    for part in ("tests", "examples"):
        shutil.copytree(source / part, run / part)
    (run / "pytest.ini").write_text("[pytest]\n")
    return run


def environment(pythonpath: list[Path], **extra: str) -> dict[str, str]:
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0", **extra)
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in pythonpath)
    return env


def run_tests(run: Path) -> list[str]:
    """Each test file in a fresh interpreter; returns the problems found."""
    problems: list[str] = []
    complex_log = run / "complex-skipped.tsv"
    complex_log.unlink(missing_ok=True)
    env = environment(
        [HERE / "shim", REPO], AUTOGRAD_SHIM_IMPORTS="lenient", AUTOGRAD_SHIM_COMPLEX_LOG=str(complex_log)
    )
    totals = {"passed": 0, "excluded": 0}
    for name in expected.TEST_FILES:
        xml = run / f"{name}.xml"
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-c", "pytest.ini"]
            + ["--rootdir=.", "-o", "junit_family=xunit1", f"--junitxml={xml}", f"tests/{name}"],
            cwd=run,
            env=env,
            capture_output=True,
        )
        passed, excluded = 0, 0
        for case in ET.parse(xml).iter("testcase"):
            test_id = f"{name}::{case.get('name')}"
            failure = case.find("failure") if case.find("failure") is not None else case.find("error")
            reason = expected.EXCLUDED_TESTS.get(test_id)
            if failure is None and case.find("skipped") is None:
                passed += 1
                if reason:
                    problems.append(f"{test_id} passes now: remove its exclusion ({reason})")
            elif reason:
                excluded += 1
            elif failure is not None:
                first = (failure.get("message") or "").splitlines()[:1]
                problems.append(f"{test_id} FAILED: {first[0][:200] if first else '?'}")
        totals["passed"] += passed
        totals["excluded"] += excluded
        print(f"  {name:24s} {passed:4d} passed  {excluded:3d} excluded (see compat/autograd_expected.py)")
    lines = complex_log.read_text().splitlines() if complex_log.exists() else []
    print(
        f"  tests: {totals['passed']} passed, {totals['excluded']} excluded; {len(lines)} complex-valued checks "
        "inside passing tests were refused by flowgrad with a clear error (ops with no complex rule)"
    )
    return problems


def numbers(text: str) -> list[float]:
    return [float(n) for n in NUMBER.findall(text)]


def start_example(
    run: Path, name: str, pythonpath: list[Path], kernels: dict[str, str] | None = None
) -> subprocess.Popen:
    path = run / "examples" / name
    seeded = [HERE / "seeded"]  # sitecustomize: the same global NumPy seed in every run
    env = environment(
        seeded + pythonpath + [run / "examples"],
        AUTOGRAD_SHIM_IMPORTS="strict",
        PYTHONUNBUFFERED="1",
        **(kernels or {}),
    )
    return subprocess.Popen(
        [sys.executable, path.name],
        cwd=path.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # killed as a group when its time is up
    )


def finish(proc: subprocess.Popen, deadline: float) -> tuple[str, str]:
    """("finished" | "failed" | "stopped", output) for a process given until ``deadline``."""
    try:
        out, _ = proc.communicate(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        out, _ = proc.communicate()
        return "stopped", out
    return ("finished" if proc.returncode == 0 else "failed"), out


def compare(mine: list[float], refs: list[float], referee: list[float]) -> tuple[int, float, float]:
    """(numbers compared, worst gap to autograd, worst gap beyond what the referee allows).

    Gaps are |a - b| / (|b| + atol / rtol): relative, and absolute near zero (a gradient at a
    stationary point is rounding in both). An optimiser amplifies rounding (Adam turns the sign of
    a near-zero gradient into a full step), so long runs drift apart even between two correct
    implementations. The referee is autograd itself on other SIMD kernels (tests/cpu_kernels.py):
    its drift from autograd, the largest up to each number, times EXAMPLE_DRIFT_FACTOR, is
    allowed on top of EXAMPLE_RTOL. A wrong gradient differs from the first steps, long before
    rounding has grown."""
    floor = expected.EXAMPLE_ATOL / expected.EXAMPLE_RTOL
    n = min(len(mine), len(refs), len(referee)) if referee else min(len(mine), len(refs))
    worst = excess = drift = 0.0
    for i in range(n):
        gap = abs(mine[i] - refs[i]) / (abs(refs[i]) + floor)
        if referee:
            drift = max(drift, abs(referee[i] - refs[i]) / (abs(refs[i]) + floor))
        worst = max(worst, gap)
        excess = max(excess, gap - expected.EXAMPLE_RTOL - expected.EXAMPLE_DRIFT_FACTOR * drift)
    return n, worst, excess


def run_examples(run: Path, source: Path, only: list[str] | None = None) -> list[str]:
    """Each example under flowgrad, under autograd and under autograd on other SIMD kernels (the
    referee of rounding drift), at once, for at most EXAMPLE_SECONDS; the numbers all three
    printed by then are compared."""
    sys.path.insert(0, str(REPO))
    from tests.cpu_kernels import alternative_environment

    problems: list[str] = []
    for name, (kind, note) in expected.EXAMPLES.items():
        if only and name not in only:
            continue
        if kind == "skip":
            print(f"  {name:34s} not run: {note}")
            continue
        procs = [
            start_example(run, name, [HERE / "shim", REPO]),
            start_example(run, name, [source]),
            start_example(run, name, [source], alternative_environment()),
        ]
        deadline = time.monotonic() + expected.EXAMPLE_SECONDS
        (ours, out), (theirs, ref_out), (_, referee_out) = (finish(p, deadline) for p in procs)
        if ours == "failed":
            tail = out.strip().splitlines()[-1:] or ["?"]
            if theirs == "failed":
                print(f"  {name:34s} fails under autograd too: {tail[0][:100]}")
            else:
                problems.append(f"example {name} failed: {tail[0][:200]}")
                print(f"  {name:34s} FAILED: {tail[0][:100]}")
            continue
        n, worst, excess = compare(numbers(out), numbers(ref_out), numbers(referee_out))
        span = "ran to the end" if ours == "finished" else f"stopped after {expected.EXAMPLE_SECONDS:.0f} s"
        verdict = f"{n} numbers compared: " + ("identical" if worst == 0 else f"agree to {worst:.1e} relative")
        if excess > 0:
            problems.append(f"example {name}: printed numbers differ from autograd's beyond rounding drift")
            verdict = f"{n} numbers compared: DIFFERENT ({worst:.1e} relative, beyond autograd's own drift)"
        elif worst > expected.EXAMPLE_RTOL:
            verdict += " (within autograd's own drift on other kernels)"
        if n == 0:
            verdict = "printed no numbers by then: nothing compared"
        print(f"  {name:34s} {span}; {verdict}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", action="store_true", help="run autograd's test files only")
    parser.add_argument("--examples", action="store_true", help="run autograd's examples only")
    parser.add_argument("--example", action="append", metavar="NAME", help="run this example only (repeatable)")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]  # progress shows as it comes
    args.examples = args.examples or bool(args.example)
    both = not (args.tests or args.examples)
    source = fetch_sdist(expected.VERSION)
    run = scratch_copy(source)
    print(f"autograd {expected.VERSION}'s tests and examples against flowgrad (scratch folder {run})")
    problems = []
    if args.tests or both:
        problems += run_tests(run)
    if args.examples or both:
        problems += run_examples(run, source, args.example)
    for problem in problems:
        print("PROBLEM:", problem)
    print("compat: autograd " + ("OK" if not problems else f"{len(problems)} problem(s)"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
