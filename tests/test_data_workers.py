"""DataLoader with worker processes: the same batches in the same order as num_workers=0, worker
info and seeding, errors and dead workers reported, timeouts, and no process left behind."""

import gc
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import flowgrad as fg
from flowgrad.data import ArrayDataset, BatchSampler, DataLoader, GeneratorDataset, RandomSampler, WorkerError

from .data_worker_helpers import FailsAt, Pid, ShardedRange, SleepsAt, Squares, WhoAmI, mark_worker

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads process states from /proc")


def running(pid: int) -> bool:
    """The process exists and is not a zombie waiting to be reaped."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def wait_gone(pids, seconds=5.0, reaped=True):
    """True once no pid is running (and, with reaped, none is even a zombie)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(os.path.exists(f"/proc/{p}") if reaped else running(p) for p in pids):
            return True
        time.sleep(0.02)
    return False


def worker_pids(iterator):
    return [p.pid for p in iterator._pool.procs]


def values(loader):
    """Every batch of one epoch as plain lists, to compare loaders."""
    out = []
    for batch in loader:
        fields = batch if isinstance(batch, list) else [batch]
        out.append([np.asarray(f).tolist() for f in fields])
    return out


# -- the same batches, in the same order ---------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        dict(num_workers=1),
        dict(num_workers=2),
        dict(num_workers=3, prefetch_factor=1),
        dict(num_workers=2, persistent_workers=True),
    ],
    ids=["1", "2", "3-prefetch1", "2-persistent"],
)
def test_workers_yield_the_batches_of_num_workers_0_in_order(options):
    def epochs(**kw):
        loader = DataLoader(Squares(23), batch_size=4, shuffle=True, generator=fg.Generator().manual_seed(7), **kw)
        return [values(loader) for _ in range(3)]  # three epochs: three different orders

    reference = epochs()
    assert reference[0] != reference[1]
    assert epochs(**options) == reference


def test_same_order_with_the_default_generator_seed_and_fast_path():
    for make in (
        lambda **kw: DataLoader(Squares(10), batch_size=3, shuffle=True, **kw),
        lambda **kw: DataLoader(ArrayDataset(np.arange(30.0).reshape(10, 3)), batch_size=4, shuffle=True, **kw),
        lambda **kw: DataLoader(Squares(10), batch_size=None, shuffle=True, seed=3, **kw),
        lambda **kw: DataLoader(Squares(10), batch_size=4, drop_last=True, collate_fn=lambda items: len(items), **kw),
    ):
        fg.manual_seed(0)
        reference = [values(make()), values(make())]
        after = fg.rand(3).tolist()
        fg.manual_seed(0)
        assert [values(make(num_workers=2)), values(make(num_workers=2))] == reference
        assert fg.rand(3).tolist() == after  # workers drew nothing from the main generator


def test_samplers_and_batch_samplers_with_workers():
    ds = Squares(11)
    sampler = RandomSampler(ds, generator=fg.Generator().manual_seed(1))
    reference = values(DataLoader(ds, batch_size=3, sampler=sampler))
    sampler.generator.manual_seed(1)
    assert values(DataLoader(ds, batch_size=3, sampler=sampler, num_workers=2)) == reference
    batches = [[10, 0], [3], [5, 6, 7]]
    loader = DataLoader(ds, batch_sampler=batches, num_workers=2)
    assert len(loader) == 3 and [b[0].ravel().tolist() for b in loader] == batches
    assert len(DataLoader(ds, batch_sampler=BatchSampler(range(11), 4, drop_last=True))) == 2


