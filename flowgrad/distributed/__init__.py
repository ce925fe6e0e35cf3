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

from .collectives import Work, all_gather, all_reduce, barrier, broadcast, reduce
from .process_group import (
    DistributedError,
    ProcessGroup,
    ReduceOp,
    abort,
    destroy_process_group,
    get_rank,
    get_world_size,
    group,
    init_process_group,
    is_available,
    is_initialized,
    is_mpi_available,
    new_group,
)

__all__ = [
    "DistributedError",
    "ProcessGroup",
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
