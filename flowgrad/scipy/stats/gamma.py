"""The gamma distribution (shape a, SciPy's loc and scale): logpdf, pdf."""

from __future__ import annotations

from typing import Any

from ... import numpy as np
from ..special import gammaln


def logpdf(x: Any, a: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    z = (x - loc) / scale
    return (a - 1) * np.log(z) - z - gammaln(a) - np.log(scale)


def pdf(x: Any, a: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return np.exp(logpdf(x, a, loc, scale))
