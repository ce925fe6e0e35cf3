"""Smoke test of the benchmark suite: a quick run of the tiny case prints its table and writes its
JSON. It never asserts anything about timings."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_quick_tiny_run_prints_the_table_and_writes_json(tmp_path):
    contenders = [c for c in ("numpy", "flowgrad") if importlib.util.find_spec(c) is not None]
    out = tmp_path / "results.json"
    command = [sys.executable, "-m", "benchmarks", "--quick", "--cases", "tiny", "--threads", "1"]
    command += ["--contenders", ",".join(contenders), "--json", str(out)]
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "== tiny" in proc.stdout and "x hand NumPy" in proc.stdout
    report = json.loads(out.read_text())
    assert report["threads"] == 1 and report["quick"] is True
    results = report["cases"]["tiny"]["contenders"]
    assert sorted(results) == sorted(contenders)
    for name in contenders:
        assert results[name]["status"] == "ok", results[name]
        assert results[name]["time_per_step_s"] > 0
        assert results[name].get("loss_ok", True), results[name]  # the same losses as hand NumPy


def test_quick_sklearn_fit_case_reports_both_estimators(tmp_path):
    if importlib.util.find_spec("sklearn") is None:
        pytest.skip("scikit-learn is not installed")
    out = tmp_path / "results.json"
    command = [sys.executable, "-m", "benchmarks", "--quick", "--cases", "sklearn_fit", "--json", str(out)]
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "== sklearn_fit" in proc.stdout and "fit time flowgrad / scikit-learn" in proc.stdout
    case = json.loads(out.read_text())["cases"]["sklearn_fit"]
    assert sorted(case["results"]) == ["flowgrad", "sklearn"]
    assert all(r["fit_s"] > 0 for r in case["results"].values())


def test_time_to_accuracy_child_reaches_the_target(tmp_path):
    from benchmarks import time_to_accuracy

    data = tmp_path / "digits.npz"
    time_to_accuracy.write_data(data)
    reached = time_to_accuracy.run_child("flowgrad", 1, data, seed=0)
    # Not a timing: the default job's network reaches 97% on the digits within the epochs allowed.
    assert reached["accuracy"] >= time_to_accuracy.TARGET and 1 <= reached["epoch"] <= time_to_accuracy.MAX_EPOCHS
    assert reached["seconds"] > 0


def test_quick_distributed_case_reports_both_setups(tmp_path):
    if importlib.util.find_spec("mpi4py") is None:
        pytest.skip("mpi4py is not installed")
    out = tmp_path / "results.json"
    command = [sys.executable, "-m", "benchmarks", "--quick", "--cases", "distributed", "--json", str(out)]
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    case = json.loads(out.read_text())["cases"]["distributed"]
    assert "2 ranks, DistributedDataParallel" in " ".join(case["summary"]), case["summary"]
    assert case["ddp_step_s"] > 0 and case["one_process_step_s"] > 0 and case["allreduce_s"] > 0
