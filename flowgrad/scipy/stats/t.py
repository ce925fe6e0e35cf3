"""Student's t distribution: logpdf, pdf, differentiable in x, df, loc and scale."""

from __future__ import annotations

import math
from typing import Any

import scipy.stats as _st

from ... import numpy as np
from ..special import gammaln
from ._cdf import cdf_in_x


def logpdf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    z = (x - loc) / scale
    return (
        gammaln((df + 1) / 2)
        - gammaln(df / 2)
        - 0.5 * np.log(df * math.pi)
        - np.log(scale)
        - (df + 1) / 2 * np.log1p(z * z / df)
    )


def pdf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return np.exp(logpdf(x, df, loc, scale))


_standard_cdf = cdf_in_x(_st.t.cdf, lambda z, df: pdf(z, df), "t_cdf")


def cdf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """P(X <= x), differentiable in x, loc and scale (not df)."""
    return _standard_cdf((x - loc) / scale, df)


def logcdf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return np.log(cdf(x, df, loc, scale))
