"""The multivariate normal distribution: logpdf, pdf (through a Cholesky factor), and with
``allow_singular=True`` SciPy's degenerate form for a singular covariance (through its eigenvectors).

>>> import flowgrad as fg, flowgrad.numpy as np
>>> from flowgrad.scipy.stats import multivariate_normal as mvn
>>> cov = np.diag(np.array([1.0, 0.0]))  # all its mass on the line y = 0
>>> float(fg.grad(lambda x: mvn.logpdf(x, np.zeros(2), cov, allow_singular=True))(np.array([0.5, 0.0]))[0])
-0.5
"""

from __future__ import annotations

import math
from typing import Any

import numpy as onp

from ... import numpy as np
from ...errors import NoDerivativeError

_LOG_2PI = math.log(2 * math.pi)


def logpdf(x: Any, mean: Any = None, cov: Any = 1.0, allow_singular: bool = False) -> Any:
    """log N(x; mean, cov) for x of shape (..., d). With ``allow_singular``, a singular ``cov``
    gives SciPy's density on the subspace it spans (-inf off it), differentiable in ``x`` and
    ``mean``; a full-rank one the ordinary density, differentiable in ``cov`` too."""
    d = np.shape(x)[-1]
    diff = x if mean is None else x - mean
    cov = cov * np.eye(d) if np.ndim(cov) == 0 else cov
    if allow_singular:
        degenerate = _degenerate_logpdf(diff, cov)
        if degenerate is not None:
            return degenerate
    chol = np.linalg.cholesky(cov)
    z = np.linalg.solve(chol, np.swapaxes(np.atleast_2d(diff), -1, -2))  # (d, n) whitened
    maha = np.sum(z * z, axis=-2)
    log_det = 2 * np.sum(np.log(np.diagonal(chol, 0, -2, -1)), axis=-1)
    out = -0.5 * (maha + log_det + d * _LOG_2PI)
    return out if np.ndim(diff) > 1 else out[0]


def _degenerate_logpdf(diff: Any, cov: Any) -> Any:
    """SciPy's density for a singular ``cov`` (its pseudo-inverse and pseudo-determinant, over
    the eigenvalues SciPy counts as non-zero), or None when ``cov`` has full rank.

    Only the eigenvectors of the plain matrix are used: the density is not differentiable in a
    singular covariance (a change that raises its rank moves the support), so that gradient is
    refused rather than given for the subspace alone."""
    c = onp.asarray(getattr(cov, "_data", cov))
    s, vecs = onp.linalg.eigh(c)
    # SciPy's cut-off for a zero eigenvalue (_eigvalsh_to_eps, shared with scipy.linalg.pinvh)
    eps = {"f": 1e3, "d": 1e6}[s.dtype.char.lower()] * onp.finfo(s.dtype).eps * onp.max(onp.abs(s))
    if onp.min(s) < -eps:
        raise ValueError("multivariate_normal: cov must be symmetric positive semidefinite")
    keep = s > eps
    if keep.all():
        return None
    if getattr(cov, "requires_grad", False):
        raise NoDerivativeError(
            "multivariate_normal with allow_singular=True: the density is not differentiable in a "
            f"singular covariance (rank {int(keep.sum())} of {len(s)}); differentiate in x and mean"
        )
    whiten = vecs[:, keep] / onp.sqrt(s[keep])
    z = diff @ whiten.astype(c.dtype)
    maha = np.sum(z * z, axis=-1)
    out = -0.5 * (int(keep.sum()) * _LOG_2PI + onp.sum(onp.log(s[keep])) + maha)
    # Off the subspace the covariance spans the density is 0: SciPy's support test, on the values
    residual = onp.linalg.norm(onp.asarray(getattr(diff, "_data", diff)) @ vecs[:, ~keep], axis=-1)
    return np.where(residual < 1e3 * eps, out, -onp.inf)


def pdf(x: Any, mean: Any = None, cov: Any = 1.0, allow_singular: bool = False) -> Any:
    """N(x; mean, cov): the exponential of :func:`logpdf`."""
    return np.exp(logpdf(x, mean, cov, allow_singular))


def entropy(mean: Any = None, cov: Any = 1.0) -> Any:
    """The differential entropy, ``(d log(2 pi e) + log det cov) / 2``, differentiable in cov."""
    d = 1 if np.ndim(cov) == 0 else np.shape(cov)[-1]
    log_det = d * np.log(cov) if np.ndim(cov) == 0 else np.linalg.slogdet(cov)[1]
    return 0.5 * (d * (1 + math.log(2 * math.pi)) + log_det)
