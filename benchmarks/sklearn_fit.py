"""The ``sklearn_fit`` case: fit time of ``flowgrad.sklearn.NeuralNetClassifier`` beside
scikit-learn's ``MLPClassifier`` on the 8x8 digits, the same model and training for both.

One hidden layer of 64, adam at lr 1e-3, batches of 200, the given number of passes over 70% of
the digits (scaled to [0, 1]), no L2 penalty and no early stop. Each timing is one fit in a fresh
process (thread count fixed as for every case) after a one-pass warm-up fit there; the two
estimators alternate, round after round, and the median is reported with the test accuracy.

    python -m benchmarks --cases sklearn_fit
    python -m benchmarks.sklearn_fit --estimator flowgrad --epochs 50   # one timed fit, as JSON
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import time
import warnings

from .report import format_rounds
from .runner import ROOT, child_env, quiet_rounds

ESTIMATORS = {"flowgrad": "flowgrad NeuralNetClassifier", "sklearn": "scikit-learn MLPClassifier"}
HIDDEN = (64,)


def make(estimator: str, epochs: int, seed: int):
    if estimator == "flowgrad":
        from flowgrad.sklearn import NeuralNetClassifier

        return NeuralNetClassifier(hidden_layer_sizes=HIDDEN, epochs=epochs, lr=1e-3, random_state=seed)
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(
        hidden_layer_sizes=HIDDEN,
        max_iter=epochs,
        solver="adam",
        learning_rate_init=1e-3,
        alpha=0.0,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        random_state=seed,
    )


def fit_once(estimator: str, epochs: int, seed: int) -> dict:
    """In this process: a one-pass warm-up fit, then one timed fit; its time and test accuracy."""
    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split

    images, labels = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        images / 16.0, labels, test_size=0.3, random_state=0, stratify=labels
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a fixed number of passes, on purpose
        make(estimator, 1, seed).fit(x_train, y_train)
        model = make(estimator, epochs, seed)
        t0 = time.perf_counter()
        model.fit(x_train, y_train)
        seconds = time.perf_counter() - t0
    return {"fit_s": seconds, "accuracy": float(model.score(x_test, y_test))}


def run_case(threads: int, settings: dict) -> dict:
    """The case's results and summary lines; skipped without scikit-learn."""
    case: dict = {"name": "sklearn_fit"}
    if importlib.util.find_spec("sklearn") is None:
        case["summary"] = ["skipped: scikit-learn is not installed (pip install flowgrad[sklearn])"]
        return case
    epochs = settings["sklearn_epochs"]
    env = child_env(threads)

    def run_round(r: int) -> dict:
        out = {}
        names = list(ESTIMATORS)
        for name in names[r % 2 :] + names[: r % 2]:  # alternate who goes first
            command = [sys.executable, "-m", "benchmarks.sklearn_fit", "--estimator", name]
            command += ["--epochs", str(epochs), "--seed", str(r)]
            proc = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=900)
            if proc.returncode != 0:
                tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
                raise RuntimeError(f"{ESTIMATORS[name]} failed: {tail}")
            out[name] = json.loads(proc.stdout.strip().splitlines()[-1])
        return out

    try:
        rounds, summary = quiet_rounds(settings["sklearn_rounds"], run_round, list, settings)
    except RuntimeError as e:
        case["summary"] = [f"FAILED: {e}"]
        return case
    results = {}
    for name in ESTIMATORS:
        times = [r[name]["fit_s"] for r in rounds]
        accuracy = [r[name]["accuracy"] for r in rounds]
        results[name] = {"fit_s": statistics.median(times), "times_s": times, "accuracy": accuracy}
    case.update(results=results, epochs=epochs, rounds=summary)
    ratio = results["flowgrad"]["fit_s"] / results["sklearn"]["fit_s"]
    case["fit_time_ratio"] = ratio
    lines = [
        f"digits (1257 train, 540 test), hidden {HIDDEN}, adam lr 1e-3, batch 200, {epochs} passes; "
        f"median of {len(rounds)} fits, each in a fresh process (seed = round)"
    ]
    for name, label in ESTIMATORS.items():
        res = results[name]
        lines.append(
            f"{label}: fit {res['fit_s']:.3f} s, test accuracy {statistics.mean(res['accuracy']):.4f} "
            f"(mean; min {min(res['accuracy']):.4f})"
        )
    lines += [f"fit time flowgrad / scikit-learn: {ratio:.2f}x", format_rounds(summary)]
    case["summary"] = lines
    return case


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sklearn_fit", description=__doc__.split("\n\n")[0])
    parser.add_argument("--estimator", choices=sorted(ESTIMATORS), required=True)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(json.dumps(fit_once(args.estimator, args.epochs, args.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
