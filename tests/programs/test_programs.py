"""Programs in the style of the PyTorch tutorials, written here, run unchanged twice: with
``import torch`` served by flowgrad (run_program.py's import mapping, nothing else) and with
PyTorch itself; every number they print must agree.

The tolerance is per program, with its reason: float64 programs agree to rounding; float32
programs run many steps whose rounding (flowgrad sums and multiplies with NumPy's kernels,
PyTorch with its own) compounds, so they are compared more loosely.
"""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parent.parent

# program -> relative tolerance, and why
PROGRAMS = {
    "tensors_warmup": 1e-6,  # float32 sums and a std of a dozen numbers: a few ulps apart at most
    "polynomial_autograd": 2e-4,  # float32, 300 steps of sums over 2,000 points
    "polynomial_nn": 2e-4,  # float32, 200 RMSprop steps
    "custom_autograd_function": 1e-7,  # float64
    "dynamic_net": 2e-4,  # float32, 300 steps with momentum
    "mlp_classifier": 2e-4,  # float32 Adam, 5 epochs
    "cnn_classifier": 1e-7,  # float64
    "save_and_resume": 1e-7,  # float64
    "manual_updates": 2e-4,  # float32, 30 steps
    "schedule_and_clip": 1e-7,  # float64
    "bag_of_embeddings": 1e-7,  # float64
    "lstm_tagger": 1e-7,  # float64
}


def run(library: str, name: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "tests.programs.run_program", library, str(HERE / f"{name}.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, f"{name} under {library} failed:\n{out.stderr[-3000:]}"
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"{name} under {library} printed no RESULT line:\n{out.stdout[-2000:]}"
    return json.loads(lines[-1].removeprefix("RESULT "))


def differences(ours, theirs, rtol: float, where: str = "") -> list[str]:
    if isinstance(ours, dict) and isinstance(theirs, dict):
        if ours.keys() != theirs.keys():
            return [f"{where}: keys {sorted(ours)} vs {sorted(theirs)}"]
        return [d for k in ours for d in differences(ours[k], theirs[k], rtol, f"{where}.{k}")]
    if isinstance(ours, list) and isinstance(theirs, list):
        if len(ours) != len(theirs):
            return [f"{where}: length {len(ours)} vs {len(theirs)}"]
        return [d for i, (a, b) in enumerate(zip(ours, theirs)) for d in differences(a, b, rtol, f"{where}[{i}]")]
    if isinstance(ours, bool) or isinstance(theirs, bool) or isinstance(ours, str):
        return [] if ours == theirs else [f"{where}: {ours!r} vs {theirs!r}"]
    if isinstance(ours, (int, float)) and isinstance(theirs, (int, float)):
        # atol: a weight that trains towards 0 (1e-17 here, 3e-17 there) is 0 to both
        return [] if math.isclose(ours, theirs, rel_tol=rtol, abs_tol=1e-12) else [f"{where}: {ours!r} vs {theirs!r}"]
    return [f"{where}: {ours!r} vs {theirs!r}"]


def test_there_are_at_least_ten_programs():
    found = {p.stem for p in HERE.glob("*.py")} - {"__init__", "conftest", "run_program", "test_programs"}
    assert found == set(PROGRAMS) and len(found) >= 10


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_runs_unchanged_and_agrees_with_torch(name):
    ours = run("flowgrad", name)
    pytest.importorskip("torch")
    theirs = run("torch", name)
    problems = differences(ours, theirs, PROGRAMS[name])
    assert not problems, f"{name}: flowgrad vs torch:\n" + "\n".join(problems[:20])
