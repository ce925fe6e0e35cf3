"""Collective calls over the process group: barrier, all_reduce, reduce, broadcast, all_gather,
blocking or as a ``Work`` (see ``flowgrad.distributed``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from flowgrad import Tensor

from ..errors import ArgumentError, DTypeError, ShapeError, given
from .process_group import ReduceOp, _abort_job, _call, _comm, _root, _seconds, _state


def barrier(group: Any = None, async_op: bool = False, device_ids: Any = None) -> None:
    """Wait until every rank (of ``group``) has called ``barrier``."""
    comm = _comm("barrier", group)
    _collective("barrier", comm.Barrier, comm.Ibarrier, lambda: None, False)


def _collective(
    where: str, blocking: Callable[..., Any], nonblocking: Callable[..., Any], finish: Callable[[], None],
    async_op: bool, *args: Any, **kwargs: Any,
) -> Any:  # fmt: skip
    """One collective call: a ``Work`` with ``async_op``; else done here, watched when there is a timeout."""
    if async_op:
        return Work(_call(where, nonblocking, *args, **kwargs), finish)
    if _state.timeout is None:
        _call(where, blocking, *args, **kwargs)
    else:
        _wait(_call(where, nonblocking, *args, **kwargs), where, _state.timeout)
    finish()
    return None


def _wait(request: Any, where: str, seconds: float) -> None:
    deadline, spins = time.monotonic() + seconds, 0
    while not request.Test():
        spins += 1
        if spins > 1000:  # a long wait: stop spinning, leave the core to the other ranks
            time.sleep(0.0005)
            if time.monotonic() > deadline:
                rank, size = _state.comm.Get_rank(), _state.comm.Get_size()
                _abort_job(
                    f"rank {rank} of {size} waited more than {seconds:g} s in {where} "
                    "(init_process_group's timeout): another rank has stopped or is stuck; aborting all ranks",
                    1,
                )


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
        """Block until the call has finished (past ``timeout``, else init_process_group's: abort the job)."""
        if not self._done:
            seconds = _seconds(timeout, "wait") if timeout is not None else _state.timeout
            if seconds is None:
                self._request.Wait()
            else:
                _wait(self._request, "wait", seconds)
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
    return _collective(
        "all_reduce", comm.Allreduce, comm.Iallreduce, finish, async_op, _state.mpi.IN_PLACE, work, op=mpi_op
    )


def reduce(tensor: Tensor, dst: int = 0, op: ReduceOp = ReduceOp.SUM, group: Any = None, async_op: bool = False) -> Any:
    """Combine ``tensor`` across all ranks into rank ``dst``'s tensor; the others' are left as they are."""
    comm = _comm("reduce", group)
    arr = _array(tensor, "reduce")
    dst = _root(dst, group, comm, "reduce", "dst")
    mpi_op = _mpi_op(op, arr, "reduce")
    mine = comm.Get_rank() == dst
    work = _work_buffer(arr)
    if mine:
        finish = _finisher(tensor, arr, work, comm.Get_size() if op is ReduceOp.AVG else None)
        send: Any = _state.mpi.IN_PLACE
    else:
        finish, send = (lambda: None), work
    received = work if mine else None
    return _collective("reduce", comm.Reduce, comm.Ireduce, finish, async_op, send, received, op=mpi_op, root=dst)


def broadcast(tensor: Tensor, src: int = 0, group: Any = None, async_op: bool = False) -> Any:
    """Copy rank ``src``'s ``tensor`` into every other rank's ``tensor`` (same shape and dtype on all)."""
    comm = _comm("broadcast", group)
    arr = _array(tensor, "broadcast")
    src = _root(src, group, comm, "broadcast", "src")
    work = _work_buffer(arr)
    finish = _finisher(tensor, arr, work, None) if comm.Get_rank() != src else (lambda: None)
    return _collective("broadcast", comm.Bcast, comm.Ibcast, finish, async_op, work, root=src)


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
    return _collective("all_gather", comm.Allgather, comm.Iallgather, finish, async_op, send, received)
