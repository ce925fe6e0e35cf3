"""flowgrad.distributed, DistributedDataParallel and DistributedSampler.

The multi-process tests start `mpiexec -n N` (the mpich wheel's launcher, from `pip install
flowgrad[mpi]`) on tests/distributed_jobs.py, on loopback only, and skip without mpi4py or
mpiexec. 4 ranks oversubscribe a 2-core machine: fine for correctness, each job takes seconds.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import flowgrad as fg
from flowgrad.data.distributed_sampler import partition
from flowgrad.distributed import DistributedError

ROOT = Path(__file__).resolve().parent.parent
JOBS = ROOT / "tests" / "distributed_jobs.py"


def _mpiexec() -> str | None:
    beside = Path(sys.executable).parent / "mpiexec"  # the mpich wheel installs it beside python
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def _run_job(case: str, n: int, timeout: float = 60) -> subprocess.CompletedProcess:
    pytest.importorskip("mpi4py")
    mpiexec = _mpiexec()
    if mpiexec is None:
        pytest.skip("no mpiexec (pip install flowgrad[mpi])")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")  # N ranks on 2 cores
    return subprocess.run(
        [mpiexec, "-n", str(n), sys.executable, str(JOBS), case],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
    )


def _assert_ok(done: subprocess.CompletedProcess, case: str, n: int) -> None:
    assert done.returncode == 0, done.stdout + done.stderr
    # found anywhere: mpiexec forwards the ranks' output in chunks that may share a line
    assert sorted(int(r) for r in re.findall(rf"ok {case} rank (\d+)", done.stdout)) == list(range(n)), done.stdout


@pytest.mark.parametrize("n", [2, 4])
def test_collectives_on_n_ranks(n):
    _assert_ok(_run_job("collectives", n), "collectives", n)


@pytest.mark.numeric
@pytest.mark.parametrize("n", [2, 4])
def test_ddp_training_equals_one_process_on_the_global_batch(n):
    # 50 SGD steps with a DistributedSampler, then 3 accumulated steps with no_sync: float64
    # weights agree with one process on the full batches to rtol 1e-12 and are bit-identical across
    # ranks (checked inside the job, on every rank).
    _assert_ok(_run_job("ddp_training", n), "ddp_training", n)


@pytest.mark.parametrize("n", [2, 4])
def test_ddp_buckets_start_during_backward_and_average_exactly(n):
    _assert_ok(_run_job("ddp_overlap", n), "ddp_overlap", n)


def test_post_accumulate_grad_hook_runs_after_each_backward_and_can_be_removed():
    w = fg.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
    (w * 3).sum().backward()
    (w * w).sum().backward()  # accumulated: the hook sees the sum
    assert seen == [[3.0, 3.0], [5.0, 7.0]]
    handle.remove()
    (w * 3).sum().backward()
    assert len(seen) == 2
    with pytest.raises(fg.FlowgradError, match="only a leaf tensor"):
        (w * 2).register_post_accumulate_grad_hook(print)


def test_post_accumulate_grad_hook_waits_for_the_last_of_several_roots():
    # fg.autograd.backward over several roots is one backward (as PyTorch's single pass): each
    # leaf's hook runs once, after every root has added its part, and not at all if a root fails.
    w = fg.tensor([1.0, 2.0], requires_grad=True)
    v = fg.tensor([1.0], requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda t: seen.append(("w", t.grad.tolist())))
    v.register_post_accumulate_grad_hook(lambda t: seen.append(("v", t.grad.tolist())))
    fg.autograd.backward([(w * 3).sum(), (w * w).sum() + v.sum()])
    assert seen == [("w", [5.0, 7.0]), ("v", [1.0])]
    seen.clear()

    class Fails(fg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            raise RuntimeError("fails on purpose")

    with pytest.raises(RuntimeError, match="fails on purpose"):
        fg.autograd.backward([(w * 3).sum(), Fails.apply(w).sum()])
    assert seen == []
    (w * 1).sum().backward()  # hooks run again on the next pass
    assert [name for name, _ in seen] == ["w"]


@pytest.mark.numeric
@pytest.mark.parametrize("n", [2, 4])
def test_model_fit_on_n_ranks_equals_one_process(n):
    # Model.fit with shuffling, momentum and a metric: losses, metrics and float64 weights agree
    # with one process on the same global batches to rtol 1e-12 and are bit-identical across ranks
    # (checked inside the job, on every rank).
    _assert_ok(_run_job("fit", n), "fit", n)


def test_only_rank_zero_writes_files_and_the_progress_bar():
    from flowgrad.train import distributed_fit

    writers = [fg.callbacks.ProgressBar(), fg.callbacks.CSVLogger("log.csv"), fg.callbacks.ModelCheckpoint("c")]
    others = [fg.callbacks.EarlyStopping(monitor="loss"), fg.callbacks.TerminateOnNaN()]
    assert distributed_fit.rank_callbacks(writers + others, 0) == writers + others
    assert distributed_fit.rank_callbacks(writers + others, 3) == others
    assert distributed_fit.process_group() is None  # no group here: fit takes its one-process path


@pytest.mark.parametrize("n", [2, 4])
def test_ddp_missing_gradients_buffers_state_dict_and_a_differing_model(n):
    _assert_ok(_run_job("ddp_edges", n), "ddp_edges", n)


@pytest.mark.parametrize("case", ["raises", "killed"])
def test_a_failing_rank_ends_the_job(case):
    # Rank 1 raises (or is killed) while rank 0 waits in an allreduce: the job must end, non-zero,
    # well within the timeout (a hang would raise TimeoutExpired), naming the rank.
    done = _run_job(case, 2, timeout=120)  # generous for a loaded machine; a hang would take for ever
    assert done.returncode != 0
    assert "ok " not in done.stdout
    if case == "raises":
        assert "rank 1 of 2 raised RuntimeError: boom on purpose; aborting all ranks" in done.stderr, done.stderr
    else:
        assert "BAD TERMINATION" in done.stdout + done.stderr


def test_ddp_buckets_start_before_backward_reaches_the_first_layer():
    _assert_ok(_run_job("ddp_starts_before_the_first_layer", 2), "ddp_starts_before_the_first_layer", 2)


@pytest.mark.parametrize("n", [2, 4])
def test_ddp_several_roots_and_a_failed_backward_still_average(n):
    _assert_ok(_run_job("ddp_backward_forms", n), "ddp_backward_forms", n)


@pytest.mark.parametrize("n", [2, 4])
def test_groups_from_new_group(n):
    _assert_ok(_run_job("groups", n), "groups", n)


def test_a_collective_call_past_the_timeout_aborts_the_job():
    # Rank 1 sleeps 60 s (alive, so the launcher sees nothing wrong); rank 0 gives up after
    # init_process_group's 3 s and aborts the job, well within the 30 s the test allows.
    done = _run_job("timeout", 2, timeout=30)
    assert done.returncode != 0
    assert "ok " not in done.stdout
    assert "rank 0 of 2 waited more than 3 s in all_reduce" in done.stderr, done.stderr


def test_timeout_must_be_a_duration():
    import flowgrad.distributed as dist

    for bad in (-1, 0, "3s", True):
        with pytest.raises(fg.ArgumentError, match="timeout must be a datetime.timedelta or seconds > 0"):
            dist.init_process_group(timeout=bad)  # refused before MPI is touched
    assert not dist.is_initialized()


# ----- without MPI, in this process ------------------------------------------------------------------------
def test_missing_mpi4py_gives_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # import mpi4py now raises ImportError
    with pytest.raises(DistributedError, match=r"pip install flowgrad\[mpi\].*mpiexec -n N"):
        fg.distributed.init_process_group()
    assert not fg.distributed.is_initialized()


def test_calls_before_init_process_group_are_clear_errors():
    assert not fg.distributed.is_initialized()
    for call in (fg.distributed.get_rank, fg.distributed.get_world_size, fg.distributed.barrier):
        with pytest.raises(DistributedError, match="init_process_group"):
            call()
    with pytest.raises(DistributedError, match="init_process_group"):
        fg.distributed.all_reduce(fg.ones(2))
    with pytest.raises(DistributedError, match="init_process_group"):
        fg.nn.parallel.DistributedDataParallel(fg.nn.Linear(2, 1))
    with pytest.raises(DistributedError, match="init_process_group"):
        fg.data.DistributedSampler(range(4))
    with pytest.raises(fg.ArgumentError, match="backend must be 'mpi'"):
        fg.distributed.init_process_group("nccl")


def test_import_flowgrad_does_not_load_distributed_or_mpi():
    code = "import sys, flowgrad as fg; fg.nn; fg.data; print('flowgrad.distributed' in sys.modules, 'mpi4py' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.split() == ["False", "False"]


# ----- DistributedSampler: PyTorch's partition rules -------------------------------------------------------
CASES = [(n, r, d) for n in (0, 1, 2, 3, 5, 7, 10, 16) for r in (1, 2, 3, 4, 8) for d in (False, True)]


@pytest.mark.parametrize("n,replicas,drop_last", CASES)
def test_sampler_shares_are_equal_and_cover_the_data(n, replicas, drop_last):
    shares = [
        list(fg.data.DistributedSampler(range(n), num_replicas=replicas, rank=r, shuffle=True, drop_last=drop_last))
        for r in range(replicas)
    ]
    lengths = {len(s) for s in shares}
    assert len(lengths) == 1 and lengths == {
        len(fg.data.DistributedSampler(range(n), replicas, 0, drop_last=drop_last))
    }
    seen = [i for s in shares for i in s]
    if drop_last:
        assert len(seen) == len(set(seen)) and len(seen) == (n // replicas) * replicas
    else:
        assert set(seen) == set(range(n)) and len(seen) == -(-n // replicas) * replicas


@pytest.mark.parametrize("n,replicas,drop_last", CASES)
def test_sampler_partition_matches_pytorch(n, replicas, drop_last):
    torch = pytest.importorskip("torch")
    from torch.utils.data import DistributedSampler as TorchSampler

    for rank in range(replicas):
        ours = fg.data.DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = TorchSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
        # shuffled: torch's own permutation (seed + epoch), put through our partition rules
        theirs = TorchSampler(range(n), replicas, rank, shuffle=True, seed=3, drop_last=drop_last)
        theirs.set_epoch(2)
        order = torch.randperm(n, generator=torch.Generator().manual_seed(5)).tolist() if n else []
        assert partition(order, replicas, rank, drop_last) == list(theirs)


def test_sampler_epochs_seeds_and_errors():
    s = fg.data.DistributedSampler(range(20), num_replicas=2, rank=0, seed=1)
    first = list(s)
    assert list(s) == first  # the same epoch, the same order
    s.set_epoch(1)
    assert list(s) != first and sorted(s.order()) == list(range(20))
    other = fg.data.DistributedSampler(range(20), num_replicas=2, rank=1, seed=1)
    other.set_epoch(1)
    assert set(s).isdisjoint(other)
    with pytest.raises(fg.DataError, match="rank must be an integer from 0 to 1"):
        fg.data.DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(fg.DataError, match="num_replicas must be a positive integer"):
        fg.data.DistributedSampler(range(4), num_replicas=0, rank=0)
    with pytest.raises(fg.DataError, match="set_epoch"):
        s.set_epoch(-1)
    loader = fg.data.DataLoader(fg.data.ArrayDataset(np.arange(20.0)), batch_size=2, sampler=s)
    assert sum(len(b) for (b,) in loader) == 10


def test_ddp_bucket_layout():
    from flowgrad.nn.parallel import _make_buckets

    params = [fg.zeros(1000), fg.zeros(1000), fg.zeros(10, dtype=fg.float64), fg.zeros(3000)]
    buckets = _make_buckets(params, cap_bytes=8000)  # float32: 4000 bytes each
    assert [len(b.params) for b in buckets] == [2, 1, 1]  # split by size, then by dtype
    assert [b.flat.dtype for b in buckets] == [np.float32, np.float64, np.float32]


def _flowgrad_train(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    pytest.importorskip("mpi4py")
    if _mpiexec() is None:
        pytest.skip("no mpiexec (pip install flowgrad[mpi])")
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    command = [sys.executable, "-m", "flowgrad", "train", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


def _weights(folder: Path) -> dict:
    return {k: v.numpy() for k, v in fg.load(folder / "checkpoint.safetensors")["model"].items()}


def test_cli_train_on_two_ranks_equals_one_process_and_resumes_on_another_count(tmp_path):
    one = _flowgrad_train("--epochs", "3", "--runs-dir", str(tmp_path / "one"))
    assert one.returncode == 0, one.stderr
    two = _flowgrad_train("--nproc", "2", "--epochs", "2", "--runs-dir", str(tmp_path / "two"))
    assert two.returncode == 0, two.stderr
    assert two.stdout.count("flowgrad train: digits-mlp") == 1  # rank 0 speaks for the run
    resumed = _flowgrad_train("--resume", str(tmp_path / "two" / "digits-mlp"), "--epochs", "3", "--nproc", "2")
    assert resumed.returncode == 0, resumed.stderr
    folder_one, folder_two = tmp_path / "one" / "digits-mlp", tmp_path / "two" / "digits-mlp"
    expected, got = _weights(folder_one), _weights(folder_two)
    for key in expected:
        # float32 weights: the same sums in another order (each rank's part, then across ranks)
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-4, atol=1e-5, err_msg=key)
    rows = [(folder / "metrics.csv").read_text().splitlines() for folder in (folder_one, folder_two)]
    assert len(rows[0]) == len(rows[1]) == 4  # a header and one row per epoch, written once
    assert sorted(p.name for p in folder_two.iterdir()) == sorted(p.name for p in folder_one.iterdir())


@pytest.mark.parametrize("n", [2, 4])
def test_cli_float64_run_on_n_ranks_equals_one_process_to_rounding(n, tmp_path):
    # Not marked numeric: both runs share the process's kernels, and the job takes seconds.
    config = tmp_path / "job.toml"
    config.write_text('[model]\ndtype = "float64"\n[train]\nepochs = 2\n')  # 2 x 45 steps of 32
    one = _flowgrad_train(str(config), "--runs-dir", str(tmp_path / "one"))
    assert one.returncode == 0, one.stderr
    many = _flowgrad_train(str(config), "--nproc", str(n), "--runs-dir", str(tmp_path / "many"))
    assert many.returncode == 0, many.stderr
    expected, got = _weights(tmp_path / "one" / "digits-mlp"), _weights(tmp_path / "many" / "digits-mlp")
    for key in expected:
        assert got[key].dtype == np.float64
        # rtol 1e-12: the same sums in another order (each rank's part, then across ranks), float64
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-12, atol=1e-14, err_msg=key)


def test_cli_refusal_on_rank_zero_ends_every_rank(tmp_path):
    first = _flowgrad_train("--nproc", "2", "--epochs", "1", "--runs-dir", str(tmp_path))
    assert first.returncode == 0, first.stderr
    again = _flowgrad_train("--nproc", "2", "--epochs", "1", "--runs-dir", str(tmp_path), timeout=60)
    assert again.returncode == 2 and "already holds a run" in again.stderr  # and no rank left waiting


def test_cli_nproc_needs_a_positive_count_and_says_how_to_get_mpiexec(tmp_path, monkeypatch, capsys):
    from flowgrad.cli import main, ranks

    assert main(["train", "--nproc", "0", "--runs-dir", str(tmp_path)]) == 2
    assert "--nproc must be at least 1" in capsys.readouterr().err
    monkeypatch.setattr(ranks.shutil, "which", lambda name: None)
    monkeypatch.setattr(ranks.sys, "executable", str(tmp_path / "python"))
    assert main(["train", "--nproc", "2", "--runs-dir", str(tmp_path)]) == 2
    assert "pip install flowgrad[mpi]" in capsys.readouterr().err


def test_killing_a_rank_mid_training_ends_the_job_and_the_last_checkpoint_loads(tmp_path):
    import signal
    import time

    pytest.importorskip("mpi4py")
    if _mpiexec() is None:
        pytest.skip("no mpiexec (pip install flowgrad[mpi])")
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    runs_dir = tmp_path / "runs"
    command = [
        sys.executable,
        "-m",
        "flowgrad",
        "train",
        "--nproc",
        "2",
        "--epochs",
        "400",
        "--runs-dir",
        str(runs_dir),
    ]
    job = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    metrics = runs_dir / "digits-mlp" / "metrics.csv"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not metrics.exists() or len(metrics.read_text().splitlines()) < 3):
        time.sleep(0.2)
    assert metrics.exists(), "training never wrote an epoch"
    victims = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _is_rank(p, 1, str(runs_dir))]
    assert victims, "rank 1 not found"
    os.kill(int(victims[0].name), signal.SIGKILL)
    try:
        job.communicate(timeout=60)  # bounded: the launcher ends the other rank, never a hang
    except subprocess.TimeoutExpired:
        job.kill()
        raise AssertionError("the job went on after a rank was killed") from None
    assert job.returncode != 0
    state = fg.load(runs_dir / "digits-mlp" / "checkpoint.safetensors")
    assert state["epoch"] >= 1 and set(state["model"]) == set(_weights(runs_dir / "digits-mlp"))


def _is_rank(proc: Path, rank: int, marker: str) -> bool:
    try:
        environ = (proc / "environ").read_bytes().split(b"\0")
        cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return f"PMI_RANK={rank}".encode() in environ and marker in cmdline and "mpiexec" not in cmdline


def test_group_arguments_name_the_default_group_or_are_refused():
    import flowgrad.distributed as dist

    assert repr(dist.group.WORLD) == "<flowgrad.distributed.group.WORLD>"
    with pytest.raises(fg.ArgumentError, match="group must be None, flowgrad.distributed.group.WORLD or a group from"):
        dist.get_rank(group="my-group")
    with pytest.raises(fg.ArgumentError, match="group must be None"):
        dist.all_reduce(fg.ones(2), group=object())
    with pytest.raises(dist.DistributedError, match="not initialized"):  # the default group is fine by name
        dist.get_world_size(group=dist.group.WORLD)


def test_an_error_reported_while_training_on_several_ranks_aborts_them_all(monkeypatch):
    import flowgrad.distributed as dist
    from flowgrad.cli import ranks

    aborted = []
    monkeypatch.setattr(dist, "abort", lambda code: aborted.append(code))
    monkeypatch.setattr(ranks, "_training_together", [False])
    ranks.abort_if_training_together(3)
    assert aborted == []  # one process, or before the ranks train together: a plain exit
    ranks.training_together()
    ranks.abort_if_training_together(3)
    assert aborted == [3]


def test_abort_needs_a_process_group():
    import flowgrad.distributed as dist

    with pytest.raises(dist.DistributedError, match="not initialized"):
        dist.abort(1)
