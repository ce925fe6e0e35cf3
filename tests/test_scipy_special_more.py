"""The rest of autograd's SciPy surface: scipy.special's incomplete gamma and beta functions,
rgamma, gammasgn, the Bessel functions j0/j1/y0/y1/jn/yn and ive; scipy.linalg.solve_banded;
multivariate_normal with allow_singular=True. Values are SciPy's own (the forwards call it);
gradients against central differences of SciPy's functions, against HIPS autograd's where it
defines one, second derivatives by check_grads; derivatives that do not exist raise."""

import numpy as onp
import pytest

import flowgrad as fg
import flowgrad.numpy as np

sc = pytest.importorskip("scipy.special")
import scipy.linalg as sl  # noqa: E402
import scipy.stats as st  # noqa: E402

from flowgrad.scipy import special as fs  # noqa: E402
from flowgrad.scipy.linalg import solve_banded  # noqa: E402
from flowgrad.scipy.stats import multivariate_normal as mvn  # noqa: E402
from flowgrad.test_util import check_grads  # noqa: E402

from .finite_differences import central  # noqa: E402

pytestmark = pytest.mark.numeric  # central differences

rng = onp.random.default_rng(11)

# name, flowgrad's function of x, SciPy's, the points (inside the domain, away from poles)
UNARY = [
    ("gammainc", lambda x: fs.gammainc(1.7, x), lambda x: sc.gammainc(1.7, x), onp.array([0.2, 1.1, 3.5])),
    ("gammaincc", lambda x: fs.gammaincc(0.6, x), lambda x: sc.gammaincc(0.6, x), onp.array([0.2, 1.1, 3.5])),
    ("betainc", lambda x: fs.betainc(1.7, 0.8, x), lambda x: sc.betainc(1.7, 0.8, x), onp.array([0.1, 0.5, 0.9])),
    ("rgamma", fs.rgamma, sc.rgamma, onp.array([-2.5, -0.3, 0.4, 1.7, 6.0])),
    ("gammasgn", fs.gammasgn, sc.gammasgn, onp.array([-2.5, -1.5, -0.3, 0.4, 6.0])),
    ("j0", fs.j0, sc.j0, onp.array([-4.0, 0.3, 2.4, 9.0])),
    ("j1", fs.j1, sc.j1, onp.array([-4.0, 0.3, 2.4, 9.0])),
    ("y0", fs.y0, sc.y0, onp.array([0.3, 2.4, 9.0])),
    ("y1", fs.y1, sc.y1, onp.array([0.3, 2.4, 9.0])),
    ("jn", lambda x: fs.jn(3, x), lambda x: sc.jn(3, x), onp.array([-4.0, 0.3, 2.4, 9.0])),
    ("yn", lambda x: fs.yn(2, x), lambda x: sc.yn(2, x), onp.array([0.5, 2.4, 9.0])),
    ("ive", lambda x: fs.ive(2, x), lambda x: sc.ive(2, x), onp.array([-3.0, -0.4, 0.4, 3.0, 40.0])),
    ("ive v=0.5", lambda x: fs.ive(0.5, x), lambda x: sc.ive(0.5, x), onp.array([0.4, 3.0, 40.0])),
]


