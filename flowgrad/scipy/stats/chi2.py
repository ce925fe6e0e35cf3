"""The chi-squared distribution: logpdf, pdf, differentiable in x and df."""

from __future__ import annotations

import math
from typing import Any

import scipy.stats as _st

from ... import numpy as np
from ..special import gammaln
from ._cdf import cdf_in_x


def logpdf(x: Any, df: Any) -> Any:
    half = df / 2
    return (half - 1) * np.log(x) - x / 2 - half * math.log(2.0) - gammaln(half)


def pdf(x: Any, df: Any) -> Any:
    return np.exp(logpdf(x, df))


_cdf = cdf_in_x(_st.chi2.cdf, lambda x, df: pdf(x, df), "chi2_cdf")


def cdf(x: Any, df: Any) -> Any:
    """P(X <= x), differentiable in x (not df)."""
    return _cdf(x, df)
