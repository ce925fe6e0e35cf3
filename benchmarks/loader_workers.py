"""DataLoader worker processes against reading in the main process: ``python -m benchmarks.loader_workers``.

The data set's ``__getitem__`` sleeps (2 ms by default), as reading a file or decoding an image
waits: workers overlap those waits. Each setting reads whole epochs, interleaved in rounds with
the others; the report gives the median epoch time and its ratio to ``num_workers=0`` from the
same run, with the CPU it ran on. A fresh pool per epoch includes starting the workers (fork);
``persistent_workers=True`` starts them once.

    python -m benchmarks.loader_workers                  # 512 items, batch 32, 5 rounds
    python -m benchmarks.loader_workers --delay 0.005 --workers 0,2,4,8
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import flowgrad as fg

from .__main__ import machine


class SlowItems(fg.data.Dataset):
    """Item i is a small float32 image and its label, after `delay` seconds of waiting."""

    def __init__(self, n: int, delay: float) -> None:
        self.n, self.delay = n, delay

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        time.sleep(self.delay)
        return np.full((3, 8, 8), i, np.float32), i % 10


def epoch_time(loader: fg.data.DataLoader) -> float:
    start = time.perf_counter()
    count = sum(len(y) for _, y in loader)
    elapsed = time.perf_counter() - start
    assert count == len(loader.dataset)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.loader_workers", description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--delay", type=float, default=0.002, help="seconds each __getitem__ sleeps")
    parser.add_argument("--workers", default="0,2,4", help="comma-separated num_workers values (0 is the baseline)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    ds = SlowItems(args.items, args.delay)
    settings: dict[str, fg.data.DataLoader] = {}
    for n in sorted({0, *(int(w) for w in args.workers.split(","))}):
        settings[f"num_workers={n}"] = fg.data.DataLoader(ds, batch_size=args.batch_size, shuffle=True, num_workers=n)
        if n:
            settings[f"num_workers={n}, persistent"] = fg.data.DataLoader(
                ds, batch_size=args.batch_size, shuffle=True, num_workers=n, persistent_workers=True
            )
    for loader in settings.values():  # warm-up: imports, caches, persistent pools started
        epoch_time(loader)
    times: dict[str, list[float]] = {name: [] for name in settings}
    for _ in range(args.rounds):
        for name, loader in settings.items():
            times[name].append(epoch_time(loader))

    m = machine()
    print(
        f"{m['cpu']}, {m['logical_cores']} logical cores; python {m['versions']['python']}, numpy {m['versions']['numpy']}"
    )
    print(
        f"{args.items} items, batch {args.batch_size}, __getitem__ sleeps {args.delay * 1e3:g} ms "
        f"(floor for one process: {args.items * args.delay:.3f} s per epoch); median of {args.rounds} rounds"
    )
    base = statistics.median(times["num_workers=0"])
    print(f"{'setting':<28}{'epoch (s)':>10}{'speed-up':>10}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<28}{median:>10.3f}{base / median:>9.2f}x")


if __name__ == "__main__":
    main()
