"""The gamma distribution (shape a, SciPy's loc and scale): logpdf, pdf."""

from __future__ import annotations

from typing import Any

import scipy.stats as _st

from ... import numpy as np
from ..special import gammaln
from ._cdf import cdf_in_x


def logpdf(x: Any, a: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    z = (x - loc) / scale
    return (a - 1) * np.log(z) - z - gammaln(a) - np.log(scale)


def pdf(x: Any, a: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return np.exp(logpdf(x, a, loc, scale))


_standard_cdf = cdf_in_x(_st.gamma.cdf, lambda z, a: pdf(z, a), "gamma_cdf")


def cdf(x: Any, a: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """P(X <= x), differentiable in x, loc and scale (not a)."""
    return _standard_cdf((x - loc) / scale, a)
