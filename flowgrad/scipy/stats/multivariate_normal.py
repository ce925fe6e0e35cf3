"""The multivariate normal distribution: logpdf, pdf (through a Cholesky factor)."""

from __future__ import annotations

import math
from typing import Any

from ... import numpy as np


def logpdf(x: Any, mean: Any = None, cov: Any = 1.0, allow_singular: bool = False) -> Any:
    """log N(x; mean, cov) for x of shape (..., d)."""
    if allow_singular:
        raise ValueError("multivariate_normal.logpdf: allow_singular=True is not supported")
    d = np.shape(x)[-1]
    diff = x if mean is None else x - mean
    cov = cov * np.eye(d) if np.ndim(cov) == 0 else cov
    chol = np.linalg.cholesky(cov)
    z = np.linalg.solve(chol, np.swapaxes(np.atleast_2d(diff), -1, -2))  # (d, n) whitened
    maha = np.sum(z * z, axis=-2)
    log_det = 2 * np.sum(np.log(np.diagonal(chol, 0, -2, -1)), axis=-1)
    out = -0.5 * (maha + log_det + d * math.log(2 * math.pi))
    return out if np.ndim(diff) > 1 else out[0]


def pdf(x: Any, mean: Any = None, cov: Any = 1.0) -> Any:
    return np.exp(logpdf(x, mean, cov))


def entropy(mean: Any = None, cov: Any = 1.0) -> Any:
    """The differential entropy, ``(d log(2 pi e) + log det cov) / 2``, differentiable in cov."""
    d = 1 if np.ndim(cov) == 0 else np.shape(cov)[-1]
    log_det = d * np.log(cov) if np.ndim(cov) == 0 else np.linalg.slogdet(cov)[1]
    return 0.5 * (d * (1 + math.log(2 * math.pi)) + log_det)
