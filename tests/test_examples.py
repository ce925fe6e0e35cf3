"""Every example runs (with a quick option) and prints what it promises."""

import pathlib
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.numeric  # rounding-dependent: run again on other kernels by make test

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"
QUICK = {
    "autograd_gradient_descent.py": ["--steps", "3"],
    "torch_style_two_layer.py": ["--steps", "5"],
    "two_layer_relu.py": ["--steps", "3"],
    "gender_network.py": ["--epochs", "2"],
    "and_perceptron.py": [],
    "miniflow_housing.py": ["--epochs", "2", "--no-plot"],
    "linear_regression.py": ["--epochs", "2", "--numpy-epochs", "1", "--plot", ""],
    "conjugate_gradient.py": ["--evals", "10", "--plot", ""],
    "digits_mlp.py": ["--epochs", "2"],
    "housing_regression.py": ["--epochs", "3"],
}


def run(name: str) -> str:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *QUICK.get(name, [])],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_every_example_has_a_quick_option():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(QUICK)


@pytest.mark.parametrize("name", sorted(QUICK))
def test_example_runs(name):
    assert run(name).strip()


def test_autograd_example_prints_the_tutorial_numbers():
    out = run("autograd_gradient_descent.py")
    assert "y1=[0.16798161 0.75026011]" in out
    # The 8-digit vectors are as printed; the errors' last digits depend on the CPU's exp and
    # dot kernels (about an ulp each), so they are compared to 1e-15 relative.
    errors = {m[0]: float(m[1]) for m in re.findall(r"^(n=\d+)?.*?error=([0-9.e+-]+)", out, re.M)}
    assert errors[""] == pytest.approx(0.43208904098296796, rel=1e-15, abs=0)
    assert errors["n=0"] == pytest.approx(1.8720128308662338, rel=1e-15, abs=0)
    assert errors["n=1"] == pytest.approx(1.8686479260568558, rel=1e-15, abs=0)
    assert "n=0, y=[0.99999386 0.98201379]" in out and "n=1, y=[0.99999405 0.9817841 ]" in out


def test_and_perceptron_prints_the_tutorial_weights():
    out = run("and_perceptron.py")
    assert "0.4514297388906616 0.2369025056182418 -0.611635769357402" in out
    assert "1&1 1" in out and "0&1 0" in out


def test_gender_example_prints_alice():
    assert "Alice: y_pred = 0.524" in run("gender_network.py")
