"""The process group: MPI started, ranks and sizes, groups, timeouts and aborting the job (see
``flowgrad.distributed``)."""

from __future__ import annotations

import datetime
import enum
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ArgumentError, FlowgradError, given

_ABORT_GRACE_S = 1.0  # seconds between a rank's last message and MPI_Abort (see _abort_job)


INSTALL_HINT = (
    "flowgrad.distributed needs mpi4py and an MPI library: pip install flowgrad[mpi] (mpi4py and the "
    "mpich wheel), then start the program on N processes with: mpiexec -n N python your_script.py"
)


class DistributedError(FlowgradError, RuntimeError):
    """A process group that is missing, initialised twice, or an MPI call that failed."""


class ReduceOp(enum.Enum):
    """How ``all_reduce`` and ``reduce`` combine the ranks' values (PyTorch's names).

    ``AVG`` is a sum divided by the world size, for floating-point and complex tensors only.
    """

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MAX = "max"
    MIN = "min"


class _State:
    comm: Any = None  # our own duplicate of COMM_WORLD: a user's mpi4py messages never mix with ours
    mpi: Any = None  # the mpi4py.MPI module
    previous_excepthook: Callable[..., Any] | None = None
    timeout: float | None = None  # seconds a rank may wait in one collective call before the job is aborted


_state = _State()


def is_mpi_available() -> bool:
    """Whether mpi4py (and so an MPI library) can be imported."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def is_available() -> bool:
    """Whether distributed training can be used here (PyTorch's name): mpi4py is installed."""
    return is_mpi_available()


def is_initialized() -> bool:
    """Whether ``init_process_group`` has been called (and not undone by ``destroy_process_group``)."""
    return _state.comm is not None


def init_process_group(
    backend: str | None = "mpi",
    init_method: str | None = None,
    timeout: datetime.timedelta | float | None = None,
    world_size: int = -1,
    rank: int = -1,
) -> None:
    """Join the processes started by ``mpiexec`` into one group (the default group).

    ``backend`` must be ``"mpi"`` (or None): rank and size come from the MPI launcher, so
    ``init_method`` is not used, and ``world_size``/``rank``, when given, must agree with it.
    From now on an exception that escapes the program on any rank prints the rank and aborts
    every rank (``MPI_Abort``), so no process waits forever on one that has died.
    With ``timeout`` (a ``timedelta`` or seconds) a rank that waits longer than that in one
    collective call (another rank is stuck, or far behind) prints its rank and the call and aborts
    every rank: an MPI call cannot be cancelled, so the job ends rather than raising an exception
    the program could go on after. Without it a call waits as long as MPI does (for ever).

    >>> import flowgrad as fg, flowgrad.distributed as dist  # doctest: +SKIP
    >>> dist.init_process_group("mpi")  # doctest: +SKIP
    >>> dist.get_rank(), dist.get_world_size()  # doctest: +SKIP
    (0, 1)
    """
    if backend not in (None, "mpi"):
        raise ArgumentError(
            f"init_process_group: flowgrad communicates over MPI only, backend must be 'mpi', got {given(backend)}"
        )
    if _state.comm is not None:
        raise DistributedError("init_process_group: the default process group is already initialized")
    seconds = _seconds(timeout, "init_process_group")
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise DistributedError(f"init_process_group: {INSTALL_HINT}") from exc
    comm = MPI.COMM_WORLD.Dup()
    comm.Set_errhandler(MPI.ERRORS_RETURN)  # an MPI failure is a Python exception (then an abort)
    for name, wanted, actual in (("world_size", world_size, comm.Get_size()), ("rank", rank, comm.Get_rank())):
        if wanted not in (-1, None) and wanted != actual:
            comm.Free()
            raise DistributedError(
                f"init_process_group: {name}={wanted} was given but the MPI launcher says {actual}; "
                f"start the program with mpiexec -n N, or leave {name} out"
            )
    _state.comm, _state.mpi, _state.timeout = comm, MPI, seconds
    _state.previous_excepthook = sys.excepthook
    sys.excepthook = _abort_on_uncaught


def _seconds(timeout: Any, where: str) -> float | None:
    if isinstance(timeout, datetime.timedelta):
        timeout = timeout.total_seconds()
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0):
        raise ArgumentError(f"{where}: timeout must be a datetime.timedelta or seconds > 0, got {given(timeout)}")
    return None if timeout is None else float(timeout)


def destroy_process_group(group: Any = None) -> None:
    """Leave the default group (MPI itself is finalized when Python exits), or free a ``new_group``."""
    if _state.comm is None:
        raise DistributedError("destroy_process_group: no process group is initialized")
    if isinstance(group, ProcessGroup):
        if group._comm is not None:
            group._comm.Free()
            group._comm = None
        return
    comm, _state.comm, _state.timeout = _state.comm, None, None
    if sys.excepthook is _abort_on_uncaught and _state.previous_excepthook is not None:
        sys.excepthook = _state.previous_excepthook
    comm.Free()


def _abort_on_uncaught(kind: type[BaseException], value: BaseException, tb: Any) -> None:
    # One rank's uncaught exception would leave the others blocked in their next collective
    # call for ever: print it with the rank, then MPI_Abort ends every process of the job.
    comm = _state.comm
    rank, size = (comm.Get_rank(), comm.Get_size()) if comm is not None else (0, 1)
    try:
        (_state.previous_excepthook or sys.__excepthook__)(kind, value, tb)
    except Exception:  # a broken hook must not stop the abort
        traceback.print_exception(kind, value, tb)
    if comm is not None and size > 1:
        _abort_job(f"rank {rank} of {size} raised {kind.__name__}: {value}; aborting all ranks", 1)


