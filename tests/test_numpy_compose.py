"""flowgrad.numpy's array functions built from primitives (flowgrad/ops/compose.py): each against
NumPy's result, its gradient against central differences, and a second derivative."""

import numpy as onp
import pytest

import flowgrad as fg
import flowgrad.numpy as np

from .finite_differences import central

pytestmark = pytest.mark.numeric  # central differences

# (name, positional arguments after x, shape of x)
CASES = [
    ("tril", (), (3, 4)),
    ("tril", (-1,), (2, 3, 3)),
    ("triu", (1,), (4, 3)),
    ("diagonal", (), (3, 4)),
    ("diagonal", (1, 1, 2), (2, 3, 4)),
    ("diagonal", (-1,), (4, 3)),
    ("diag", (), (4,)),
    ("diag", (2,), (3,)),
    ("diag", (-1,), (3, 4)),
    ("trace", (), (3, 3)),
    ("trace", (1, 1, 2), (2, 3, 4)),
    ("roll", (2,), (5,)),
    ("roll", (-1, 1), (3, 4)),
    ("roll", (3,), (2, 3)),
    ("roll", ((1, 2), (0, 1)), (3, 4)),
    ("rot90", (), (2, 3)),
    ("rot90", (2,), (3, 2)),
    ("rot90", (3, (1, 2)), (2, 3, 4)),
    ("flipud", (), (3, 2)),
    ("fliplr", (), (2, 3)),
    ("tile", (2,), (3,)),
    ("tile", ((2, 1, 3),), (2, 2)),
    ("repeat", (2,), (2, 3)),
    ("repeat", ([1, 0, 2], 1), (2, 3)),
    ("diff", (), (5,)),
    ("diff", (2, 0), (4, 3)),
    ("sort", (), (3, 4)),
    ("sort", (0,), (3, 4)),
    ("sort", (None,), (2, 3)),
    ("partition", (1,), (2, 4)),
    ("take", ([0, 3, 3],), (2, 3)),
    ("take", ([1, 0], 1), (2, 3)),
    ("cumprod", (), (2, 3)),
    ("cumprod", (1,), (2, 3)),
    ("atleast_2d", (), (3,)),
    ("sinc", (), (2, 3)),
    ("nan_to_num", (), (3,)),
    ("gradient", (), (5,)),
    ("gradient", (2.0,), (6,)),
    ("rollaxis", (2,), (2, 3, 4)),
    ("rollaxis", (0, 3), (2, 3, 4)),
    ("cross", (onp.array([0.5, -1.0, 2.0]),), (2, 3)),
    ("hstack", (), (2, 3)),
    ("vstack", (), (4,)),
    ("append", (onp.ones(2),), (2, 3)),
    ("atleast_3d", (), (2, 3)),
]


def _x(shape, seed):
    rng = onp.random.default_rng(seed)
    return rng.permutation(int(onp.prod(shape))).reshape(shape) * 0.37 - 1.1 + rng.uniform(0, 0.01, shape)


@pytest.mark.parametrize("name,args,shape", CASES, ids=lambda v: str(v))
def test_forward_gradient_and_second_derivative(name, args, shape):
    x = _x(shape, len(name) + len(args))
    ours, theirs = getattr(np, name), getattr(onp, name)
    got = ours(fg.tensor(x), *args)
    want = theirs(x, *args)
    assert isinstance(got, fg.Tensor) and got.shape == want.shape
    onp.testing.assert_allclose(got.data, want, rtol=1e-13, atol=0)
    w = onp.random.default_rng(1).standard_normal(want.shape)

    def f(v):
        return np.sum(ours(v, *args) * w)

    # central differences of float64 values (errors ~1e-10; the values are products of <= 6 terms)
    onp.testing.assert_allclose(fg.grad(f)(x), central(f, x), rtol=1e-6, atol=1e-8)
    v = onp.random.default_rng(2).standard_normal(shape)
    hv = fg.hvp(lambda y: np.sum(ours(y, *args) * w) ** 2)(x, v)
    hv_fd = central(lambda y: onp.sum(fg.grad(lambda z: np.sum(ours(z, *args) * w) ** 2)(y) * v), x)
    onp.testing.assert_allclose(hv, hv_fd, rtol=1e-5, atol=1e-6)


def test_kron_tensordot_and_splits():
    a, b = _x((2, 3), 1), _x((3, 2), 2)
    for fn, args in [(np.kron, (a, b)), (np.tensordot, (a, b, 1)), (np.tensordot, (a, b, ([0, 1], [1, 0])))]:
        onp.testing.assert_allclose(
            fn(fg.tensor(args[0]), fg.tensor(args[1]), *args[2:]).data, getattr(onp, fn.__name__)(*args)
        )
        ga = fg.grad(lambda p, q: np.sum(fn(p, q, *args[2:]) ** 2))(*args[:2])
        fd = central(lambda p: onp.sum(getattr(onp, fn.__name__)(p, args[1], *args[2:]) ** 2), a)
        onp.testing.assert_allclose(ga, fd, rtol=1e-6, atol=1e-8)
    x = _x((4, 6), 3)
    for fn, args in [(np.array_split, (3, 1)), (np.hsplit, (2,)), (np.vsplit, ([1, 3],))]:
        ours = fn(fg.tensor(x), *args)
        theirs = getattr(onp, fn.__name__)(x, *args)
        assert [o.shape for o in ours] == [t.shape for t in theirs]
        g = fg.grad(lambda v: sum(np.sum(p * (i + 1)) for i, p in enumerate(fn(v, *args))))(x)
        assert g.shape == x.shape and set(onp.unique(g)) <= {1.0, 2.0, 3.0}


