"""One contender on one problem, in a process of its own: ``python -m benchmarks.worker``.

The orchestrator starts it with the thread variables already in its environment; it pins
itself to that many cores before importing NumPy, sets the problem up and reports on a private
pipe (its stdout is redirected to stderr, so nothing a library prints can garble the protocol).

Modes:
  timed       check the losses of the first two steps, warm up, choose the steps per block,
              report ``ready``; then answer each ``block`` line on stdin with that block's time
              (and with ``--gemm n`` each ``gemm`` line with the time of one n x n matmul)
  depth       a few steps of a (very) deep problem: seconds per step, and whether it worked
  peak-rss    ``--steps`` steps, then the peak resident set size (ru_maxrss)
  rss-growth  warm up, then the growth of the resident set over ``--steps`` steps
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import resource
import sys
import time


def _pin(threads: int) -> None:
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, cpus[:threads])


def _run(step, batches: list, n: int):
    loss = None
    for x, y in itertools.islice(itertools.cycle(batches), n):
        loss = step(x, y)
    wait = getattr(loss, "block_until_ready", None)  # JAX dispatches asynchronously
    if wait is not None:
        wait()
    return loss


def _timed(step, batches: list, n: int) -> float:
    t0 = time.perf_counter()
    _run(step, batches, n)
    return time.perf_counter() - t0


def _as_float(loss) -> float:
    return float(loss.item() if hasattr(loss, "item") else loss)


def _rss_mb() -> float:
    """The current resident set size, in MB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_rss_mb() -> float:
    """The peak resident set size of this process, in MB.

    On Linux ``ru_maxrss`` survives ``exec``: a child started from a big parent reports at
    least the parent's size. VmHWM is the high-water mark of this program's own memory.
    """
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


class Gemm:
    """A float32 ``np.matmul`` of two n x n matrices, timed: the BLAS peak at this thread count."""

    def __init__(self, n: int) -> None:
        import numpy as np

        rng = np.random.default_rng(0)
        self.a, self.b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
        self.c = np.matmul(self.a, self.b)
        self.matmul = np.matmul

    def __call__(self) -> float:
        t0 = time.perf_counter()
        self.matmul(self.a, self.b, out=self.c)
        return time.perf_counter() - t0


def _timed_mode(args: argparse.Namespace, setup, send) -> None:
    step, batches = setup.step, setup.batches
    losses = [_as_float(step(*batches[i % len(batches)])) for i in range(2)]
    t0, warm_steps = time.perf_counter(), 0
    while warm_steps < 5 or time.perf_counter() - t0 < args.warmup:
        _run(step, batches, 1 + warm_steps // 4)
        warm_steps += 1 + warm_steps // 4
    n = 1
    while (t := _timed(step, batches, n)) < args.block / 4:
        n *= 2
    steps_per_block = max(1, round(n * args.block / t))
    gemm = Gemm(args.gemm) if args.gemm else None
    send(ready=True, losses=losses, steps_per_block=steps_per_block, versions=setup.versions)
    for line in sys.stdin:
        command = line.strip()
        if command == "block":
            send(t=_timed(step, batches, steps_per_block))
        elif command == "gemm" and gemm is not None:
            send(t=gemm())
        else:
            break


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("timed", "depth", "peak-rss", "rss-growth"), default="timed")
    parser.add_argument("--problem", required=True, help="a problem saved by benchmarks.problems")
    parser.add_argument("--contender", required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--warmup", type=float, default=0.3, help="seconds of warm-up")
    parser.add_argument("--block", type=float, default=0.2, help="seconds per timed block")
    parser.add_argument("--gemm", type=int, default=0, help="also answer 'gemm': an n x n float32 matmul, timed")
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()

    _pin(args.threads)
    channel = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)

    def send(**message: object) -> None:
        channel.write(json.dumps(message) + "\n")
        channel.flush()

    from .contenders import load
    from .problems import Problem

    problem = Problem.load(args.problem)
    setup = load(args.contender).setup(problem, args.threads)
    if args.mode == "timed":
        _timed_mode(args, setup, send)
    elif args.mode == "depth":
        times = [_timed(setup.step, setup.batches, 1) for _ in range(args.steps)]
        loss = _as_float(setup.step(*setup.batches[0]))
        send(seconds_per_step=sorted(times)[len(times) // 2], loss=loss, ok=math.isfinite(loss))
    elif args.mode == "peak-rss":
        before = _rss_mb()
        _run(setup.step, setup.batches, args.steps)
        send(peak_rss_mb=_peak_rss_mb(), rss_before_steps_mb=before)
    else:
        _run(setup.step, setup.batches, 200)
        before = _rss_mb()
        _run(setup.step, setup.batches, args.steps)
        after = _rss_mb()
        send(rss_before_mb=before, rss_after_mb=after, growth_mb=after - before)


if __name__ == "__main__":
    main()
