"""The whole op table: every part of ``tests/opcases*.py`` in one list, for every test that runs it
(tests/test_ops_gradcheck.py checks each row; tests/test_engine_walks.py runs each through both walks)."""

from __future__ import annotations

from typing import Any

import numpy as np

import flowgrad as fg

from .opcases import CASES as ELEMENTWISE_CASES
from .opcases import OpCase
from .opcases_fft import CASES as FFT_CASES
from .opcases_gemm import CASES as GEMM_CASES
from .opcases_linalg import CASES as LINALG_CASES
from .opcases_math import CASES as MATH_CASES
from .opcases_more import CASES as MORE_CASES
from .opcases_scipy import CASES as SCIPY_CASES
from .opcases_torch import CASES as TORCH_API_CASES
from .opcases_windows import CASES as WINDOW_CASES

CASES: list[OpCase] = (
    ELEMENTWISE_CASES + MORE_CASES + WINDOW_CASES + LINALG_CASES + MATH_CASES + SCIPY_CASES + TORCH_API_CASES
    + FFT_CASES + GEMM_CASES
)  # fmt: skip


def run(case: OpCase, ts: list[Any]) -> fg.Tensor:
    """The row's output; a tuple's float outputs joined into one vector."""
    out = case.fn(*ts)
    if not isinstance(out, (tuple, list)):
        return out
    return fg.cat([fg.reshape(o, -1) for o in out if np.dtype(o.dtype).kind == "f"])
