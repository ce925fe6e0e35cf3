"""``flowgrad.distributed``: collective communication between processes over MPI (``torch.distributed``'s names).

flowgrad runs on MPI through ``mpi4py`` (``pip install flowgrad[mpi]``: mpi4py and the ``mpich``
wheel, no system MPI needed). Start N processes with ``mpiexec -n N python script.py``; each calls
``init_process_group()`` and learns its rank and the world size from the launcher. Tensors are sent
from their NumPy buffers directly (the buffer protocol), without copies when they are contiguous.
A process started without ``mpiexec`` is a world of one, which is handy for trying things out.

This module is loaded on first use (``fg.distributed``), never by ``import flowgrad``, and it
imports mpi4py only when ``init_process_group`` is called.

>>> import flowgrad as fg
>>> fg.distributed.is_initialized()
False
>>> fg.distributed.ReduceOp.SUM
<ReduceOp.SUM: 'sum'>
"""

from __future__ import annotations

import enum
import sys
import traceback
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from flowgrad import Tensor

from .errors import ArgumentError, DTypeError, FlowgradError, ShapeError, given

__all__ = [
    "DistributedError",
    "ReduceOp",
    "Work",
    "abort",
    "all_gather",
    "all_reduce",
    "barrier",
    "broadcast",
    "destroy_process_group",
    "get_rank",
    "get_world_size",
    "group",
    "new_group",
    "init_process_group",
    "is_available",
    "is_initialized",
    "is_mpi_available",
    "reduce",
]

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
    timeout: Any = None,
    world_size: int = -1,
    rank: int = -1,
) -> None:
    """Join the processes started by ``mpiexec`` into one group (the default group).

    ``backend`` must be ``"mpi"`` (or None): rank and size come from the MPI launcher, so
    ``init_method`` is not used, and ``world_size``/``rank``, when given, must agree with it.
    From now on an exception that escapes the program on any rank prints the rank and aborts
    every rank (``MPI_Abort``), so no process waits forever on one that has died.

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
    if timeout is not None:  # accepted for PyTorch's signature; a dead rank aborts the job instead
        warnings.warn(
            "init_process_group: timeout is not applied: MPI calls have no timeout, and a rank that fails "
            "or dies ends the whole job (MPI_Abort) instead of leaving the others waiting",
            UserWarning,
            stacklevel=2,
        )
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
    _state.comm, _state.mpi = comm, MPI
    _state.previous_excepthook = sys.excepthook
    sys.excepthook = _abort_on_uncaught


def destroy_process_group(group: Any = None) -> None:
    """Leave the default group (MPI itself is finalized when Python exits)."""
    if _state.comm is None:
        raise DistributedError("destroy_process_group: no process group is initialized")
    comm, _state.comm = _state.comm, None
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
        sys.stderr.write(
            f"flowgrad.distributed: rank {rank} of {size} raised {kind.__name__}: {value}; aborting all ranks\n"
        )
        sys.stderr.flush()
        _state.mpi.COMM_WORLD.Abort(1)


class _WorldGroup:
    """The default group, every rank of the job (``dist.group.WORLD``): flowgrad's only group."""

    def __repr__(self) -> str:
        return "<flowgrad.distributed.group.WORLD>"


class group:  # noqa: N801 - PyTorch's spelling: dist.group.WORLD
    """``dist.group.WORLD``: the default group, which every ``group=`` argument may name."""

    WORLD = _WorldGroup()


def new_group(ranks: Any = None, timeout: Any = None, backend: Any = None) -> Any:
    """A group of ``ranks``: only the whole job (None or every rank) is supported, as ``group.WORLD``.

    >>> import flowgrad.distributed as dist
    >>> dist.group.WORLD
    <flowgrad.distributed.group.WORLD>
    """
    size = _comm("new_group").Get_size()
    if ranks is None or sorted(int(r) for r in ranks) == list(range(size)):
        return group.WORLD
    raise DistributedError(
        f"new_group: flowgrad communicates in the default group only (all {size} ranks), got ranks={list(ranks)}; "
        "split the work in your program instead (if dist.get_rank() in ...)"
    )


