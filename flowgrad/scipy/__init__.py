"""``import flowgrad.scipy.special``, ``flowgrad.scipy.stats``: the parts of SciPy that HIPS
autograd differentiates, differentiable here (optional extra ``flowgrad[scipy]``).

>>> import flowgrad as fg
>>> from flowgrad.scipy.special import gammaln
>>> round(float(fg.grad(gammaln)(1.0)), 12)  # digamma(1) = -Euler's gamma
-0.577215664902
"""

try:
    import scipy.special as _scipy_special  # noqa: F401
except ImportError as _e:  # pragma: no cover - the extra is installed by the tests
    raise ImportError("flowgrad.scipy needs SciPy: pip install flowgrad[scipy]") from _e
