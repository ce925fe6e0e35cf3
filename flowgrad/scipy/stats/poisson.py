"""The Poisson distribution: logpmf, pmf, differentiable in the rate mu (k is a count)."""

from __future__ import annotations

from typing import Any

from ... import numpy as np
from ..special import gammaln


def logpmf(k: Any, mu: Any) -> Any:
    return k * np.log(mu) - mu - gammaln(k + 1)


def pmf(k: Any, mu: Any) -> Any:
    return np.exp(logpmf(k, mu))