def test_cumprod_gradient_at_zeros_is_exact():
    # d/dx of sum(cumprod([2, 0, 3])) = [1 + x1 + x1 x2, x0 + x0 x2, x0 x1] = [1, 8, 0]
    onp.testing.assert_array_equal(
        fg.grad(lambda v: np.sum(np.cumprod(v)))(onp.array([2.0, 0.0, 3.0])), [1.0, 8.0, 0.0]
    )


def test_torch_spellings():
    x = fg.tensor(_x((3, 3), 4), requires_grad=True)
    assert fg.tril(x, diagonal=-1).data.tolist() == onp.tril(x.data, -1).tolist()
    assert x.triu(1).shape == (3, 3) and float(x.trace()) == pytest.approx(onp.trace(x.data))
    assert fg.diag(fg.tensor([1.0, 2.0])).data.tolist() == [[1.0, 0.0], [0.0, 2.0]]


def test_tril_triu_keep_the_dtype():
    # A boolean causal mask stays boolean (a plain 0 fill had promoted it to int64), as in torch and NumPy.
    for dtype in (onp.bool_, onp.int32, onp.float32):
        x = onp.ones((3, 4), dtype)
        assert fg.tril(fg.tensor(x)).dtype == onp.tril(x).dtype == dtype
        assert fg.triu(fg.tensor(x), 1).dtype == onp.triu(x, 1).dtype == dtype
        assert fg.tril(fg.tensor(x), -1).numpy().tolist() == onp.tril(x, -1).tolist()


def test_sinc_at_and_near_zero():
    x = onp.array([0.0, 1e-5, -3e-4, 0.3, 1.0, -2.5])
    onp.testing.assert_allclose(np.sinc(fg.tensor(x)).data, onp.sinc(x), rtol=1e-15, atol=1e-16)
    for order, at_zero in ((1, 0.0), (2, -(onp.pi**2) / 3), (4, onp.pi**4 / 5)):
        f = np.sinc
        for _ in range(order):
            f = fg.grad(f)
        assert float(f(0.0)) == pytest.approx(at_zero, rel=1e-12, abs=1e-12)
    x0 = onp.array([1e-4, 0.3, -1.7])
    onp.testing.assert_allclose(
        fg.elementwise_grad(np.sinc)(x0), central(lambda v: onp.sum(onp.sinc(v)), x0), rtol=1e-6
    )


def test_fft_shifts_linspace_and_lists_of_tensors():
    x = _x((4, 5), 9)
    for name in ("fftshift", "ifftshift"):
        ours, theirs = getattr(np.fft, name), getattr(onp.fft, name)
        onp.testing.assert_array_equal(ours(fg.tensor(x)).data, theirs(x))
        onp.testing.assert_array_equal(ours(fg.tensor(x), axes=1).data, theirs(x, axes=1))
        g = fg.grad(lambda v: np.sum(ours(v) * onp.arange(20.0).reshape(4, 5)))(x)
        onp.testing.assert_array_equal(ours(g), onp.arange(20.0).reshape(4, 5)) if name == "ifftshift" else None
    with pytest.raises(TypeError, match="fft.fftfreq is not differentiable"):
        fg.grad(lambda d: np.sum(np.fft.fftfreq(4, d)))(1.0)  # NumPy's own: refused, not dropped
    lin = fg.grad(lambda a: np.sum(np.linspace(a, 2 * a + 1, 5) * onp.arange(5.0)))(1.0)
    assert float(lin) == pytest.approx(sum(k * (1 + k / 4) for k in range(5)))
    assert float(fg.grad(lambda a: np.mean([a, 2 * a, 3.0]))(1.0)) == pytest.approx(1.0)
    assert float(fg.grad(lambda a: np.sum(np.array([[a, 2 * a], [a, 3.0]])))(1.0)) == 4.0


def test_index_tricks_r_and_c():
    a = onp.array([1.0, 2.0])
    onp.testing.assert_array_equal(np.r_[0:3, 5], onp.r_[0:3, 5])  # plain: NumPy's own
    onp.testing.assert_array_equal(np.r_[fg.tensor(a), 3.0, 0:2].data, onp.r_[a, 3.0, 0:2])
    onp.testing.assert_array_equal(np.c_[fg.tensor(a), a * 3].data, onp.c_[a, a * 3])
    onp.testing.assert_array_equal(fg.grad(lambda x: np.sum(np.r_[x, 3.0, x * 2] ** 2))(a), 10 * a)
    onp.testing.assert_array_equal(fg.grad(lambda x: np.sum(np.c_[x, x * 3] ** 2))(a), 20 * a)
    with pytest.raises(fg.ShapeError, match="directives"):
        np.r_["0,2", fg.tensor(a)]