def test_samplers():
    g = fg.Generator().manual_seed(0)
    assert sorted(RandomSampler(range(5), generator=g)) == [0, 1, 2, 3, 4]
    drawn = list(RandomSampler(range(3), replacement=True, num_samples=20, generator=g))
    assert len(drawn) == 20 and set(drawn) <= {0, 1, 2}
    longer = list(RandomSampler(range(3), num_samples=7, generator=g))  # whole permutations in turn
    assert sorted(longer[:3]) == sorted(longer[3:6]) == [0, 1, 2] and len(longer) == 7
    assert len(BatchSampler(range(7), 3, drop_last=False)) == 3 and len(BatchSampler(range(7), 3, True)) == 2
    for make, words in [
        (lambda: BatchSampler(range(3), 0, False), "batch_size must be a positive integer"),
        (lambda: RandomSampler(range(3), num_samples=0), "num_samples"),
        (lambda: RandomSampler(range(3), generator=5), "generator"),
    ]:
        with pytest.raises((fg.DataError, fg.DTypeError), match=words):
            make()
    loader = DataLoader(Squares(5), batch_size=2, shuffle=True)
    assert isinstance(loader.sampler, RandomSampler) and isinstance(loader.batch_sampler, BatchSampler)


def test_tensors_cross_processes_as_arrays_without_their_graph():
    class WithGraph(fg.data.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            w = fg.ones(2, requires_grad=True)
            return (w * float(i)).sum(), {"label": i}

    x, y = next(iter(DataLoader(WithGraph(), batch_size=4, num_workers=2)))
    assert isinstance(x, fg.Tensor) and x.tolist() == [0.0, 2.0, 4.0, 6.0] and not x.requires_grad
    assert y["label"].tolist() == [0, 1, 2, 3]


# -- worker info, seeding, worker_init_fn -------------------------------------------------------------


def test_get_worker_info_seeds_and_worker_init_fn():
    assert fg.data.get_worker_info() is None
    fg.manual_seed(5)
    loader = DataLoader(WhoAmI(8), batch_size=None, num_workers=2, worker_init_fn=mark_worker)
    items = list(loader)
    assert [it["index"] for it in items] == list(range(8))
    assert {it["worker"] for it in items} == {0, 1} and {it["num_workers"] for it in items} == {2}
    assert all(it["same_dataset"] for it in items)  # info.dataset is the worker's own data set
    assert all(it["initialised"] == f"init {it['worker']}" for it in items)
    assert len({it["pid"] for it in items} | {os.getpid()}) == 3
    by_worker = {w: [it for it in items if it["worker"] == w] for w in (0, 1)}
    seeds = {w: its[0]["seed"] for w, its in by_worker.items()}
    assert seeds[1] == seeds[0] + 1  # base_seed + worker_id
    for source in ("python", "numpy", "flowgrad"):  # each worker's random numbers are its own
        assert by_worker[0][0][source] != by_worker[1][0][source]

    def draws(loader):
        return [(it["python"], it["numpy"], it["flowgrad"]) for it in loader]

    def run():  # a whole program: seed, make the loader, two epochs
        fg.manual_seed(5)
        loader = DataLoader(WhoAmI(8), batch_size=None, num_workers=2)
        return draws(loader), draws(loader)

    first = run()
    assert run() == first  # reproducible from fg.manual_seed
    assert first[0] != first[1]  # each epoch's random numbers are new, though nothing drew from the generator


# -- errors ---------------------------------------------------------------------------------------------


def test_a_worker_error_is_raised_with_its_type_traceback_and_worker():
    it = iter(DataLoader(FailsAt(10, bad=5), batch_size=2, num_workers=2))
    assert next(it).tolist() == [0.0, 1.0] and next(it).tolist() == [2.0, 3.0]
    with pytest.raises(ValueError, match="item 5 is corrupt") as info:
        next(it)
    text = str(info.value)
    assert "DataLoader worker 0" in text and "Traceback" in text and "__getitem__" in text
    assert "data_worker_helpers.py" in text
    assert next(it).tolist() == [6.0, 7.0]  # the loader goes on, as PyTorch's does


def test_errors_of_unknown_types_and_unsendable_batches():
    class LocalError(Exception):
        def __init__(self, a, b):
            super().__init__(a, b)

    def bad_init(worker_id):
        raise LocalError(1, 2)

    with pytest.raises(WorkerError, match="LocalError in DataLoader worker .* in worker_init_fn"):
        list(DataLoader(Squares(4), num_workers=1, worker_init_fn=bad_init))
    with pytest.raises(AttributeError, match="while sending batch 0 to the main process: Can't"):
        list(DataLoader(Squares(4), num_workers=1, collate_fn=lambda items: lambda: items))


def test_a_killed_worker_is_reported_not_waited_for():
    it = iter(DataLoader(SleepsAt(20, slow=6, seconds=30), batch_size=2, num_workers=2))
    next(it)
    pids = worker_pids(it)
    os.kill(pids[1], signal.SIGKILL)
    start = time.monotonic()
    with pytest.raises(WorkerError, match=r"worker 1 \(pid \d+\) exited unexpectedly \(killed by signal SIGKILL\)"):
        list(it)
    assert time.monotonic() - start < 10  # not the 30 s sleep
    assert wait_gone(pids)  # the other worker was stopped and reaped too


def test_timeout_on_a_slow_batch():
    loader = DataLoader(SleepsAt(8, slow=4, seconds=5), batch_size=2, num_workers=2, timeout=0.3)
    it = iter(loader)
    assert next(it).tolist() == [0.0, 1.0]
    next(it)
    start = time.monotonic()
    with pytest.raises(WorkerError, match=r"timed out after 0.3 s .* batch 2 from worker 0"):
        next(it)
    assert 0.25 < time.monotonic() - start < 4
    pids = worker_pids(it)
    del it
    assert wait_gone(pids)


# -- shutdown: nothing left behind ---------------------------------------------------------------------------


def test_workers_stop_at_the_end_on_break_and_on_gc():
    loader = DataLoader(Pid(), batch_size=10, num_workers=2)
    it = iter(loader)
    seen = {int(v) for b in it for v in b.tolist()}
    assert len(seen) == 2 and wait_gone(seen)  # end of the epoch

    for batch in loader:
        pids = {int(v) for v in batch.tolist()}
        break
    assert wait_gone(pids)  # break: the iterator is dropped at once

    it = iter(loader)
    next(it)
    pids = worker_pids(it)
    it.self_reference = it  # only the cycle collector can free it
    del it
    gc.collect()
    assert wait_gone(pids)


def test_persistent_workers_stay_for_the_next_epoch_and_stop_with_the_loader():
    def make(g, **kw):
        return DataLoader(Squares(15), batch_size=2, shuffle=True, generator=g, **kw)

    loader = make(fg.Generator().manual_seed(2), num_workers=2, persistent_workers=True)
    it = iter(loader)
    next(it)
    pids = worker_pids(it)
    del it  # an epoch broken off: its batches still in flight must not leak into the next one
    second = values(loader)
    assert worker_pids(iter(loader)) == pids and all(running(p) for p in pids)
    reference = make(fg.Generator().manual_seed(2))
    iter(reference)
    assert second == values(reference)
    first, second = iter(loader), iter(loader)  # one pool, one epoch at a time: the older iterator says so
    assert next(second)[0].shape == (2, 1)
    with pytest.raises(WorkerError, match="newer epoch"):
        next(first)
    del loader, first, second
    gc.collect()
    assert wait_gone(pids)


@pytest.mark.parametrize("how", ["exit", "SIGKILL"])
def test_no_worker_outlives_the_main_process(how, tmp_path):
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(ROOT)!r})
        import flowgrad as fg
        from tests.data_worker_helpers import SleepsAt
        persistent = fg.data.DataLoader(SleepsAt(10, 9, 0), batch_size=2, num_workers=2, persistent_workers=True)
        list(persistent)
        busy = iter(fg.data.DataLoader(SleepsAt(40, 7, 1.0), batch_size=2, num_workers=2))
        next(busy)
        pids = [p.pid for p in persistent._pool.procs] + [p.pid for p in busy._pool.procs]
        print(*pids, flush=True)
        if {how!r} == "SIGKILL":
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    out = tmp_path / "pids.txt"
    with open(out, "w") as f:  # not a pipe: orphaned workers would hold it open
        code = subprocess.run([sys.executable, "-c", script], stdout=f, stderr=subprocess.STDOUT, timeout=60).returncode
    text = out.read_text()
    pids = [int(p) for p in text.split()[:4]]
    assert len(pids) == 4, text
    if how == "exit":
        assert code == 0, text
        assert wait_gone(pids)  # stopped and reaped by the exiting process
    else:
        assert code == -signal.SIGKILL
        # Orphans notice between batches (the busy one after its 1 s item) and exit; the system reaps them.
        assert wait_gone(pids, seconds=10, reaped=False)


