"""Random numbers as an op, so that ``fg.compile`` draws new ones on every replay.

``uniform(shape)`` reads flowgrad's generator (``fg.manual_seed``) when it
runs, so eager and compiled runs draw the same numbers in the same order.

>>> import flowgrad as fg
>>> from flowgrad.ops.random import uniform
>>> _ = fg.manual_seed(0); a = uniform((2,))
>>> _ = fg.manual_seed(0); bool((a == uniform((2,))).all())
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import factories
from ..core.ops import apply, defop
from ..core.tensor import Tensor


def _uniform_forward(shape: tuple, dtype: np.dtype) -> np.ndarray:
    return factories.default_generator().random(shape).astype(dtype, copy=False)


UNIFORM = defop("uniform", _uniform_forward)


def uniform(shape: Any, dtype: Any = np.float64) -> Tensor:
    """Samples from U[0, 1) of ``shape`` (no gradient)."""
    return apply(UNIFORM, (), {"shape": tuple(int(s) for s in shape), "dtype": np.dtype(dtype)})
