"""flowgrad.scipy beyond special functions: the distributions' cdfs, integrate.odeint (adjoint
gradients) and scipy.linalg (sqrtm, solve_triangular, solve_sylvester, cholesky): values equal
SciPy's, gradients against central differences of SciPy's own functions, second derivatives by
check_grads."""

import numpy as onp
import pytest

import flowgrad as fg
import flowgrad.numpy as np

sl = pytest.importorskip("scipy.linalg")
import scipy.integrate as si  # noqa: E402
import scipy.stats as st  # noqa: E402

from flowgrad.scipy import linalg as fl  # noqa: E402
from flowgrad.scipy.integrate import odeint  # noqa: E402
from flowgrad.scipy.stats import beta, chi2, gamma, norm, poisson, t  # noqa: E402
from flowgrad.test_util import check_grads  # noqa: E402

from .finite_differences import central  # noqa: E402

pytestmark = pytest.mark.numeric  # central differences

rng = onp.random.default_rng(7)


def _same_value_and_gradient(ours, theirs, x, rtol=1e-6):
    out = theirs(x)
    onp.testing.assert_array_equal(onp.asarray(getattr(ours(x), "data", ours(x))), out)
    w = rng.standard_normal(onp.shape(out))
    got = fg.grad(lambda v: np.sum(ours(v) * w))(x)
    onp.testing.assert_allclose(got, central(lambda v: onp.sum(theirs(v) * w), x), rtol=rtol, atol=1e-8)


CDFS = [
    ("t.cdf", lambda v: t.cdf(v, 3.0, 0.1, 1.5), lambda v: st.t.cdf(v, 3.0, 0.1, 1.5)),
    ("t.logcdf", lambda v: t.logcdf(v, 4.0), lambda v: st.t.logcdf(v, 4.0)),
    ("beta.cdf", lambda v: beta.cdf(v, 2.0, 3.0), lambda v: st.beta.cdf(v, 2.0, 3.0)),
    ("gamma.cdf", lambda v: gamma.cdf(v, 2.0, 0.1, 2.0), lambda v: st.gamma.cdf(v, 2.0, 0.1, 2.0)),
    ("chi2.cdf", lambda v: chi2.cdf(v, 3.0), lambda v: st.chi2.cdf(v, 3.0)),
    ("poisson.cdf in mu", lambda v: poisson.cdf(3, v), lambda v: st.poisson.cdf(3, v)),
    ("norm.sf", lambda v: norm.sf(v, 0.2, 1.3), lambda v: st.norm.sf(v, 0.2, 1.3)),
    ("norm.logsf", lambda v: norm.logsf(v, 0.2, 1.3), lambda v: st.norm.logsf(v, 0.2, 1.3)),
]


@pytest.mark.parametrize("name, ours, theirs", CDFS, ids=[c[0] for c in CDFS])
def test_cdfs(name, ours, theirs):
    x = onp.array([0.3, 0.6, 0.95])
    out = theirs(x)
    onp.testing.assert_allclose(onp.asarray(getattr(ours(x), "data", ours(x))), out, rtol=1e-14)
    got = fg.elementwise_grad(ours)(x)
    onp.testing.assert_allclose(got, central(lambda v: onp.sum(theirs(v)), x), rtol=1e-6, atol=1e-9)


def test_cdf_broadcasts_over_parameters_and_refuses_a_shape_derivative():
    df = onp.array([2.0, 5.0, 9.0])
    got = fg.grad(lambda v: np.sum(t.cdf(v, df)))(0.4)  # a scalar x spread over three df
    assert got == pytest.approx(onp.sum(st.t.pdf(0.4, df)), rel=1e-12)
    with pytest.raises(NotImplementedError, match="no derivative rule for argument 1"):
        fg.grad(lambda d: t.cdf(0.5, d))(3.0)


def _dynamics(y, time, a, b):
    return np.dot(y**3, a) + b * np.sin(time)


def test_odeint_gradients_in_y0_times_and_args():
    a0 = onp.array([[-0.1, 2.0], [-2.0, -0.1]])
    times, y0, b = onp.linspace(0.1, 1.0, 5), onp.array([1.0, 0.5]), 0.3
    w = rng.standard_normal((5, 2))
    opts = {"rtol": 1e-11, "atol": 1e-12}  # tight solves: the adjoint and the differences agree to 1e-7

    def ours(*args):
        return np.sum(odeint(_dynamics, args[0], args[1], (args[2], args[3]), **opts) * w)

    def theirs(*args):
        rhs = lambda y, s: onp.dot(y**3, args[2]) + args[3] * onp.sin(s)  # noqa: E731
        return onp.sum(si.odeint(rhs, args[0], args[1], **opts) * w)

    args = [y0, times, a0, b]
    onp.testing.assert_array_equal(
        odeint(_dynamics, y0, times, (a0, b), **opts), si.odeint(lambda y, s: _dynamics(y, s, a0, b), y0, times, **opts)
    )
    for i in range(4):

        def along(v, i=i):
            moved = list(args)
            moved[i] = v if onp.ndim(v) else float(v)
            return theirs(*moved)

        got = fg.grad(ours, i)(*args)
        onp.testing.assert_allclose(got, central(along, onp.asarray(args[i]), 1e-5), rtol=1e-6, atol=1e-7)


