"""The normal distribution: logpdf, pdf, cdf, logcdf, differentiable in x, loc and scale."""

from __future__ import annotations

import math
from typing import Any

from ... import numpy as np
from ..special import log_ndtr, ndtr

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def logpdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """log N(x; loc, scale**2)."""
    z = (x - loc) / scale
    return -0.5 * z * z - np.log(scale) - _HALF_LOG_2PI


def pdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return np.exp(logpdf(x, loc, scale))


def cdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return ndtr((x - loc) / scale)


def logcdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """log Phi((x - loc) / scale), accurate far in the lower tail."""
    return log_ndtr((x - loc) / scale)


def sf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """The survival function 1 - cdf, accurate in the upper tail."""
    return ndtr(-(x - loc) / scale)


def logsf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return log_ndtr(-(x - loc) / scale)