# -- iterable data sets, spawn, arguments ---------------------------------------------------------------------


def test_iterable_datasets_in_workers_shard_with_get_worker_info():
    loader = DataLoader(ShardedRange(11), batch_size=2, num_workers=3)
    batches = [b.tolist() for b in loader]
    assert sorted(v for b in batches for v in b) == list(range(11))
    assert batches[:3] == [[0, 3], [1, 4], [2, 5]]  # the workers take turns
    # drop_last drops each worker's short last batch; unsharded pipelines repeat in every worker
    assert all(len(b) == 2 for b in DataLoader(ShardedRange(11), batch_size=2, drop_last=True, num_workers=3))
    pipeline = GeneratorDataset([(np.float32(i),) for i in range(5)], column_names=["x"])
    assert sorted(v for (b,) in DataLoader(pipeline, batch_size=5, num_workers=2) for v in b.tolist()) == [
        0.0,
        0.0,
        1.0,
        1.0,
        2.0,
        2.0,
        3.0,
        3.0,
        4.0,
        4.0,
    ]


def test_spawn_context_with_an_importable_dataset():
    loader = DataLoader(ShardedRange(7), batch_size=2, num_workers=2, multiprocessing_context="spawn")
    assert sorted(v for b in loader for v in b.tolist()) == list(range(7))
    assert loader.multiprocessing_context.get_start_method() == "spawn"


