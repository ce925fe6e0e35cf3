"""Each GEMM of one ``large`` training step, alone: ``python -m benchmarks.gemm_shapes``.

Times every matrix product a step of the 784-1024-1024-10 MLP (batch 256) makes, with the
operands laid out as flowgrad passes them (weights (out, in), transposes as views, so BLAS
gets a transpose flag, not a copy), in NumPy and in ``torch.mm``; then whole steps of hand
NumPy, flowgrad eager and PyTorch eager, interleaved. The sum of the GEMMs is the floor a
step can reach; the rest of a step is what surrounds the BLAS. Medians of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time


def _median_time(fn, repeats: int, inner: int = 5) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - t) / inner)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gemm_shapes", description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args()
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(args.threads)
    import numpy as np
    import torch

    from . import problems
    from .contenders import load

    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    b, sizes = 256, (784, 1024, 1024, 10)
    acts = [rng.standard_normal((b, s)).astype(np.float32) for s in sizes]
    weights = [rng.standard_normal((o, i)).astype(np.float32) for i, o in zip(sizes[:-1], sizes[1:])]
    products = []
    for k, w in enumerate(weights):
        products.append((f"forward {k + 1}: x ({b}, {w.shape[1]}) @ W.T", acts[k], w.T))
    for k in reversed(range(3)):
        w = weights[k]
        products.append((f"backward {k + 1}: W grad g.T ({w.shape[0]}, {b}) @ x", acts[k + 1].T, acts[k]))
        if k:
            products.append((f"backward {k + 1}: x grad g ({b}, {w.shape[0]}) @ W", acts[k + 1], w))
    print(f"{'product':44s} {'NumPy':>10s} {'torch.mm':>10s} {'GFLOP/s NumPy':>14s}")
    calls = []
    for label, a, c in products:
        ta = torch.from_numpy(a) if a.flags.c_contiguous else torch.from_numpy(a.T).T
        tc = torch.from_numpy(c) if c.flags.c_contiguous else torch.from_numpy(c.T).T
        calls.append(
            (label, 2 * a.shape[0] * a.shape[1] * c.shape[1], lambda a=a, c=c: a @ c, lambda a=ta, c=tc: torch.mm(a, c))
        )
    samples: dict = {label: ([], []) for label, *_ in calls}
    for _ in range(args.repeats):  # interleaved rounds, as the steps below
        for label, _, np_fn, torch_fn in calls:
            samples[label][0].append(_median_time(np_fn, 1, 3))
            samples[label][1].append(_median_time(torch_fn, 1, 3))
    total_np = total_torch = 0.0
    for label, flops, *_ in calls:
        t_np, t_torch = statistics.median(samples[label][0]), statistics.median(samples[label][1])
        total_np, total_torch = total_np + t_np, total_torch + t_torch
        print(f"{label:44s} {t_np * 1e3:8.2f}ms {t_torch * 1e3:8.2f}ms {flops / t_np / 1e9:14.1f}")
    print(f"{'all GEMMs of a step':44s} {total_np * 1e3:8.2f}ms {total_torch * 1e3:8.2f}ms")
    with tempfile.TemporaryDirectory() as workdir:
        path = os.path.join(workdir, "large.npz")
        problems.large().save(path)
        problem = problems.Problem.load(path)
        setups = {name: load(name).setup(problem, args.threads) for name in ("numpy", "flowgrad", "torch")}
    times: dict = {name: [] for name in setups}
    for _ in range(args.repeats):  # interleaved: a slow spell of a shared machine hits all three
        for name, s in setups.items():
            times[name].append(_median_time(lambda s=s: s.step(*s.batches[0]), 1, 3))
    for name, ts in times.items():
        t = statistics.median(ts)
        print(f"step, {name:10s} {t * 1e3:8.2f}ms  ({(t - total_np) * 1e3:+.2f}ms beyond NumPy's GEMMs)")


if __name__ == "__main__":
    main()