def abort(errorcode: int = 1) -> None:
    """End every process of the job now (``MPI_Abort``) with ``errorcode``: for an error on one rank
    that the program handled itself (the uncaught ones abort by themselves), so that the other ranks
    do not wait for it in their next collective call."""
    _comm("abort")
    _state.mpi.COMM_WORLD.Abort(int(errorcode))


def _comm(where: str, in_group: Any = None) -> Any:
    if in_group is not None and in_group is not group.WORLD:
        raise ArgumentError(
            f"{where}: group must be None or flowgrad.distributed.group.WORLD (the default group, flowgrad's "
            f"only one), got {given(in_group)}"
        )
    if _state.comm is None:
        raise DistributedError(
            f"{where}: the default process group is not initialized; call "
            "flowgrad.distributed.init_process_group() first (and start the program with mpiexec -n N)"
        )
    return _state.comm


def get_rank(group: Any = None) -> int:
    """This process's rank, 0 to ``get_world_size() - 1``."""
    return int(_comm("get_rank", group).Get_rank())


def get_world_size(group: Any = None) -> int:
    """The number of processes in the default group."""
    return int(_comm("get_world_size", group).Get_size())


def barrier(group: Any = None, async_op: bool = False, device_ids: Any = None) -> None:
    """Wait until every rank has called ``barrier``."""
    _comm("barrier", group).Barrier()


class Work:
    """A collective call started with ``async_op=True``; ``wait()`` completes it.

    ``is_completed()`` tests without blocking. The tensor must not be read or written before ``wait()``.
    """

    def __init__(self, request: Any, finish: Callable[[], None]) -> None:
        self._request, self._finish, self._done = request, finish, False

    def is_completed(self) -> bool:
        if not self._done and self._request.Test():
            self._complete()
        return self._done

    def wait(self, timeout: Any = None) -> bool:
        if not self._done:
            self._request.Wait()
            self._complete()
        return True

    def _complete(self) -> None:
        self._done = True
        self._finish()


def _array(tensor: Any, where: str, name: str = "tensor") -> np.ndarray:
    if not isinstance(tensor, Tensor):
        raise DTypeError(f"{where}: {name} must be a flowgrad tensor, got {given(tensor)}")
    return tensor._data


def _work_buffer(arr: np.ndarray) -> np.ndarray:
    # MPI reads and writes one contiguous block: a contiguous tensor is used as it is (zero copy).
    return arr if arr.flags.c_contiguous else np.ascontiguousarray(arr)


def _mpi_op(op: Any, arr: np.ndarray, where: str) -> Any:
    if not isinstance(op, ReduceOp):
        raise ArgumentError(f"{where}: op must be a flowgrad.distributed.ReduceOp, got {given(op)}")
    if op is ReduceOp.AVG and arr.dtype.kind not in "fc":
        raise DTypeError(f"{where}: ReduceOp.AVG needs a floating-point or complex tensor, got {arr.dtype}")
    if arr.dtype.kind == "b" and op is not ReduceOp.MAX and op is not ReduceOp.MIN:
        raise DTypeError(f"{where}: a bool tensor can be reduced with MAX (any) or MIN (all) only, got {op.name}")
    mpi = _state.mpi
    if arr.dtype.kind == "b":
        return mpi.LOR if op is ReduceOp.MAX else mpi.LAND
    return {"sum": mpi.SUM, "avg": mpi.SUM, "product": mpi.PROD, "max": mpi.MAX, "min": mpi.MIN}[op.value]


def _call(where: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except _state.mpi.Exception as exc:
        raise DistributedError(f"{where}: MPI failed: {exc}") from exc


def _finisher(tensor: Tensor, arr: np.ndarray, work: np.ndarray, scale: int | None) -> Callable[[], None]:
    def finish() -> None:
        if scale is not None:
            np.divide(work, scale, out=work)  # ReduceOp.AVG: the sum, then one division, the same on every rank
        if work is not arr:
            arr[...] = work
        tensor._mark_changed()

    return finish


def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group: Any = None, async_op: bool = False) -> Any:
    """Combine ``tensor`` across all ranks, in place: every rank ends with the same result.

    Returns None, or a ``Work`` to ``wait()`` on with ``async_op=True`` (a non-blocking MPI call).

    >>> import flowgrad as fg, flowgrad.distributed as dist  # doctest: +SKIP
    >>> t = fg.tensor([float(dist.get_rank() + 1)])  # doctest: +SKIP
    >>> dist.all_reduce(t, op=dist.ReduceOp.SUM)  # on 2 ranks: tensor([3.]) on both  # doctest: +SKIP
    """
    comm = _comm("all_reduce", group)
    arr = _array(tensor, "all_reduce")
    mpi_op = _mpi_op(op, arr, "all_reduce")
    work = _work_buffer(arr)
    finish = _finisher(tensor, arr, work, comm.Get_size() if op is ReduceOp.AVG else None)
    if async_op:
        return Work(_call("all_reduce", comm.Iallreduce, _state.mpi.IN_PLACE, work, op=mpi_op), finish)
    _call("all_reduce", comm.Allreduce, _state.mpi.IN_PLACE, work, op=mpi_op)
    finish()
    return None


