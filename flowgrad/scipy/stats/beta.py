"""The beta distribution: logpdf, pdf, differentiable in x, a and b."""

from __future__ import annotations

from typing import Any

import scipy.stats as _st

from ... import numpy as np
from ..special import betaln
from ._cdf import cdf_in_x


def logpdf(x: Any, a: Any, b: Any) -> Any:
    return (a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - betaln(a, b)


def pdf(x: Any, a: Any, b: Any) -> Any:
    return np.exp(logpdf(x, a, b))


_cdf = cdf_in_x(_st.beta.cdf, lambda x, a, b: pdf(x, a, b), "beta_cdf")


def cdf(x: Any, a: Any, b: Any) -> Any:
    """P(X <= x), differentiable in x (not a or b)."""
    return _cdf(x, a, b)
