"""``scipy.stats`` distributions whose densities autograd differentiates: norm,
multivariate_normal, t, beta, gamma, dirichlet, poisson, chi2 (each also a module:
``import flowgrad.scipy.stats.norm as norm``)."""

from . import beta, chi2, dirichlet, gamma, multivariate_normal, norm, poisson, t

__all__ = ["norm", "multivariate_normal", "t", "beta", "gamma", "dirichlet", "poisson", "chi2"]
