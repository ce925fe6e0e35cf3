"""The Dirichlet distribution: logpdf, pdf over the last axis of x."""

from __future__ import annotations

from typing import Any

from ... import numpy as np
from ..special import gammaln


def logpdf(x: Any, alpha: Any) -> Any:
    return np.sum((alpha - 1) * np.log(x), axis=-1) + gammaln(np.sum(alpha, axis=-1)) - np.sum(gammaln(alpha), axis=-1)


def pdf(x: Any, alpha: Any) -> Any:
    return np.exp(logpdf(x, alpha))


def rvs(alpha: Any, size: Any = 1, random_state: Any = None) -> Any:
    """Samples, from SciPy (NumPy arrays). A draw has no derivative in ``alpha`` here: a traced
    ``alpha`` is refused rather than treated as a constant."""
    import scipy.stats as st

    if getattr(alpha, "requires_grad", False):
        raise TypeError("dirichlet.rvs: samples are not differentiable in alpha; pass alpha.detach()")
    return st.dirichlet.rvs(getattr(alpha, "_data", alpha), size=size, random_state=random_state)
