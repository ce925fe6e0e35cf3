"""The Poisson distribution: logpmf, pmf, differentiable in the rate mu (k is a count)."""

from __future__ import annotations

from typing import Any

import numpy as onp
import scipy.stats as _st

from ... import numpy as np
from ...extend import defvjp, primitive
from ..special import gammaln
from ._cdf import unbroadcast


def logpmf(k: Any, mu: Any) -> Any:
    return k * np.log(mu) - mu - gammaln(k + 1)


def pmf(k: Any, mu: Any) -> Any:
    return np.exp(logpmf(k, mu))


@primitive
def _cdf(k: Any, mu: Any) -> Any:
    return _st.poisson.cdf(k, mu)


# d/dmu sum_{j <= k} exp(-mu) mu^j / j! telescopes to -pmf(floor(k), mu); k is a count: no derivative
defvjp(_cdf, None, lambda ans, k, mu: lambda g: unbroadcast(-g * pmf(np.floor(k), mu), onp.shape(mu)))


def cdf(k: Any, mu: Any) -> Any:
    """P(K <= k), differentiable in mu."""
    return _cdf(k, mu)
