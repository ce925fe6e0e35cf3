"""examples/miniflow_housing.py: the MiniFlow tutorial's training run, on flowgrad's graph mode."""

import importlib.util
import pathlib
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.numeric  # rounding-dependent: run again on other kernels by make test

SCRIPT = pathlib.Path(__file__).resolve().parent.parent / "examples" / "miniflow_housing.py"


def run(*args, cwd):
    result = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_full_run_brings_the_loss_from_over_100_to_under_25(tmp_path):
    out = run("--epochs", "100", cwd=tmp_path)  # about 3 s
    assert "Total number of examples = 506" in out
    losses = [float(v) for v in re.findall(r"Epoch: \d+, Loss: ([0-9.]+)", out)]
    assert len(losses) == 100
    assert losses[0] > 100 and losses[-1] < 25
    if importlib.util.find_spec("matplotlib") is not None:
        assert (tmp_path / "miniflow_housing_loss.png").read_bytes()[:4] == b"\x89PNG"
        assert "Saved the loss curve to miniflow_housing_loss.png" in out
    else:
        assert "matplotlib is not installed" in out


def test_no_plot_draws_nothing(tmp_path):
    out = run("--epochs", "1", "--no-plot", cwd=tmp_path)
    assert "Epoch: 1, Loss:" in out and not list(tmp_path.iterdir())