def reduce(tensor: Tensor, dst: int = 0, op: ReduceOp = ReduceOp.SUM, group: Any = None, async_op: bool = False) -> Any:
    """Combine ``tensor`` across all ranks into rank ``dst``'s tensor; the others' are left as they are."""
    comm = _comm("reduce", group)
    arr = _array(tensor, "reduce")
    _check_rank(dst, comm, "reduce", "dst")
    mpi_op = _mpi_op(op, arr, "reduce")
    mine = comm.Get_rank() == dst
    work = _work_buffer(arr)
    if mine:
        finish = _finisher(tensor, arr, work, comm.Get_size() if op is ReduceOp.AVG else None)
        send: Any = _state.mpi.IN_PLACE
    else:
        finish, send = (lambda: None), work
    if async_op:
        return Work(_call("reduce", comm.Ireduce, send, work if mine else None, op=mpi_op, root=dst), finish)
    _call("reduce", comm.Reduce, send, work if mine else None, op=mpi_op, root=dst)
    finish()
    return None


def broadcast(tensor: Tensor, src: int = 0, group: Any = None, async_op: bool = False) -> Any:
    """Copy rank ``src``'s ``tensor`` into every other rank's ``tensor`` (same shape and dtype on all)."""
    comm = _comm("broadcast", group)
    arr = _array(tensor, "broadcast")
    _check_rank(src, comm, "broadcast", "src")
    work = _work_buffer(arr)
    finish = _finisher(tensor, arr, work, None) if comm.Get_rank() != src else (lambda: None)
    if async_op:
        return Work(_call("broadcast", comm.Ibcast, work, root=src), finish)
    _call("broadcast", comm.Bcast, work, root=src)
    finish()
    return None


def all_gather(tensor_list: list[Tensor], tensor: Tensor, group: Any = None, async_op: bool = False) -> Any:
    """Fill ``tensor_list[i]`` with rank i's ``tensor``, on every rank (each the same shape and dtype)."""
    comm = _comm("all_gather", group)
    arr = _array(tensor, "all_gather")
    size = comm.Get_size()
    if not isinstance(tensor_list, (list, tuple)) or len(tensor_list) != size:
        raise ArgumentError(
            f"all_gather: tensor_list must be a list of {size} tensors (one per rank), got {given(tensor_list)}"
        )
    outs = [_array(t, "all_gather", f"tensor_list[{i}]") for i, t in enumerate(tensor_list)]
    for i, out in enumerate(outs):
        if out.shape != arr.shape or out.dtype != arr.dtype:
            raise ShapeError(
                f"all_gather: tensor_list[{i}] has shape {out.shape} and dtype {out.dtype}, but the tensor sent "
                f"has shape {arr.shape} and dtype {arr.dtype}; they must be the same"
            )
    received = np.empty((size, *arr.shape), dtype=arr.dtype)

    def finish() -> None:
        for t, out, got in zip(tensor_list, outs, received):
            out[...] = got
            t._mark_changed()

    send = _work_buffer(arr)
    if async_op:
        return Work(_call("all_gather", comm.Iallgather, send, received), finish)
    _call("all_gather", comm.Allgather, send, received)
    finish()
    return None


def _check_rank(value: Any, comm: Any, where: str, name: str) -> None:
    size = comm.Get_size()
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < size:
        raise ArgumentError(f"{where}: {name} must be a rank from 0 to {size - 1}, got {given(value)}")