def test_argument_checks_and_pin_memory():
    ds = Squares(4)
    for kwargs, words in [
        (dict(prefetch_factor=2), "prefetch_factor applies only to worker processes"),
        (dict(persistent_workers=True), "persistent_workers=True needs num_workers > 0"),
        (dict(num_workers=-1), "num_workers must be an integer >= 0"),
        (dict(num_workers=1, prefetch_factor=0), "prefetch_factor"),
        (dict(timeout=-1), "timeout must be"),
        (dict(multiprocessing_context="fork"), "applies only to worker processes"),
        (dict(num_workers=1, multiprocessing_context="teleport"), "must be one of"),
        (dict(num_workers=1, worker_init_fn=3), "worker_init_fn must be a function"),
        (dict(shuffle=True, sampler=[0, 1]), "sampler= and shuffle=True"),
        (dict(batch_sampler=[[0]], batch_size=2), "batch_sampler="),
        (dict(batch_size=None, drop_last=True), "batch_size=None"),
        (dict(seed=1, generator=fg.Generator()), "seed= or generator="),
        (dict(sampler=3), "sampler must be an iterable"),
    ]:
        with pytest.raises(fg.DataError, match=words.replace("(", r"\(").replace("+", r"\+")):
            DataLoader(ds, **kwargs)
    with pytest.raises(fg.DataError, match="sampler= must be None"):
        DataLoader(ShardedRange(3), sampler=[0])
    loader = DataLoader(ds, batch_size=2, pin_memory=True, num_workers=1)
    assert loader.prefetch_factor == 2 and DataLoader(ds).prefetch_factor is None
    assert values(loader) == values(DataLoader(ds, batch_size=2))  # pin_memory changes nothing on the CPU


def test_the_benchmark_runs_and_prints_ratios():
    command = [sys.executable, "-m", "benchmarks.loader_workers", "--items", "64", "--delay", "0", "--rounds", "1"]
    proc = subprocess.run([*command, "--workers", "0,1"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "logical cores" in proc.stdout and "num_workers=1, persistent" in proc.stdout and "x" in proc.stdout
