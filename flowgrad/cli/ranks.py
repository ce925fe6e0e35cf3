"""``flowgrad train`` on N processes: ``--nproc N`` starts ``mpiexec -n N`` itself, and a run started
by ``mpiexec -n N flowgrad train`` trains on N ranks.

Rank 0 does everything a one-process run does (checks, the run folder's lock, config.toml, the
checkpoints, metrics.csv, the pictures, the output); the other ranks load the same data, build the
same model and take their part of every batch (``Model.fit`` on a process group). Before training,
rank 0 tells the others whether to go on, so a refused run (a folder in use, a bad resume) ends
every rank with rank 0's exit code instead of leaving them waiting.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import flowgrad as fg

from . import config as cfg_lib

# What MPI launchers tell each process: MPICH and Intel MPI (PMI_*), Open MPI (OMPI_COMM_WORLD_*).
SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE")


def launched_size() -> int:
    """How many processes the MPI launcher started this one among (1 outside ``mpiexec``)."""
    for name in SIZE_VARIABLES:
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    return 1


def group() -> tuple[int, int] | None:
    """(rank, size) of the run's process group, initialised here when the launcher started several."""
    if launched_size() <= 1:
        return None
    dist = fg.distributed
    if not dist.is_initialized():
        dist.init_process_group("mpi")
    return dist.get_rank(), dist.get_world_size()


def mpiexec() -> str:
    """The ``mpiexec`` beside this Python (the mpich wheel puts it there), else the one on PATH."""
    beside = Path(sys.executable).parent / "mpiexec"
    found = str(beside) if beside.exists() else shutil.which("mpiexec")
    if found is None:
        raise cfg_lib.ConfigError(
            "train --nproc: no mpiexec found; install MPI for Python with: pip install flowgrad[mpi] "
            "(mpi4py and the mpich wheel)"
        )
    return found


def without_nproc(argv: list[str]) -> list[str]:
    """The command line again, without ``--nproc N`` (the ranks must not start ranks of their own).

    >>> without_nproc(["train", "--nproc", "2", "--epochs", "3"]), without_nproc(["train", "--nproc=4"])
    (['train', '--epochs', '3'], ['train'])
    """
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            out.append(arg)
    return out


def launch(nproc: int, argv: list[str]) -> int:
    """Run this command on ``nproc`` processes with ``mpiexec``; return its exit code."""
    if nproc < 1:
        raise cfg_lib.ConfigError(f"train: --nproc must be at least 1, got {nproc}")
    command = [mpiexec(), "-n", str(nproc), sys.executable, "-m", "flowgrad", *without_nproc(argv)]
    return subprocess.call(command)


def tell_followers(status: int) -> int:
    """Rank 0: send ``status`` (0: go on) to the other ranks; every rank returns it."""
    t = fg.tensor([status], dtype=fg.int64)
    fg.distributed.broadcast(t, src=0)
    return int(t.item())


# Set once this rank trains with the others: from then on an error it reports must end every rank.
_training_together = [False]


def training_together() -> None:
    """This rank has started training with the others (rank 0 after telling them to go on)."""
    _training_together[0] = True


def abort_if_training_together(code: int) -> None:
    """After an error this rank reported (rank 0's checkpoint could not be written, say): end every
    rank with ``code`` instead of leaving the others waiting in their next allreduce."""
    if _training_together[0]:
        fg.distributed.abort(code)
