"""The Dirichlet distribution: logpdf, pdf over the last axis of x."""

from __future__ import annotations

from typing import Any

from ... import numpy as np
from ..special import gammaln


def logpdf(x: Any, alpha: Any) -> Any:
    return np.sum((alpha - 1) * np.log(x), axis=-1) + gammaln(np.sum(alpha, axis=-1)) - np.sum(gammaln(alpha), axis=-1)


def pdf(x: Any, alpha: Any) -> Any:
    return np.exp(logpdf(x, alpha))
