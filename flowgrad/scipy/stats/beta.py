"""The beta distribution: logpdf, pdf, differentiable in x, a and b."""

from __future__ import annotations

from typing import Any

from ... import numpy as np
from ..special import betaln


def logpdf(x: Any, a: Any, b: Any) -> Any:
    return (a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - betaln(a, b)


def pdf(x: Any, a: Any, b: Any) -> Any:
    return np.exp(logpdf(x, a, b))