def test_odeint_args_may_be_nests_and_plain_calls_are_scipys():
    params = {"k": 0.5, "shift": onp.array([0.1])}
    f = lambda y, s, p: -p["k"] * y + p["shift"]  # noqa: E731
    end = lambda p: odeint(f, onp.array([1.0]), onp.array([0.0, 2.0]), (p,), rtol=1e-11, atol=1e-12)[-1, 0]  # noqa: E731
    grads = fg.grad(end)(params)
    # y(2) = s/k + (1 - s/k) exp(-2k): differentiate by hand
    k, s = 0.5, 0.1
    onp.testing.assert_allclose(grads["k"], -s / k**2 + s / k**2 * onp.exp(-2 * k) - 2 * (1 - s / k) * onp.exp(-2 * k))
    onp.testing.assert_allclose(grads["shift"], [(1 - onp.exp(-2 * k)) / k])


def test_scipy_linalg_values_and_gradients():
    a = rng.standard_normal((4, 4))
    spd = a @ a.T + 4 * onp.eye(4)
    _same_value_and_gradient(fl.sqrtm, sl.sqrtm, spd)
    _same_value_and_gradient(fl.cholesky, sl.cholesky, spd)
    _same_value_and_gradient(lambda v: fl.cholesky(v, lower=True), lambda v: sl.cholesky(v, lower=True), spd)
    b, q, bb = rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), rng.standard_normal((3, 3))
    for trans in (0, 1, "T"):
        for lower in (False, True):
            for unit in (False, True):
                tri = (onp.tril(a) if lower else onp.triu(a)) + 3 * onp.eye(4)
                kw = {"trans": trans, "lower": lower, "unit_diagonal": unit}
                _same_value_and_gradient(
                    lambda v, kw=kw: fl.solve_triangular(v, b, **kw),
                    lambda v, kw=kw: sl.solve_triangular(v, b, **kw),
                    tri,
                )
                _same_value_and_gradient(
                    lambda v, kw=kw, tri=tri: fl.solve_triangular(tri, v, **kw),
                    lambda v, kw=kw, tri=tri: sl.solve_triangular(tri, v, **kw),
                    b[:, 0],
                )
    _same_value_and_gradient(lambda v: fl.solve_sylvester(v, bb, q), lambda v: sl.solve_sylvester(v, bb, q), spd)
    _same_value_and_gradient(lambda v: fl.solve_sylvester(spd, v, q), lambda v: sl.solve_sylvester(spd, v, q), bb)
    _same_value_and_gradient(lambda v: fl.solve_sylvester(spd, bb, v), lambda v: sl.solve_sylvester(spd, bb, v), q)


def test_scipy_linalg_second_derivatives_and_refusals():
    a = rng.standard_normal((3, 3))
    spd = a @ a.T + 3 * onp.eye(3)
    check_grads(fl.sqrtm, modes=["rev"])(spd)
    check_grads(fl.cholesky, modes=["rev"])(spd)
    check_grads(lambda v: fl.solve_triangular(v, a, lower=True), modes=["rev"])(onp.tril(a) + 3 * onp.eye(3))
    with pytest.raises(fg.DTypeError, match="complex"):
        fl.sqrtm(fg.tensor(-spd, requires_grad=True))
    with pytest.raises(ValueError, match="trans must be"):
        fl.solve_triangular(spd, a, trans="X")


@pytest.mark.parametrize("mode", ["full", "valid", "same"])
def test_convolve_matches_scipy_and_its_gradients_are_exact(mode):
    import scipy.signal as ss

    from flowgrad.scipy.signal import convolve

    a, b = rng.standard_normal((5, 4)), rng.standard_normal((3, 2))
    for x, y in ((a, b), (b, a)):
        onp.testing.assert_allclose(convolve(x, y, mode=mode), ss.convolve(x, y, mode=mode), rtol=1e-13, atol=1e-14)
    check_grads(lambda x, y: convolve(x, y, mode=mode), argnum=(0, 1), modes=["rev"])(a, b)


