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

NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


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
        "inside passing tests were not run (flowgrad differentiates real numbers only)"
    )
    return problems


def numbers(text: str) -> list[float]:
    return [float(n) for n in NUMBER.findall(text)]


def run_example(run: Path, name: str, pythonpath: list[Path], timeout: float) -> tuple[int, str, float]:
    path = run / "examples" / name
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, path.name],
            cwd=path.parent,
            env=environment(pythonpath + [run / "examples"], AUTOGRAD_SHIM_IMPORTS="strict"),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return proc.returncode, proc.stdout + proc.stderr, time.perf_counter() - start
    except subprocess.TimeoutExpired:
        return 124, "timed out", time.perf_counter() - start


def run_examples(run: Path, source: Path) -> list[str]:
    problems: list[str] = []
    for name, (kind, note) in expected.EXAMPLES.items():
        if kind == "skip":
            print(f"  {name:38s} not run: {note}")
            continue
        rc, out, secs = run_example(run, name, [HERE / "shim", REPO], expected.EXAMPLE_TIMEOUT)
        if rc != 0:
            tail = out.strip().splitlines()[-1:] or ["?"]
            problems.append(f"example {name} failed (exit {rc}): {tail[0][:200]}")
            print(f"  {name:38s} FAILED ({secs:.0f} s)")
            continue
        if kind != "numbers":
            print(f"  {name:38s} runs ({secs:.0f} s); output not compared: {note}")
            continue
        ref_rc, ref_out, _ = run_example(run, name, [source], expected.EXAMPLE_TIMEOUT)
        ours, theirs = numbers(out), numbers(ref_out)
        if ref_rc != 0 or len(ours) != len(theirs):
            problems.append(f"example {name}: {len(ours)} numbers printed, autograd printed {len(theirs)}")
            continue
        worst = max((abs(a - b) / max(abs(b), 1e-12) for a, b in zip(ours, theirs)), default=0.0)
        verdict = "same numbers" if worst == 0 else f"numbers agree to {worst:.1e} relative"
        if worst > expected.EXAMPLE_RTOL:
            problems.append(f"example {name}: printed numbers differ from autograd's by {worst:.1e} relative")
            verdict = f"DIFFERENT numbers ({worst:.1e} relative)"
        print(f"  {name:38s} {len(ours)} numbers, {verdict} ({secs:.0f} s)")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", action="store_true", help="run autograd's test files only")
    parser.add_argument("--examples", action="store_true", help="run autograd's examples only")
    args = parser.parse_args()
    both = not (args.tests or args.examples)
    source = fetch_sdist(expected.VERSION)
    run = scratch_copy(source)
    print(f"autograd {expected.VERSION}'s tests and examples against flowgrad (scratch folder {run})")
    problems = []
    if args.tests or both:
        problems += run_tests(run)
    if args.examples or both:
        problems += run_examples(run, source)
    for problem in problems:
        print("PROBLEM:", problem)
    print("compat: autograd " + ("OK" if not problems else f"{len(problems)} problem(s)"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