@pytest.mark.parametrize("name, ours, theirs, x", UNARY, ids=[u[0] for u in UNARY])
def test_values_are_scipys_and_gradients_central_differences(name, ours, theirs, x):
    onp.testing.assert_array_equal(ours(fg.tensor(x)).numpy(), theirs(x))  # SciPy's own forward
    got = fg.elementwise_grad(ours)(x)
    onp.testing.assert_allclose(got, central(lambda v: onp.sum(theirs(v)), x), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name, ours, theirs, x", UNARY, ids=[u[0] for u in UNARY])
def test_second_derivatives(name, ours, theirs, x):
    check_grads(ours, modes=["rev"], order=2)(x)


AUTOGRAD = [  # (name, autograd's call on a module, flowgrad's function, x)
    ("gammainc", lambda s: lambda x: s.gammainc(1.7, x), UNARY[0][1], UNARY[0][3]),
    ("gammaincc", lambda s: lambda x: s.gammaincc(0.6, x), UNARY[1][1], UNARY[1][3]),
    ("betainc", lambda s: lambda x: s.betainc(1.7, 0.8, x), UNARY[2][1], UNARY[2][3]),
    ("rgamma", lambda s: s.rgamma, fs.rgamma, UNARY[3][3]),
    ("j0", lambda s: s.j0, fs.j0, UNARY[5][3]),
    ("j1", lambda s: s.j1, fs.j1, UNARY[6][3]),
    ("y0", lambda s: s.y0, fs.y0, UNARY[7][3]),
    ("y1", lambda s: s.y1, fs.y1, UNARY[8][3]),
    ("jn", lambda s: lambda x: s.jn(3, x), UNARY[9][1], UNARY[9][3]),
    ("yn", lambda s: lambda x: s.yn(2, x), UNARY[10][1], UNARY[10][3]),
    ("ive", lambda s: lambda x: s.ive(2, x), UNARY[11][1], onp.array([0.4, 3.0, 40.0])),
]


@pytest.mark.parametrize("name, theirs, ours, x", AUTOGRAD, ids=[a[0] for a in AUTOGRAD])
def test_gradients_equal_autograds(name, theirs, ours, x):
    autograd = pytest.importorskip("autograd")
    import autograd.scipy.special as asp

    want = autograd.elementwise_grad(theirs(asp))(x)
    # equal formulas written differently (logs against powers, a recurrence against n / x)
    onp.testing.assert_allclose(fg.elementwise_grad(ours)(x), want, rtol=1e-12, atol=1e-15)


def test_gammasgn_has_zero_gradient_and_rgamma_matches_its_derivative_off_the_poles():
    x = onp.array([-2.5, -0.3, 0.4, 6.0])
    onp.testing.assert_array_equal(fg.elementwise_grad(fs.gammasgn)(x), onp.zeros(4))  # piecewise constant
    # 1/Gamma' = -digamma / Gamma, here on both sides of the poles
    onp.testing.assert_allclose(fg.elementwise_grad(fs.rgamma)(x), -sc.digamma(x) * sc.rgamma(x), rtol=1e-13)


REFUSED = [
    ("gammainc's a", lambda a: fs.gammainc(a, 1.0)),
    ("gammaincc's a", lambda a: fs.gammaincc(a, 1.0)),
    ("betainc's a", lambda a: fs.betainc(a, 2.0, 0.3)),
    ("betainc's b", lambda b: fs.betainc(2.0, b, 0.3)),
    ("jn's order n", lambda n: fs.jn(n, 1.0)),
    ("yn's order n", lambda n: fs.yn(n, 1.0)),
    ("ive's order v", lambda v: fs.ive(v, 1.0)),
]


@pytest.mark.parametrize("what, fn", REFUSED, ids=[r[0] for r in REFUSED])
def test_derivatives_that_do_not_exist_here_raise_never_zeros(what, fn):
    with pytest.raises(fg.NoDerivativeError, match=what):
        fg.grad(fn)(2.0)  # an integer value: SciPy warns on a fractional yn order


def test_a_derivative_in_x_alone_is_given_beside_a_constant_shape():
    a = onp.array([0.5, 1.0, 2.0])  # a's array broadcast against a scalar x: x's gradient sums
    got = fg.grad(lambda x: np.sum(fs.gammainc(a, x)))(0.7)
    assert got == pytest.approx(onp.sum(onp.exp(-0.7) * 0.7 ** (a - 1) / sc.gamma(a)), rel=1e-13)
    # at x = 0 with a = 1 (b = 1) the density is 1, not 0 * log(0)'s nan
    assert fg.grad(lambda x: fs.gammainc(1.0, x))(0.0) == 1.0
    assert fg.grad(lambda x: fs.betainc(1.0, 1.0, x))(0.0) == 1.0


def test_dtypes_and_plain_values():
    x32 = onp.array([0.5, 1.5], dtype=onp.float32)
    for out in (fs.gammainc(1.7, fg.tensor(x32)), fs.betainc(2.0, 3.0, fg.tensor(x32 / 2)), fs.jn(2, fg.tensor(x32))):
        assert out.dtype == fg.float32  # a Python number beside a float32 tensor is weak
    assert fs.gammainc(onp.array([1.7]), fg.tensor(x32)).dtype == fg.float64  # a float64 array is not
    assert isinstance(fs.j0(1.0), onp.floating) and isinstance(fs.betainc(1.0, 2.0, onp.array([0.5])), onp.ndarray)


# ----- scipy.linalg.solve_banded ------------------------------------------------------------------
def _banded(nl, nu, n):
    ab = rng.standard_normal((nl + nu + 1, n))
    ab[nu] += 6.0  # diagonally dominant: well conditioned
    dense = onp.zeros((n, n))
    for i in range(n):
        for j in range(max(0, i - nl), min(n, i + nu + 1)):
            dense[i, j] = ab[nu + i - j, j]
    return ab, dense


def _to_band(full, nl, nu):
    """A dense matrix's gradient read back on the band (what each entry of ab stands for)."""
    n = full.shape[0]
    out = onp.zeros((nl + nu + 1, n))
    for j in range(n):
        for i in range(max(0, j - nu), min(n, j + nl + 1)):
            out[nu + i - j, j] = full[i, j]
    return out


@pytest.mark.parametrize("nl, nu, b_shape", [(1, 1, (5,)), (2, 0, (4, 3)), (0, 2, (6,)), (1, 3, (5, 2)), (0, 0, (3,))])
def test_solve_banded_gradients_are_the_dense_solves(nl, nu, b_shape):
    ab, dense = _banded(nl, nu, b_shape[0])
    b, w = rng.standard_normal(b_shape), rng.standard_normal(b_shape)
    onp.testing.assert_allclose(solve_banded((nl, nu), fg.tensor(ab), b).numpy(), sl.solve_banded((nl, nu), ab, b))
    g_ab, g_b = fg.grad(lambda m, v: np.sum(solve_banded((nl, nu), m, v) * w), (0, 1))(ab, b)
    g_dense, g_b_dense = fg.grad(lambda m, v: np.sum(np.linalg.solve(m, v) * w), (0, 1))(dense, b)
    onp.testing.assert_allclose(g_ab, _to_band(g_dense, nl, nu), rtol=1e-10, atol=1e-13)
    onp.testing.assert_allclose(g_b, g_b_dense, rtol=1e-10, atol=1e-13)
    check_grads(lambda m, v: solve_banded((nl, nu), m, v), (0, 1), modes=["rev"], order=2)(ab, b)


def test_solve_banded_refuses_a_bad_band_clearly():
    ab, _ = _banded(1, 1, 4)
    with pytest.raises(ValueError, match=r"shape \(l \+ u \+ 1, n\) = \(4, n\)"):
        solve_banded((2, 1), ab, onp.ones(4))
    with pytest.raises(ValueError, match="pair of integers"):
        solve_banded(1, ab, onp.ones(4))
    with pytest.raises(ValueError, match="non-negative"):
        solve_banded((-1, 3), ab, onp.ones(4))


# ----- multivariate_normal with allow_singular -----------------------------------------------------
def _singular():
    basis = rng.standard_normal((4, 2))
    mean = rng.standard_normal(4)
    inside = (mean[:, None] + basis @ rng.standard_normal((2, 3))).T  # three points on the support
    return basis @ basis.T, mean, inside, basis


def test_singular_values_are_scipys_on_and_off_the_support():
    cov, mean, pts, _ = _singular()
    off = pts.copy()
    off[1, 0] += 1.0  # leaves the plane the covariance spans
    for x in (pts, pts[0], off):
        want = st.multivariate_normal.logpdf(x, mean, cov, allow_singular=True)
        got = onp.asarray(mvn.logpdf(fg.tensor(x), mean, cov, allow_singular=True).numpy())
        onp.testing.assert_allclose(got, want, rtol=1e-10)  # eigenvectors of the same matrix
        onp.testing.assert_allclose(
            mvn.pdf(fg.tensor(x), mean, cov, allow_singular=True).numpy(),
            st.multivariate_normal.pdf(x, mean, cov, allow_singular=True),
            rtol=1e-10,
        )


def test_singular_gradients_in_x_and_mean_along_the_support():
    cov, mean, pts, basis = _singular()
    x = pts[0]
    # moving x (or mean) along the support: z -> logpdf(x + basis z), against SciPy's differences
    for arg, sign in ((0, 1.0), (1, -1.0)):
        g = fg.grad(lambda *v: mvn.logpdf(*v, cov, allow_singular=True), arg)(x, mean)
        fd = central(
            lambda z: st.multivariate_normal.logpdf(x + sign * basis @ z, mean, cov, allow_singular=True), onp.zeros(2)
        )
        onp.testing.assert_allclose(basis.T @ g, fd, rtol=1e-6, atol=1e-8)  # x - b z is mean + b z
    # second derivatives along the support (a step off it is -inf)
    along = lambda z, u: mvn.logpdf(x + basis @ z, mean + basis @ u, cov, allow_singular=True)  # noqa: E731
    check_grads(along, (0, 1), modes=["rev"], order=2)(onp.zeros(2), onp.array([0.1, -0.2]))


def test_singular_gradients_equal_autograds():
    autograd = pytest.importorskip("autograd")
    import autograd.scipy.stats.multivariate_normal as amvn

    cov, mean, pts, _ = _singular()
    for arg in (0, 1):
        want = autograd.grad(lambda *v: amvn.logpdf(*v, cov, allow_singular=True), arg)(pts[0], mean)
        got = fg.grad(lambda *v: mvn.logpdf(*v, cov, allow_singular=True), arg)(pts[0], mean)
        onp.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)  # pinv against eigenvectors


def test_a_singular_covariance_gradient_is_refused_and_a_full_rank_one_given():
    cov, mean, pts, _ = _singular()
    with pytest.raises(fg.NoDerivativeError, match="singular covariance"):
        fg.grad(lambda c: mvn.logpdf(pts[0], mean, c, allow_singular=True))(cov)
    full = cov + onp.eye(4)  # full rank: allow_singular changes nothing, cov's gradient exists
    got = fg.grad(lambda c: mvn.logpdf(pts[0], mean, c, allow_singular=True))(full)
    onp.testing.assert_allclose(got, fg.grad(lambda c: mvn.logpdf(pts[0], mean, c))(full), rtol=1e-14)
    with pytest.raises(ValueError, match="positive semidefinite"):
        mvn.logpdf(pts[0], mean, -full, allow_singular=True)
