"""``python -m benchmarks``: flowgrad against hand-written NumPy, PyTorch, JAX and HIPS autograd.

Every case runs for every installed contender, each in a process of its own with the thread
count fixed, timed in interleaved rounds (median of the blocks after a warm-up). The tables
give the time per step and its ratios to hand NumPy and to PyTorch eager; the targets are
printed beside them. The ``sklearn_fit`` case times ``flowgrad.sklearn.NeuralNetClassifier``'s
fit beside scikit-learn's ``MLPClassifier`` on the digits (benchmarks/sklearn_fit.py); the
``time_to_accuracy`` case runs the default ``flowgrad train`` job to 97% test accuracy beside
PyTorch and scikit-learn (benchmarks/time_to_accuracy.py); the ``distributed`` case times a
large-MLP step on 2 MPI ranks with DistributedDataParallel (benchmarks/distributed_step.py). Results
also go to a JSON file.

    python -m benchmarks                         # every case, one thread
    python -m benchmarks --threads 2 --cases tiny,large
    python -m benchmarks --quick --cases tiny --contenders numpy,flowgrad
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from . import distributed_step, problems, sklearn_fit, time_to_accuracy
from .contenders import CONTENDERS, unavailable
from .report import case_table, format_rounds, format_targets, targets
from .runner import OtherLoad, WorkerError, run_worker_once, time_case, time_imports

CASES = (*problems.TIMED, "import", "memory", "sklearn_fit", "time_to_accuracy", "distributed")
# Timing: `rounds` rounds of one block (about `block` seconds) per contender, after `warmup` seconds;
# `pause` seconds between two blocks, `pause_threaded` with several threads (idle BLAS and OpenMP
# threads spin for up to ~0.2 s after their work and would slow the next contender down); a round
# that other programs disturbed is run again once they have been quiet for `busy_pause` seconds, for
# at most `max_wait` seconds of waiting per case.
FULL = dict(rounds=15, block=0.2, warmup=0.5, pause=0.02, pause_threaded=0.3, max_wait=900, busy_pause=2.0)
FULL.update(imports=10, gemm=2048, depth_steps=3, sklearn_rounds=5, sklearn_epochs=50, tta_rounds=5, dist_steps=20)
QUICK = dict(rounds=3, block=0.02, warmup=0.05, pause=0.005, pause_threaded=0.05, max_wait=0, busy_pause=0)
QUICK.update(imports=3, gemm=1024, depth_steps=1, sklearn_rounds=1, sklearn_epochs=2, tta_rounds=1, dist_steps=2)
NOTES = {
    "conv": [
        "hand NumPy: im2col in pooling-window order, one GEMM; HIPS autograd: the same im2col (nine "
        "shifted views of the padded input) under autograd; JAX: lax.conv_general_dilated",
    ],
    "lenet": [
        "hand NumPy: activations as (C, N, H, W), im2col rows from one strided view and one GEMM per "
        "convolution, ReLU after pooling; HIPS autograd: 25 shifted slices stacked and one einsum",
    ],
    "large": ["FLOPs per step counted as 3 x 2*B*(784*1024 + 1024*1024 + 1024*10)"],
}


def machine() -> dict:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    versions = {"python": platform.python_version()}
    for package in ("numpy", "flowgrad", "torch", "jax", "jaxlib", "autograd", "scikit-learn"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    try:
        import numpy as np

        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        versions["numpy BLAS"] = f"{blas['name']} {blas['version']}"
    except (KeyError, TypeError):
        pass
    try:  # the kernel the BLAS picked for this CPU (SkylakeX, Haswell, ...): it sets the GEMM speed
        import threadpoolctl

        kernels = sorted(
            {i.get("architecture") or "?" for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"}
        )
        if kernels and "numpy BLAS" in versions:
            versions["numpy BLAS"] += f" ({', '.join(kernels)} kernel)"
    except ImportError:
        pass
    return {"cpu": cpu, "logical_cores": os.cpu_count(), "platform": platform.platform(), "versions": versions}


class Session:
    """One run of the suite: the options, the problems saved so far, the results."""

    def __init__(self, args: argparse.Namespace, workdir: str) -> None:
        self.args, self.workdir = args, workdir
        self.settings = QUICK if args.quick else FULL
        self.saved: dict = {}  # name -> (path, problem)

    def problem(self, name: str, build=None) -> str:
        """The path of the problem's .npz file, built and saved on first use."""
        if name not in self.saved:
            problem = (build or problems.TIMED[name])()
            path = os.path.join(self.workdir, f"{name}.npz")
            problem.save(path)
            self.saved[name] = (path, problem)
        return self.saved[name][0]

    def chosen(self, *names: str) -> tuple[list, dict]:
        """The contenders among ``names`` that were asked for and can run; the others, with why."""
        run, skipped = [], {}
        for name in names:
            if name not in self.args.contenders:
                continue
            why = unavailable(name)
            if why:
                skipped[name] = {"status": "skipped", "note": why}
            else:
                run.append(name)
        return run, skipped

    def run(self, name: str) -> dict:
        if name == "import":
            return self.imports()
        if name == "sklearn_fit":
            if "flowgrad" not in self.args.contenders:
                return {"name": name, "summary": ["skipped: flowgrad is not among --contenders"]}
            return sklearn_fit.run_case(self.args.threads, self.settings)
        if name == "time_to_accuracy":
            return time_to_accuracy.run_case(self.args.threads, self.settings)
        if name == "distributed":
            return distributed_step.run_case(self.args.threads, self.settings)
        return self.memory() if name == "memory" else self.timed(name)

    def timed(self, name: str) -> dict:
        path = self.problem(name)
        problem = self.saved[name][1]
        run, skipped = self.chosen(*CONTENDERS)
        gemm = self.settings["gemm"] if name == "large" else 0
        timed, rounds = time_case(path, run, self.args.threads, self.settings, gemm)
        results = {**timed, **skipped}
        case = {"name": name, "title": problem.title, "threads": self.args.threads, "rounds": rounds}
        case["notes"] = list(NOTES.get(name, []))
        case["contenders"] = {c: results[c] for c in CONTENDERS if c in results}
        if name == "large":
            ok = [r for r in case["contenders"].values() if r["status"] == "ok"]
            # The machine's float32 GEMM peak at this thread count: the best matmul of any process.
            case["gemm_peak_gflops"] = max((r["gemm_peak_gflops"] for r in ok), default=None)
            for result in ok:
                t = result["time_per_step_s"]
                result["samples_per_s"] = problem.batch / t
                result["gflops"] = problem.flops_per_step() / t / 1e9
                result["peak_fraction"] = result["gflops"] / case["gemm_peak_gflops"]
            if ok:
                case["notes"].append(
                    f"GEMM peak {case['gemm_peak_gflops']:.0f} GFLOP/s: the best float32 np.matmul of "
                    f"{gemm} x {gemm} matrices, timed in every contender's process after each of its blocks"
                )
        if name == "deep":
            self.deep_note(case)
        return case

    def deep_note(self, case: dict) -> None:
        run, _ = self.chosen("flowgrad")
        if not run:
            return
        path = self.problem("deep10000", lambda: problems.deep(depth=10_000, width=16, batch=4))
        steps = str(self.settings["depth_steps"])
        try:
            depth = run_worker_once("flowgrad", path, self.args.threads, "depth", "--steps", steps)
            case["notes"].append(
                f"flowgrad eager at depth 10,000 (batch 4, width 16): {depth['seconds_per_step']:.2f} s per step, "
                f"loss {depth['loss']:.4f}, {'works' if depth['ok'] else 'NOT finite'}"
            )
        except WorkerError as e:
            depth = {"ok": False, "error": str(e)}
            case["notes"].append(f"flowgrad eager at depth 10,000 FAILED: {e}")
        case["depth_10000"] = depth

    def imports(self) -> dict:
        result, rounds = time_imports(self.args.threads, self.settings)
        summary = [
            f"python -c 'import numpy': {1000 * result['numpy_s']:.1f} ms, python -c 'import flowgrad': "
            f"{1000 * result['flowgrad_s']:.1f} ms (medians of {result['repeats']} fresh processes each)",
            f"difference: {result['difference_ms']:.1f} ms",
        ]
        return {"name": "import", **result, "rounds": rounds, "summary": [*summary, format_rounds(rounds)]}

    def memory(self) -> dict:
        case: dict = {"name": "memory"}
        run, skipped = self.chosen("numpy", "flowgrad")
        peaks, lines = {}, []
        for name in run:
            try:
                rss = run_worker_once(name, self.problem("large"), self.args.threads, "peak-rss", "--steps", "20")
            except WorkerError as e:
                skipped[name] = {"status": "failed", "note": str(e)}
                continue
            peaks[name] = rss["peak_rss_mb"]
            lines.append(
                f"{CONTENDERS[name].label}: peak RSS over 20 large steps {rss['peak_rss_mb']:.1f} MB "
                f"(RSS {rss['rss_before_steps_mb']:.1f} MB once set up, before the steps)"
            )
        case["peak_rss_mb"] = peaks
        if len(peaks) == 2:
            case["peak_rss_ratio"] = peaks["flowgrad"] / peaks["numpy"]
        else:
            case["peak_rss_why"] = (
                "; ".join(f"{CONTENDERS[n].label}: {s['note']}" for n, s in skipped.items()) or "not selected"
            )
        if "flowgrad" in run:
            try:
                growth = run_worker_once(
                    "flowgrad", self.problem("tiny"), self.args.threads, "rss-growth", "--steps", "10000"
                )
                case.update(growth=growth, growth_mb=growth["growth_mb"])
            except WorkerError as e:
                case["growth_why"] = str(e)
        else:
            case["growth_why"] = skipped.get("flowgrad", {}).get("note", "not selected")
        if "peak_rss_ratio" in case:
            lines.append(f"peak RSS ratio flowgrad eager / hand NumPy: {case['peak_rss_ratio']:.2f}")
        if "growth" in case:
            g = case["growth"]
            lines.append(
                f"flowgrad eager over 10,000 tiny steps (after 200): RSS {g['rss_before_mb']:.1f} -> "
                f"{g['rss_after_mb']:.1f} MB ({g['growth_mb']:+.2f} MB)"
            )
        case["summary"] = lines
        return case


