"""PyTorch's ``set_num_threads`` / ``get_num_threads`` for flowgrad, whose threads are the BLAS
library's (NumPy's matrix products): through ``threadpoolctl`` when it is installed.

>>> import flowgrad as fg
>>> fg.get_num_threads() >= 1
True
"""

from __future__ import annotations

import os
from typing import Any

from .errors import check_int

__all__ = ["set_num_threads", "get_num_threads"]

_limits: Any = None  # threadpoolctl's limiter, kept so the limit stays in force


def _from_environment() -> int:
    for name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return os.cpu_count() or 1


def get_num_threads() -> int:
    """The number of threads the BLAS library computes with (threadpoolctl's answer; without it,
    the *_NUM_THREADS environment variables, else the CPU count, which is OpenBLAS's default)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return _from_environment()
    counts = [int(info["num_threads"]) for info in threadpool_info() if info.get("user_api") == "blas"]
    return max(counts) if counts else _from_environment()


def set_num_threads(n: int) -> None:
    """Let the BLAS library use ``n`` threads from now on (needs ``threadpoolctl``)."""
    global _limits
    n = check_int(n, "set_num_threads", "n", minimum=1)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        raise ImportError(
            "set_num_threads: reaching the BLAS library's threads needs threadpoolctl "
            "(pip install threadpoolctl); or set OMP_NUM_THREADS before Python starts"
        ) from None
    _limits = threadpool_limits(limits=n, user_api="blas")