def test_convolve_with_dot_axes_is_a_bank_of_filters():
    from flowgrad.scipy.signal import convolve

    images, filters = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((3, 4, 3, 3))
    out = convolve(images, filters, axes=([2, 3], [2, 3]), dot_axes=([1], [0]), mode="valid")
    assert out.shape == (2, 4, 4, 4)  # a's other axes, b's other axes, then the convolved ones
    # by hand: out[n, f, i, j] = sum_c sum_k sum_l images[n, c, i + 2 - k, j + 2 - l] filters[c, f, k, l]
    flipped = filters[:, :, ::-1, ::-1]
    by_hand = onp.zeros((2, 4, 4, 4))
    for i in range(4):
        for j in range(4):
            by_hand[:, :, i, j] = onp.einsum("nckl,cfkl->nf", images[:, :, i : i + 3, j : j + 3], flipped)
    onp.testing.assert_allclose(out, by_hand, rtol=1e-12, atol=1e-13)
    check_grads(
        lambda x, y: convolve(x, y, axes=([2, 3], [2, 3]), dot_axes=([1], [0]), mode="valid"),
        argnum=(0, 1),
        modes=["rev"],
        order=1,
    )(images, filters)
    with pytest.raises(ValueError, match="mode must be"):
        convolve(images, filters, mode="circular")


def test_plain_arguments_give_scipys_plain_values_and_rvs_refuses_a_traced_alpha():
    import scipy.special as sc

    from flowgrad.scipy import special
    from flowgrad.scipy.stats import dirichlet, multivariate_normal

    assert special.erf(0.5) == sc.erf(0.5) and isinstance(special.gammaln(onp.ones(2)), onp.ndarray)
    assert isinstance(special.logsumexp(onp.ones(3)), onp.floating)  # not a Tensor outside a gradient
    draws = dirichlet.rvs(onp.array([1.0, 2.0, 3.0]), size=4, random_state=0)
    onp.testing.assert_array_equal(draws, st.dirichlet.rvs(onp.array([1.0, 2.0, 3.0]), size=4, random_state=0))
    with pytest.raises(TypeError, match="not differentiable in alpha"):
        fg.grad(lambda a: np.sum(dirichlet.rvs(a)))(onp.array([1.0, 2.0]))
    cov = onp.array([[2.0, 0.3], [0.3, 1.0]])
    assert multivariate_normal.entropy(cov=cov) == pytest.approx(st.multivariate_normal(cov=cov).entropy(), rel=1e-12)
    onp.testing.assert_allclose(fg.grad(lambda c: multivariate_normal.entropy(cov=c))(cov), onp.linalg.inv(cov) / 2)


def test_odeint_second_and_third_derivatives_are_the_closed_forms():
    # dy/dt = -k y from 1: y(T) = exp(-k T), so d^2/dk^2 = T^2 y, d^3/dk^3 = -T^3 y, d^2/dT^2 = k^2 y
    opts = {"rtol": 1e-11, "atol": 1e-12}  # the adjoints agree with the closed forms to 1e-9
    f = lambda y, s, k: -k * y  # noqa: E731
    end = lambda k, T=1.5: odeint(f, np.array([1.0]), np.stack([0.0, T]), (k,), **opts)[-1, 0]  # noqa: E731
    y = onp.exp(-0.5 * 1.5)
    assert fg.grad(fg.grad(end))(0.5) == pytest.approx(1.5**2 * y, rel=1e-8)
    assert fg.grad(fg.grad(fg.grad(end)))(0.5) == pytest.approx(-(1.5**3) * y, rel=1e-8)
    assert fg.grad(fg.grad(lambda T: end(0.5, T)))(1.5) == pytest.approx(0.25 * y, rel=1e-8)


def test_odeint_hessian_in_y0_and_t0_against_the_closed_form():
    # dy/dt = -y^2 from y0 at t0: y(T) = y0 / (1 + y0 (T - t0)); its Hessian in (y0, t0) by hand
    opts = {"rtol": 1e-11, "atol": 1e-12}
    end = lambda v: odeint(lambda y, s: -y * y, v[:1], np.stack([v[1], 1.5]), **opts)[-1, 0]  # noqa: E731
    y0, t0 = 0.7, 0.2
    tau = 1.5 - t0
    q = 1 + y0 * tau  # dy/dy0 = 1/q^2, dy/dt0 = y0^2/q^2
    exact = onp.array([[-2 * tau, 2 * y0], [2 * y0, 2 * y0**3]]) / q**3
    onp.testing.assert_allclose(fg.hessian(end)(onp.array([y0, t0])), exact, rtol=1e-7)


def test_odeint_second_derivatives_by_check_grads():
    def dynamics(y, s, a, b):
        return -np.sqrt(s) - y + a - np.mean((y + b) ** 2)

    y0, times, args = (
        rng.standard_normal(3),
        onp.linspace(0.1, 0.2, 4),
        (rng.standard_normal(3), rng.standard_normal(3)),
    )
    check_grads(lambda y, s, a: odeint(dynamics, y, s, a), modes=["rev"], order=2)(y0, times, args)