def parse_args(argv: list | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cases", default=",".join(CASES), help=f"comma-separated, from {','.join(CASES)} (default: all)"
    )
    parser.add_argument(
        "--contenders", default=",".join(CONTENDERS), help=f"comma-separated, from {','.join(CONTENDERS)}"
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="BLAS/OpenMP/PyTorch/XLA threads per process (default 1)"
    )
    parser.add_argument("--quick", action="store_true", help="few short rounds: a smoke test, not a measurement")
    parser.add_argument(
        "--json", default=str(Path(__file__).with_name("results.json")), help="where to write the results"
    )
    args = parser.parse_args(argv)
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    args.contenders = [c.strip() for c in args.contenders.split(",") if c.strip()]
    for kind, chosen, known in (("case", args.cases, CASES), ("contender", args.contenders, CONTENDERS)):
        unknown = [c for c in chosen if c not in known]
        if unknown:
            parser.error(f"unknown {kind} {', '.join(unknown)}; choose from {', '.join(known)}")
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    return args


def main(argv: list | None = None) -> int:
    args = parse_args(argv)
    info = machine()
    print(
        f"flowgrad benchmarks: {info['cpu']}, {info['logical_cores']} logical cores, threads per process: {args.threads}"
        + (" (--quick: a smoke test, not a measurement)" if args.quick else "")
    )
    print("versions: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()))
    print(
        "time/step: median over interleaved rounds; x NumPy, x PyTorch: median of the per-round time ratios (lower is faster)\n"
    )
    report = {
        "machine": info,
        "threads": args.threads,
        "quick": args.quick,
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "cases": {},
        "targets": [],
    }
    with tempfile.TemporaryDirectory(prefix="flowgrad-bench-") as workdir:
        session = Session(args, workdir)
        for name in args.cases:
            t0, load = time.perf_counter(), OtherLoad()
            case = session.run(name)
            case["wall_s"], case["other_load"] = time.perf_counter() - t0, load.cores()
            rows = targets(case)
            report["cases"][name] = case
            report["targets"] += rows
            print(case_table(case) if "contenders" in case else "\n  ".join([f"== {name}", *case["summary"]]))
            if rows:
                print(format_targets(rows))
            print(flush=True)
    print("targets:")
    print(format_targets(report["targets"]))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nresults written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
