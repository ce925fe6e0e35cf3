"""flowgrad.scipy: special functions and distributions against SciPy's values and central
differences (the primitives themselves are in the op table, tests/opcases_scipy.py)."""

import numpy as onp
import pytest

import flowgrad as fg

sp = pytest.importorskip("scipy.special")
ss = pytest.importorskip("scipy.stats")

from flowgrad.scipy import special as fs  # noqa: E402
from flowgrad.scipy import stats  # noqa: E402

from .finite_differences import central  # noqa: E402

pytestmark = pytest.mark.numeric  # central differences


X = onp.array([0.3, 1.7, 2.5])
CASES = [  # (name, flowgrad function of x, SciPy's)
    ("norm.logpdf", lambda x: stats.norm.logpdf(x, 0.5, 2.0), lambda x: ss.norm.logpdf(x, 0.5, 2.0)),
    ("norm.pdf", lambda x: stats.norm.pdf(x, 0.5, 2.0), lambda x: ss.norm.pdf(x, 0.5, 2.0)),
    ("norm.cdf", lambda x: stats.norm.cdf(x, 0.5, 2.0), lambda x: ss.norm.cdf(x, 0.5, 2.0)),
    ("norm.logcdf", lambda x: stats.norm.logcdf(x * 10 - 20), lambda x: ss.norm.logcdf(x * 10 - 20)),
    ("norm.logpdf in scale", lambda s: stats.norm.logpdf(1.2, 0.0, s), lambda s: ss.norm.logpdf(1.2, 0.0, s)),
    ("t.logpdf", lambda x: stats.t.logpdf(x, 3.5, 0.2, 1.3), lambda x: ss.t.logpdf(x, 3.5, 0.2, 1.3)),
    ("t.logpdf in df", lambda d: stats.t.logpdf(1.1, d), lambda d: ss.t.logpdf(1.1, d)),
    ("gamma.logpdf", lambda x: stats.gamma.logpdf(x, 2.5, 0.1, 1.5), lambda x: ss.gamma.logpdf(x, 2.5, 0.1, 1.5)),
    ("gamma.logpdf in a", lambda a: stats.gamma.logpdf(1.3, a), lambda a: ss.gamma.logpdf(1.3, a)),
    ("beta.logpdf", lambda x: stats.beta.logpdf(x / 3, 2.5, 1.5), lambda x: ss.beta.logpdf(x / 3, 2.5, 1.5)),
    ("beta.pdf in a", lambda a: stats.beta.pdf(0.4, a, 2.0), lambda a: ss.beta.pdf(0.4, a, 2.0)),
    ("chi2.logpdf", lambda x: stats.chi2.logpdf(x, 2.5), lambda x: ss.chi2.logpdf(x, 2.5)),
    ("poisson.logpmf in mu", lambda m: stats.poisson.logpmf(3, m), lambda m: ss.poisson.logpmf(3, m)),
    ("gamma", fs.gamma, sp.gamma),
    ("betaln", lambda a: fs.betaln(a, 1.5), lambda a: sp.betaln(a, 1.5)),
    ("beta", lambda a: fs.beta(a, 1.5), lambda a: sp.beta(a, 1.5)),
    ("multigammaln", lambda a: fs.multigammaln(a + 2, 3), lambda a: onp.array([sp.multigammaln(v + 2, 3) for v in a])),
    ("psi", fs.psi, sp.psi),
    ("erf", fs.erf, sp.erf),
]


@pytest.mark.parametrize("name,ours,theirs", CASES, ids=[c[0] for c in CASES])
def test_values_and_gradients(name, ours, theirs):
    onp.testing.assert_allclose(ours(fg.tensor(X)).data, theirs(X), rtol=1e-12)
    w = onp.array([1.0, -0.5, 2.0])
    # central differences of float64 values: error ~1e-9 relative here
    onp.testing.assert_allclose(
        fg.grad(lambda v: fg.numpy.sum(ours(v) * w))(X),
        central(lambda v: onp.sum(theirs(v) * w), X),
        rtol=1e-6,
        atol=1e-8,
    )


def test_multivariate_normal_and_dirichlet():
    C = onp.array([[2.0, 0.3], [0.3, 1.0]])
    pts = onp.array([[0.1, 0.2], [1.0, -1.0], [0.5, 0.5]])
    mean = onp.array([0.2, -0.1])
    onp.testing.assert_allclose(
        stats.multivariate_normal.logpdf(fg.tensor(pts), mean, C).data,
        ss.multivariate_normal.logpdf(pts, mean, C),
        rtol=1e-12,
    )
    onp.testing.assert_allclose(
        float(stats.multivariate_normal.logpdf(fg.tensor(pts[0]), mean, C)),
        ss.multivariate_normal.logpdf(pts[0], mean, C),
        rtol=1e-12,
    )
    for arg in range(3):

        def f(*v, arg=arg):
            args = [pts, mean, C]
            args[arg] = v[0]
            return onp.sum(ss.multivariate_normal.logpdf(*args))

        args = [pts, mean, C]
        g = fg.grad(lambda *a: fg.numpy.sum(stats.multivariate_normal.logpdf(*a)), arg)(*args)
        fd = central(lambda v, arg=arg: f(v), args[arg])
        # for cov both read its lower triangle only (SciPy's eigh, flowgrad's cholesky): the
        # upper triangle's gradient is zero on both sides
        onp.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)
    alpha, p = onp.array([1.5, 2.0, 3.0]), onp.array([0.2, 0.3, 0.5])
    onp.testing.assert_allclose(
        float(stats.dirichlet.logpdf(fg.tensor(p), alpha)), ss.dirichlet.logpdf(p, alpha), rtol=1e-12
    )
    onp.testing.assert_allclose(
        fg.grad(lambda a: stats.dirichlet.logpdf(p, a))(alpha),
        central(lambda a: ss.dirichlet.logpdf(p, a), alpha),
        rtol=1e-6,
    )


def test_logsumexp_and_integer_orders():
    a = onp.array([[0.1, 2.0], [-1.0, 0.5]])
    onp.testing.assert_allclose(fs.logsumexp(fg.tensor(a), axis=1).data, sp.logsumexp(a, axis=1), rtol=1e-14)
    onp.testing.assert_allclose(
        fs.logsumexp(fg.tensor(a), b=onp.array([1.0, 2.0])).data, sp.logsumexp(a, b=onp.array([1.0, 2.0])), rtol=1e-14
    )
    assert float(fg.grad(lambda x: fs.polygamma(2, x))(1.5)) == pytest.approx(sp.polygamma(3, 1.5), rel=1e-12)
    with pytest.raises(fg.FlowgradError, match="order"):
        fg.grad(lambda n: fs.polygamma(n, 1.5))(1.0)
    assert fs.polygamma(1, fg.tensor([1.0], dtype=fg.float32)).dtype == fg.float32  # x's dtype kept
