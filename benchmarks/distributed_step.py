"""The ``distributed`` case: a training step of the large MLP (784-1024-1024-10, global batch 256)
on 2 MPI ranks with DistributedDataParallel beside one process on the whole batch, and what the
gradient averaging costs on its own (a 25 MB-bucketed allreduce of every gradient, timed apart).

Each rank takes 128 rows of the 256; the step time is the median over timed steps, taken after a
warm-up. Two ranks on a machine with two cores share it with nothing else only when the machine is
otherwise idle: the case says how many cores the machine has beside the figures.

    python -m benchmarks --cases distributed
    mpiexec -n 2 python -m benchmarks.distributed_step --steps 20   # the ranks' side, prints JSON
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from .runner import ROOT, child_env

SIZES = (784, 1024, 1024, 10)
BATCH = 256


def _model(seed: int):
    import flowgrad as fg

    fg.manual_seed(seed)
    layers = []
    for a, b in zip(SIZES[:-1], SIZES[1:]):
        layers += [fg.nn.Linear(a, b), fg.nn.ReLU()]
    return fg.nn.Sequential(*layers[:-1])


def _timed(step, steps: int) -> list[float]:
    for _ in range(3):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return times


def ranks_side(steps: int) -> dict:
    """On every rank (under mpiexec): DDP steps on this rank's rows, and the allreduce alone."""
    import numpy as np

    import flowgrad as fg
    import flowgrad.distributed as dist

    dist.init_process_group("mpi")
    rank, size = dist.get_rank(), dist.get_world_size()
    rng = np.random.default_rng(0)
    x = fg.from_numpy(rng.standard_normal((BATCH, SIZES[0])).astype(np.float32))
    y = fg.from_numpy(rng.integers(0, SIZES[-1], BATCH))
    local = BATCH // size
    xs, ys = x[rank * local : (rank + 1) * local], y[rank * local : (rank + 1) * local]
    ddp = fg.nn.parallel.DistributedDataParallel(_model(0))
    opt = fg.optim.SGD(ddp.parameters(), lr=0.01)

    def step() -> None:
        opt.zero_grad()
        fg.nn.functional.cross_entropy(ddp(xs), ys).backward()
        opt.step()

    step_times = _timed(step, steps)
    grads = [p.grad for p in ddp.parameters()]

    def allreduce() -> None:
        works = [dist.all_reduce(g, op=dist.ReduceOp.AVG, async_op=True) for g in grads]
        for w in works:
            w.wait()

    comm_times = _timed(allreduce, steps)
    out = {
        "rank": rank,
        "size": size,
        "step_s": statistics.median(step_times),
        "allreduce_s": statistics.median(comm_times),
    }
    dist.destroy_process_group()
    return out


def one_process(steps: int) -> float:
    import numpy as np

    import flowgrad as fg

    rng = np.random.default_rng(0)
    x = fg.from_numpy(rng.standard_normal((BATCH, SIZES[0])).astype(np.float32))
    y = fg.from_numpy(rng.integers(0, SIZES[-1], BATCH))
    net = _model(0)
    opt = fg.optim.SGD(net.parameters(), lr=0.01)

    def step() -> None:
        opt.zero_grad()
        fg.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()

    return statistics.median(_timed(step, steps))


def run_case(threads: int, settings: dict) -> dict:
    """The case's results and summary lines; skipped without mpi4py and mpiexec."""
    case: dict = {"name": "distributed"}
    launcher = Path(sys.executable).parent / "mpiexec"
    mpiexec = str(launcher) if launcher.exists() else shutil.which("mpiexec")
    if importlib.util.find_spec("mpi4py") is None or mpiexec is None:
        case["summary"] = ["skipped: needs mpi4py and mpiexec (pip install flowgrad[mpi])"]
        return case
    steps = settings["dist_steps"]
    env = child_env(threads)
    single = subprocess.run([sys.executable, "-m", "benchmarks.distributed_step", "--one", "--steps", str(steps)],
                            env=env, cwd=ROOT, capture_output=True, text=True, timeout=900)  # fmt: skip
    ranks = subprocess.run([mpiexec, "-n", "2", sys.executable, "-m", "benchmarks.distributed_step", "--steps", str(steps)],
                           env=env, cwd=ROOT, capture_output=True, text=True, timeout=900)  # fmt: skip
    if single.returncode or ranks.returncode:
        case["summary"] = [f"FAILED: {(single.stderr + ranks.stderr).strip().splitlines()[-1:]}"]
        return case
    one = json.loads(single.stdout.strip().splitlines()[-1])["step_s"]
    # Found anywhere: mpiexec forwards the ranks' output in chunks that may share a line.
    per_rank = [json.loads(found) for found in re.findall(r"\{[^{}]*\}", ranks.stdout)]
    step = max(r["step_s"] for r in per_rank)
    comm = max(r["allreduce_s"] for r in per_rank)
    case.update(one_process_step_s=one, ddp_step_s=step, allreduce_s=comm, cores=os.cpu_count())
    case["summary"] = [
        f"large MLP {SIZES}, global batch {BATCH}, SGD; {threads} thread(s) per process, {os.cpu_count()} cores",
        f"one process, whole batch: {one * 1e3:.1f} ms/step",
        f"2 ranks, DistributedDataParallel, 128 rows each: {step * 1e3:.1f} ms/step ({one / step:.2f}x one process's speed)",
        f"the gradients' allreduce alone (2 ranks, {sum(a * b + b for a, b in zip(SIZES[:-1], SIZES[1:])) * 4 / 1e6:.1f} MB): "
        f"{comm * 1e3:.1f} ms ({comm / step:.0%} of a DDP step, part of it overlapped with backward)",
    ]
    return case


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.distributed_step", description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--one", action="store_true", help="time one process on the whole batch")
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps({"step_s": one_process(args.steps)}))
    else:
        print(json.dumps(ranks_side(args.steps)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