def _abort_job(message: str, errorcode: int) -> None:
    """Print ``message`` on this rank's stderr, give the launcher time to pass it on, then MPI_Abort."""
    if message:
        sys.stderr.write(f"flowgrad.distributed: {message}\n")
    sys.stdout.flush()
    sys.stderr.flush()
    # mpiexec forwards a rank's output through its proxy and tears that down as soon as the
    # abort reaches it: without a pause the lines saying why the job ended can be lost.
    time.sleep(_ABORT_GRACE_S)
    _state.mpi.COMM_WORLD.Abort(int(errorcode))


class ProcessGroup:
    """Some of the ranks, which communicate among themselves (from ``new_group``).

    ``src`` and ``dst`` given with a group are global ranks, as in PyTorch.
    """

    def __init__(self, comm: Any, ranks: list[int]) -> None:
        self._comm, self.ranks = comm, ranks  # comm None: this rank is not a member (or it was destroyed)

    def __repr__(self) -> str:
        return f"ProcessGroup(ranks={self.ranks})"


class _WorldGroup:
    """The default group, every rank of the job (``dist.group.WORLD``)."""

    def __repr__(self) -> str:
        return "<flowgrad.distributed.group.WORLD>"


class group:  # noqa: N801 - PyTorch's spelling: dist.group.WORLD
    """``dist.group.WORLD``: the default group, which every ``group=`` argument may name."""

    WORLD = _WorldGroup()


def new_group(ranks: Any = None, timeout: Any = None, backend: Any = None) -> Any:
    """A group of some ranks (global rank numbers); every rank must call it, member or not.

    None (or every rank) is ``group.WORLD``. A rank outside the group gets ``get_rank(g) == -1``
    and a clear error if it uses the group in a collective call.

    >>> import flowgrad.distributed as dist
    >>> dist.group.WORLD
    <flowgrad.distributed.group.WORLD>
    """
    comm = _comm("new_group")
    size = comm.Get_size()
    if ranks is None:
        return group.WORLD
    if not isinstance(ranks, (list, tuple, range)) or not ranks:
        raise ArgumentError(f"new_group: ranks must be a non-empty list of ranks, got {given(ranks)}")
    for r in ranks:
        _check_rank(r, comm, "new_group", "each of ranks")
    members = sorted({int(r) for r in ranks})  # a member's rank in the group follows its global rank
    if members == list(range(size)):
        return group.WORLD
    mpi_group = comm.Get_group().Incl(members)
    sub = _call("new_group", comm.Create, mpi_group)  # collective over every rank of the default group
    mpi_group.Free()
    if sub == _state.mpi.COMM_NULL:
        return ProcessGroup(None, members)
    sub.Set_errhandler(_state.mpi.ERRORS_RETURN)
    return ProcessGroup(sub, members)


def abort(errorcode: int = 1) -> None:
    """End every process of the job now (``MPI_Abort``) with ``errorcode``: for an error on one rank
    that the program handled itself (the uncaught ones abort by themselves), so that the other ranks
    do not wait for it in their next collective call."""
    _comm("abort")
    _abort_job("", errorcode)


def _comm(where: str, in_group: Any = None) -> Any:
    if in_group is not None and in_group is not group.WORLD and not isinstance(in_group, ProcessGroup):
        raise ArgumentError(
            f"{where}: group must be None, flowgrad.distributed.group.WORLD or a group from new_group, "
            f"got {given(in_group)}"
        )
    if _state.comm is None:
        raise DistributedError(
            f"{where}: the default process group is not initialized; call "
            "flowgrad.distributed.init_process_group() first (and start the program with mpiexec -n N)"
        )
    if not isinstance(in_group, ProcessGroup):
        return _state.comm
    if in_group._comm is None:
        raise DistributedError(
            f"{where}: rank {_state.comm.Get_rank()} is not a member of {in_group} (or it was destroyed); "
            "only its members can use it"
        )
    return in_group._comm


def _root(rank: Any, in_group: Any, comm: Any, where: str, name: str) -> int:
    """A global rank (``src``, ``dst``) as the rank it has in the group."""
    if not isinstance(in_group, ProcessGroup):
        _check_rank(rank, comm, where, name)
        return int(rank)
    if isinstance(rank, bool) or rank not in in_group.ranks:
        raise ArgumentError(f"{where}: {name} must be the global rank of a member of {in_group}, got {given(rank)}")
    return in_group.ranks.index(int(rank))


def get_rank(group: Any = None) -> int:
    """This process's rank, 0 to ``get_world_size() - 1`` (in a ``new_group``: its rank there, -1 outside)."""
    if isinstance(group, ProcessGroup) and group._comm is None:
        _comm("get_rank")
        return -1
    return int(_comm("get_rank", group).Get_rank())


def get_world_size(group: Any = None) -> int:
    """The number of processes in the default group (or in ``group``)."""
    return int(_comm("get_world_size", group).Get_size())


def _check_rank(value: Any, comm: Any, where: str, name: str) -> None:
    size = comm.Get_size()
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < size:
        raise ArgumentError(f"{where}: {name} must be a rank from 0 to {size - 1}, got {given(value)}")


def _call(where: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except _state.mpi.Exception as exc:
        raise DistributedError(f"{where}: MPI failed: {exc}") from exc
