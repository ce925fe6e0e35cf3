"""The ``distributed`` case: a training step of the large MLP (784-1024-1024-10, global batch 256)
on 2 MPI ranks with DistributedDataParallel beside one process on the whole batch; PyTorch's DDP
with its gloo backend on the same step, 1 and 2 ranks (the anchor); what the gradient averaging
costs on its own; and a 25 MB bucket's all_reduce against a raw mpi4py Allreduce (the floor).

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
from typing import Any

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
    # One 25 MB bucket: flowgrad's all_reduce against a raw mpi4py Allreduce of the same buffer.
    from mpi4py import MPI

    bucket = fg.from_numpy(np.ones(25 * 2**20 // 4, dtype=np.float32))
    raw = np.ones_like(bucket.numpy())
    flowgrad_25 = statistics.median(_timed(lambda: dist.all_reduce(bucket), steps))
    raw_25 = statistics.median(_timed(lambda: MPI.COMM_WORLD.Allreduce(MPI.IN_PLACE, raw), steps))
    out = {
        "rank": rank,
        "size": size,
        "step_s": statistics.median(step_times),
        "allreduce_s": statistics.median(comm_times),
        "bucket_flowgrad_s": flowgrad_25,
        "bucket_raw_s": raw_25,
    }
    dist.destroy_process_group()
    return out


def torch_side(rank: int, size: int, steps: int, port: int, queue: Any) -> None:
    """One rank of PyTorch's DDP (gloo) on the same step; rank 0 puts its median step time on the queue."""
    import torch
    import torch.distributed as tdist

    torch.set_num_threads(1)
    tdist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=size)
    torch.manual_seed(0)
    layers: list = []
    for a, b in zip(SIZES[:-1], SIZES[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers[:-1])
    model = torch.nn.parallel.DistributedDataParallel(net) if size > 1 else net
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(BATCH, SIZES[0], generator=gen), torch.randint(0, SIZES[-1], (BATCH,), generator=gen)
    local = BATCH // size
    xs, ys = x[rank * local : (rank + 1) * local], y[rank * local : (rank + 1) * local]

    def step() -> None:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(xs), ys).backward()
        opt.step()

    median = statistics.median(_timed(step, steps))
    if rank == 0:
        queue.put(median)
    tdist.destroy_process_group()


def torch_ddp(steps: int) -> dict:
    """PyTorch's step on 1 and on 2 gloo ranks (processes started with torch.multiprocessing)."""
    import socket

    import torch.multiprocessing as tmp

    times = {}
    for size in (1, 2):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        ctx = tmp.get_context("spawn")
        queue = ctx.Queue()
        procs = [ctx.Process(target=torch_side, args=(r, size, steps, port, queue)) for r in range(size)]
        for p in procs:
            p.start()
        times[size] = queue.get(timeout=600)
        for p in procs:
            p.join(timeout=60)
    return {"torch_one_s": times[1], "torch_ddp_s": times[2]}


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
    anchor: dict = {}
    if importlib.util.find_spec("torch") is not None:
        command = [sys.executable, "-m", "benchmarks.distributed_step", "--torch", "--steps", str(steps)]
        torch_run = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=900)
        if torch_run.returncode == 0:
            anchor = json.loads(torch_run.stdout.strip().splitlines()[-1])
    # Found anywhere: mpiexec forwards the ranks' output in chunks that may share a line.
    per_rank = [json.loads(found) for found in re.findall(r"\{[^{}]*\}", ranks.stdout)]
    step = max(r["step_s"] for r in per_rank)
    comm = max(r["allreduce_s"] for r in per_rank)
    bucket = max(r["bucket_flowgrad_s"] for r in per_rank)
    raw = max(r["bucket_raw_s"] for r in per_rank)
    case.update(one_process_step_s=one, ddp_step_s=step, allreduce_s=comm, cores=os.cpu_count(), **anchor)
    case.update(bucket_flowgrad_s=bucket, bucket_raw_mpi4py_s=raw)
    case["summary"] = [
        f"large MLP {SIZES}, global batch {BATCH}, SGD; {threads} thread(s) per process, {os.cpu_count()} cores",
        f"one process, whole batch: {one * 1e3:.1f} ms/step",
        f"2 ranks, DistributedDataParallel, 128 rows each: {step * 1e3:.1f} ms/step ({one / step:.2f}x one process's speed)",
        f"the gradients' allreduce alone (2 ranks, {sum(a * b + b for a, b in zip(SIZES[:-1], SIZES[1:])) * 4 / 1e6:.1f} MB): "
        f"{comm * 1e3:.1f} ms ({comm / step:.0%} of a DDP step, part of it overlapped with backward)",
        f"a 25 MB bucket: flowgrad all_reduce {bucket * 1e3:.1f} ms, raw mpi4py Allreduce {raw * 1e3:.1f} ms "
        f"({bucket / raw:.2f}x; target within 1.10x)",
    ]
    if anchor:
        case["summary"].append(
            f"PyTorch DDP (gloo), the same step: one process {anchor['torch_one_s'] * 1e3:.1f} ms, 2 ranks "
            f"{anchor['torch_ddp_s'] * 1e3:.1f} ms ({anchor['torch_one_s'] / anchor['torch_ddp_s']:.2f}x; flowgrad "
            f"{one / step:.2f}x; target: 1.7x and at least PyTorch's)"
        )
    return case


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.distributed_step", description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--one", action="store_true", help="time one process on the whole batch")
    parser.add_argument("--torch", action="store_true", help="time PyTorch's DDP (gloo) on 1 and 2 ranks")
    args = parser.parse_args(argv)
    if args.torch:
        print(json.dumps(torch_ddp(args.steps)))
    elif args.one:
        print(json.dumps({"step_s": one_process(args.steps)}))
    else:
        print(json.dumps(ranks_side(args.steps)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
