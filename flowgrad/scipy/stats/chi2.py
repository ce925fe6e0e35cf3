"""The chi-squared distribution: logpdf, pdf, differentiable in x and df."""

from __future__ import annotations

import math
from typing import Any

from ... import numpy as np
from ..special import gammaln


def logpdf(x: Any, df: Any) -> Any:
    half = df / 2
    return (half - 1) * np.log(x) - x / 2 - half * math.log(2.0) - gammaln(half)


def pdf(x: Any, df: Any) -> Any:
    return np.exp(logpdf(x, df))
