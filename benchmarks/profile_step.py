"""Where a contender's step spends its time: ``python -m benchmarks.profile_step tiny flowgrad``.

Runs the case's step under cProfile (after a warm-up) and prints the functions with the most
time of their own. cProfile's own overhead inflates Python-heavy code, so read shares, not
absolute times.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import tempfile

from . import problems
from .contenders import CONTENDERS, load
from .worker import _run


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_step", description=__doc__.splitlines()[0])
    parser.add_argument("case", choices=list(problems.TIMED))
    parser.add_argument("contender", choices=list(CONTENDERS), nargs="?", default="flowgrad")
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="tottime", help="a pstats sort key: tottime, cumulative, ...")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as workdir:  # the same saved problem the benchmark times
        path = os.path.join(workdir, f"{args.case}.npz")
        problems.TIMED[args.case]().save(path)
        setup = load(args.contender).setup(problems.Problem.load(path), threads=1)
    _run(setup.step, setup.batches, max(10, args.steps // 10))
    profiler = cProfile.Profile()
    profiler.runcall(_run, setup.step, setup.batches, args.steps)
    stats = pstats.Stats(profiler)
    print(
        f"{args.contender} on {args.case}: {args.steps} steps, {stats.total_tt / args.steps * 1e6:.1f} µs per step under cProfile"
    )
    stats.strip_dirs().sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
