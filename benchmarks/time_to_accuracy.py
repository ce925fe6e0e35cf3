"""Time to accuracy: the default ``flowgrad train`` job against PyTorch and scikit-learn, as a user sees it.

The default job (8x8 digits, 80/20 split with seed 0, standardized pixels, 64-128-64-10 ReLU,
Adam lr 1e-3, batch 32, cross-entropy) runs as ``python -m flowgrad train`` exactly as a user
types it (it also writes its run folder and a checkpoint every epoch). PyTorch
(``benchmarks/tta/torch_mlp.py``) trains the same network with the same optimizer and batch, and
scikit-learn's ``MLPClassifier`` (``benchmarks/tta/sklearn_mlp.py``) the same hidden sizes with
solver adam, on the very same split and scaling (saved once to an ``.npz`` by this process).
Each contender is a fresh process; the clock starts just before the process is started (so the
interpreter's start and every import count) and stops when it prints the first epoch whose test
accuracy reaches the target. The repetitions are interleaved: one run of each contender, then
the next round. Contenders whose package is not installed are skipped.
"""

from __future__ import annotations

import importlib.util
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TARGET = 0.97
MAX_EPOCHS = 50  # PyTorch and scikit-learn; the flowgrad job has its default 20 epochs
HERE = Path(__file__).resolve().parent
EPOCH_LINE = re.compile(r"^epoch (\d+)(?:/\d+)?\b.*?\b(?:val_accuracy|test_accuracy) ([0-9.]+)")
LABELS = {
    "flowgrad": "flowgrad train (default job)",
    "torch": "PyTorch script",
    "sklearn": "scikit-learn MLPClassifier",
}


def save_data(path: str) -> None:
    """The default job's split and scaling, as ``flowgrad train`` computes them, for the other contenders."""
    from flowgrad.cli import config, jobs

    run = jobs.Run(config.defaults(), Path(path).parent / "unused")
    np.savez(
        path,
        x_train=run.scale(run.X_train),
        y_train=run.y_train.astype(np.int64),
        x_test=run.scale(run.X_test),
        y_test=run.y_test.astype(np.int64),
    )


def commands(workdir: str, data: str, threads: int) -> dict[str, list[str]]:
    flowgrad = [sys.executable, "-m", "flowgrad", "train", "--runs-dir", os.path.join(workdir, "runs"), "--overwrite"]
    scripts = {"torch": "torch_mlp.py", "sklearn": "sklearn_mlp.py"}
    others = {
        n: [sys.executable, str(HERE / "tta" / s), data, str(threads), str(MAX_EPOCHS)] for n, s in scripts.items()
    }
    return {"flowgrad": flowgrad, **others}


def missing(name: str) -> str | None:
    package = {"flowgrad": "flowgrad", "torch": "torch", "sklearn": "sklearn"}[name]
    return None if importlib.util.find_spec(package) else f"{package} is not installed"


def run_once(argv: list[str], threads: int, workdir: str, timeout: float = 600.0) -> dict:
    """Start ``argv``; seconds until it prints an epoch at or above the target accuracy."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", MPLBACKEND="Agg")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
        env[var] = str(threads)
    with tempfile.TemporaryFile("w+", dir=workdir) as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, text=True, env=env, cwd=workdir)
        assert proc.stdout is not None
        best, epochs = 0.0, 0
        try:
            for line in proc.stdout:
                m = EPOCH_LINE.match(line)
                if not m:
                    continue
                epochs, accuracy = int(m.group(1)), float(m.group(2))
                best = max(best, accuracy)
                if accuracy >= TARGET:
                    seconds = time.perf_counter() - t0
                    return {"ok": True, "seconds": seconds, "epoch": epochs, "accuracy": accuracy}
                if time.perf_counter() - t0 > timeout:
                    break
        finally:
            proc.kill()
            proc.wait()
        err.seek(0)
        tail = err.read()[-400:].strip()
    why = f"best test accuracy {best:.4f} after {epochs} epochs" if epochs else f"no epoch printed: {tail}"
    return {"ok": False, "why": why}


def run(threads: int, repeats: int, contenders: list[str] | None = None) -> dict:
    """The case: ``repeats`` interleaved rounds of every installed contender; medians and summary lines."""
    with tempfile.TemporaryDirectory(prefix="flowgrad-tta-") as workdir:
        data = os.path.join(workdir, "digits.npz")
        save_data(data)
        argvs = commands(workdir, data, threads)
        names = [n for n in argvs if contenders is None or n in contenders]
        skipped = {n: missing(n) for n in names if missing(n)}
        names = [n for n in names if n not in skipped]
        runs: dict[str, list] = {n: [] for n in names}
        for _ in range(repeats):
            for name in names:
                runs[name].append(run_once(argvs[name], threads, workdir))
    results: dict = {}
    for name in names:
        ok = [r for r in runs[name] if r["ok"]]
        if len(ok) == len(runs[name]):
            seconds = [r["seconds"] for r in ok]
            results[name] = {
                "status": "ok",
                "median_s": statistics.median(seconds),
                "seconds": seconds,
                "epochs": [r["epoch"] for r in ok],
            }
        else:
            failed = next(r for r in runs[name] if not r["ok"])
            results[name] = {"status": "not reached", "note": failed["why"], "runs": runs[name]}
    for name, why in skipped.items():
        results[name] = {"status": "skipped", "note": why}
    return {"name": "time-to-accuracy", "target": TARGET, "repeats": repeats, "results": results,
            "summary": summary(results, repeats)}  # fmt: skip


def summary(results: dict, repeats: int) -> list[str]:
    lines = [
        f"time to {TARGET:.0%} test accuracy on the 8x8 digits, from process start (imports included); "
        f"median of {repeats} interleaved runs"
    ]
    base = results.get("flowgrad", {}).get("median_s")
    for name, r in results.items():
        if r["status"] != "ok":
            lines.append(f"{LABELS[name]:30s} {r['status']}: {r['note']}")
            continue
        spread = f"{min(r['seconds']):.2f}-{max(r['seconds']):.2f} s"
        epochs = sorted(set(r["epochs"]))
        ratio = f", {r['median_s'] / base:.2f}x flowgrad's time" if base and name != "flowgrad" else ""
        lines.append(
            f"{LABELS[name]:30s} {r['median_s']:6.2f} s (runs {spread}; epoch {', '.join(map(str, epochs))}){ratio}"
        )
    ok = {n: r["median_s"] for n, r in results.items() if r["status"] == "ok"}
    if ok:
        lines.append(f"first: {LABELS[min(ok, key=ok.__getitem__)]}")
    return lines
