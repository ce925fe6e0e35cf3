"""flowgrad.numpy.linalg beyond the op table: norm in every form, matrix_power, slogdet's sign,
the UPLO and full_matrices forms, NumPy's other linalg functions, and PyTorch as a referee."""

import numpy as onp
import pytest

import flowgrad as fg
import flowgrad.numpy as np

from .finite_differences import central

pytestmark = pytest.mark.numeric  # central differences and PyTorch comparisons

RNG = onp.random.default_rng(3)


def check(f, x, rtol=1e-6, atol=1e-8):
    # central differences of float64 values: error ~1e-10 here, far inside the tolerances
    onp.testing.assert_allclose(fg.grad(f)(x), central(f, x), rtol=rtol, atol=atol)


VECTOR_ORDS = [None, 1, 2, 3, 0.5, onp.inf, -onp.inf]
MATRIX_ORDS = [None, "fro", "nuc", 1, -1, 2, -2, onp.inf, -onp.inf]


@pytest.mark.parametrize("ord", VECTOR_ORDS, ids=str)
@pytest.mark.parametrize("axis", [None, 0, 1, -1, (1,)], ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_vector_norms(ord, axis, keepdims):
    x = RNG.permutation(12).reshape(3, 4) * 0.3 - 1.55  # distinct magnitudes: no ties for inf norms
    if axis is None and ord is not None:
        x = x[0]  # NumPy: ord with axis=None needs a vector or a matrix
    want = onp.linalg.norm(x, ord, axis, keepdims)
    got = np.linalg.norm(fg.tensor(x), ord, axis, keepdims)
    onp.testing.assert_allclose(got.data, want, rtol=1e-12)
    check(
        lambda v: np.sum(
            np.linalg.norm(v, ord, axis, keepdims) * onp.arange(1, want.size + 1).reshape(onp.shape(want))
        ),
        x,
    )


@pytest.mark.parametrize("ord", MATRIX_ORDS, ids=str)
@pytest.mark.parametrize("axis", [None, (0, 1), (1, 2), (2, 0)], ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_matrix_norms(ord, axis, keepdims):
    x = RNG.standard_normal((2, 3, 4))  # no ties between row or column sums
    if axis is None:
        x = x[0]
    want = onp.linalg.norm(x, ord, axis, keepdims)
    got = np.linalg.norm(fg.tensor(x), ord, axis, keepdims)
    assert got.shape == onp.shape(want)
    onp.testing.assert_allclose(got.data, want, rtol=1e-12)
    w = onp.arange(1, onp.size(want) + 1).reshape(onp.shape(want))
    check(lambda v: np.sum(np.linalg.norm(v, ord, axis, keepdims) * w), x)


@pytest.mark.parametrize("n", [-3, -1, 0, 1, 2, 5])
def test_matrix_power(n):
    a = onp.array([[0.9, 0.2], [-0.3, 0.7]])
    onp.testing.assert_allclose(np.linalg.matrix_power(fg.tensor(a), n).data, onp.linalg.matrix_power(a, n), rtol=1e-12)
    if n:
        check(lambda m: np.sum(np.linalg.matrix_power(m, n) * onp.array([[1.0, 2.0], [3.0, 4.0]])), a)


def test_slogdet_sign_and_the_log_of_a_negative_determinant():
    a = onp.array([[0.0, 2.0], [1.5, 0.3]])  # det = -3
    sign, logdet = np.linalg.slogdet(fg.tensor(a))
    assert float(sign) == -1.0 and float(logdet) == pytest.approx(onp.log(3.0))
    check(lambda m: np.linalg.slogdet(m)[1], a)
    onp.testing.assert_allclose(fg.grad(lambda m: np.linalg.slogdet(m)[1])(a), onp.linalg.inv(a).T)


def test_eigh_upper_reads_the_upper_triangle():
    s = onp.array([[2.0, 0.5, 0.1], [9.0, 1.0, 0.3], [9.0, 9.0, -1.0]])  # junk below
    w = np.linalg.eigh(fg.tensor(s), UPLO="U")[0]
    onp.testing.assert_allclose(w.data, onp.linalg.eigh(s, UPLO="U")[0], rtol=1e-12)
    g = fg.grad(lambda m: np.sum(np.linalg.eigh(m, UPLO="U")[0] * onp.array([1.0, 2.0, 3.0])))(s)
    assert onp.all(onp.tril(g, -1) == 0)  # the ignored triangle gets no gradient
    check(lambda m: np.sum(np.linalg.eigh(m, UPLO="U")[0] * onp.array([1.0, 2.0, 3.0])), s)


def test_functions_of_a_symmetric_product_have_the_usual_gradient():
    # A = X X' + I: the chain rule through both triangles gives what symmetric formulas give.
    x = RNG.standard_normal((3, 3))

    def f(m):
        a = np.dot(m, m.T) + onp.eye(3)
        return np.sum(np.linalg.cholesky(a)) + np.sum(np.linalg.eigh(a)[0] ** 2)

    check(f, x)


def test_shapes_and_modes_without_a_gradient_are_refused_clearly():
    wide = fg.tensor(RNG.standard_normal((2, 3)), requires_grad=True)
    with pytest.raises(fg.ArgumentError, match="full_matrices=False"):
        np.linalg.svd(wide)
    with pytest.raises(fg.ShapeError, match="m >= n"):
        np.linalg.qr(wide)
    with pytest.raises(fg.ShapeError, match="square"):
        np.linalg.det(wide)
    with pytest.raises(TypeError, match="linalg.matrix_rank"):
        np.linalg.matrix_rank(wide)  # NumPy's, not differentiable: refused, not silently dropped
    assert np.linalg.matrix_rank(wide.detach()) == 2
    assert np.linalg.LinAlgError is onp.linalg.LinAlgError


def test_plain_arrays_get_numpys_own_results():
    a = RNG.standard_normal((3, 3))
    assert type(np.linalg.inv(a)) is onp.ndarray
    onp.testing.assert_array_equal(np.linalg.inv(a), onp.linalg.inv(a))
    from flowgrad.numpy import linalg

    assert linalg is np.linalg


@pytest.mark.parametrize(
    "name",
    ["det", "slogdet", "inv", "solve", "pinv", "cholesky", "eigh", "svd", "qr", "norm"],
)
def test_against_pytorch(name):
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((3, 3))
    sym = x @ x.T + 3 * onp.eye(3)
    b = RNG.standard_normal((3, 2))
    ours_and_theirs = {
        "det": (lambda m: np.linalg.det(m), lambda m: torch.linalg.det(m)),
        "slogdet": (lambda m: np.linalg.slogdet(m)[1], lambda m: torch.linalg.slogdet(m)[1]),
        "inv": (lambda m: np.sum(np.linalg.inv(m) ** 2), lambda m: (torch.linalg.inv(m) ** 2).sum()),
        "solve": (
            lambda m: np.sum(np.linalg.solve(m, b) ** 2),
            lambda m: (torch.linalg.solve(m, torch.tensor(b)) ** 2).sum(),
        ),
        "pinv": (lambda m: np.sum(np.linalg.pinv(m[:, :2]) ** 2), lambda m: (torch.linalg.pinv(m[:, :2]) ** 2).sum()),
        # symmetric inputs built from m, so both conventions for the ignored triangle agree
        "cholesky": (
            lambda m: np.sum(np.linalg.cholesky(np.dot(m, m.T) + 3 * onp.eye(3)) ** 3),
            lambda m: (torch.linalg.cholesky(m @ m.T + 3 * torch.eye(3, dtype=m.dtype)) ** 3).sum(),
        ),
        "eigh": (
            lambda m: np.sum(np.linalg.eigh(np.dot(m, m.T))[0] ** 2) + np.sum(np.linalg.eigh(np.dot(m, m.T))[1] ** 4),
            lambda m: (torch.linalg.eigh(m @ m.T)[0] ** 2).sum() + (torch.linalg.eigh(m @ m.T)[1] ** 4).sum(),
        ),
        "svd": (
            lambda m: (
                np.sum(np.linalg.svd(m, full_matrices=False)[1] ** 3)
                + np.sum(np.linalg.svd(m, full_matrices=False)[0] ** 4)
            ),
            lambda m: (
                (torch.linalg.svd(m, full_matrices=False)[1] ** 3).sum()
                + (torch.linalg.svd(m, full_matrices=False)[0] ** 4).sum()
            ),
        ),
        "qr": (
            lambda m: np.sum(np.linalg.qr(m)[0] ** 3) + np.sum(np.linalg.qr(m)[1] ** 2),
            lambda m: (torch.linalg.qr(m)[0] ** 3).sum() + (torch.linalg.qr(m)[1] ** 2).sum(),
        ),
        "norm": (
            lambda m: np.linalg.norm(m, "nuc") + np.linalg.norm(m, 2),
            lambda m: torch.linalg.matrix_norm(m, "nuc") + torch.linalg.matrix_norm(m, 2),
        ),
    }
    ours, theirs = ours_and_theirs[name]
    point = sym if name in ("det", "slogdet", "inv", "solve") else x
    t = torch.tensor(point, requires_grad=True)
    theirs(t).backward()
    onp.testing.assert_allclose(fg.grad(ours)(point), t.grad.numpy(), rtol=1e-9, atol=1e-12)  # LAPACK in both
