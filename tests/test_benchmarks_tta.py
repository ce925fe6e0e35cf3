"""Smoke test of the time-to-accuracy case: one quick round prints its lines and writes its JSON.
It never asserts anything about timings."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_time_to_accuracy_round(tmp_path):
    out = tmp_path / "results.json"
    command = [sys.executable, "-m", "benchmarks", "--quick", "--cases", "time-to-accuracy", "--contenders", "flowgrad"]
    proc = subprocess.run([*command, "--json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "time to 97% test accuracy" in proc.stdout and "flowgrad train (default job)" in proc.stdout
    results = json.loads(out.read_text())["cases"]["time-to-accuracy"]["results"]
    assert results["flowgrad"]["status"] == "ok", results["flowgrad"]
    assert results["flowgrad"]["epochs"][0] >= 1
    expected = {"flowgrad"} | ({"sklearn"} if importlib.util.find_spec("sklearn") else set())
    assert {n for n, r in results.items() if r["status"] != "skipped"} == expected
