"""Functional gradients (grad, value_and_grad, vjp, jacobian, hessian, hvp) and flowgrad.numpy."""

import numpy as onp
import pytest

import flowgrad as fg
import flowgrad.numpy as np

from .finite_differences import central

pytestmark = pytest.mark.numeric  # rounding-dependent: run again on other kernels by make test


def mlp_loss(params, x, y):
    W1, b1, W2 = params["W1"], params["b1"], params["W2"]
    h = np.tanh(np.dot(x, W1) + b1)
    return np.mean((np.dot(h, W2) - y) ** 2)


def test_grad_argnum_int_and_tuple():
    def f(x, W, y):
        return np.sum(np.square(y - np.dot(x, W)))

    x, W, y = onp.array([1.0, 2.0]), onp.array([[0.5], [-0.3]]), onp.array([0.2])
    gW = fg.grad(f, 1)(x, W, y)
    assert isinstance(gW, onp.ndarray) and gW.shape == W.shape
    onp.testing.assert_allclose(gW, central(lambda w: f(x, w, y), W), rtol=1e-7)
    gx, gy = fg.grad(f, (0, 2))(x, W, y)
    onp.testing.assert_allclose(gx, central(lambda v: f(v, W, y), x), rtol=1e-7)
    onp.testing.assert_allclose(gy, central(lambda v: f(x, W, v), y), rtol=1e-7)


def test_grad_keeps_numpy_dtypes_and_scalars():
    g32 = fg.grad(lambda x: np.sum(np.exp(x)))(onp.ones(3, dtype=onp.float32))
    assert g32.dtype == onp.float32
    g = fg.grad(lambda x: x**3)(2.0)
    assert g == 12.0 and onp.ndim(g) == 0
    g = fg.grad(lambda x: np.sin(x))(onp.float32(0.0))
    assert g == 1.0 and g.dtype == onp.float32
    with pytest.raises(fg.DTypeError, match="integer"):
        fg.grad(lambda x: x * 2)(3)


def test_grad_with_tensors_returns_tensors():
    x = fg.tensor([1.0, 2.0])
    g = fg.grad(lambda t: (t * t).sum())(x)
    assert isinstance(g, fg.Tensor) and g.tolist() == [2.0, 4.0]


def test_grad_errors_for_non_scalar_output():
    with pytest.raises(fg.ShapeError, match="scalar"):
        fg.grad(lambda x: x * 2)(onp.ones(3))


def test_grad_of_unused_argument_is_zero():
    assert fg.grad(lambda x, y: np.sum(y), 0)(onp.ones(2), onp.ones(2)).tolist() == [0.0, 0.0]


def test_value_and_grad():
    v, g = fg.value_and_grad(lambda x: np.sum(x**2))(onp.array([1.0, 3.0]))
    assert v == 10.0 and g.tolist() == [2.0, 6.0]


def test_vjp_and_jacobian():
    A = onp.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    out, f_vjp = fg.vjp(lambda x: np.tanh(np.dot(A, x)), onp.array([0.1, 0.2, 0.3]))
    (ct,) = f_vjp(onp.array([1.0, -2.0]))
    J = fg.jacobian(lambda x: np.tanh(np.dot(A, x)))(onp.array([0.1, 0.2, 0.3]))
    assert J.shape == (2, 3)
    onp.testing.assert_allclose(ct, onp.array([1.0, -2.0]) @ J, rtol=1e-12)
    num = onp.stack([central(lambda x, i=i: onp.tanh(A @ x)[i], [0.1, 0.2, 0.3]) for i in range(2)])
    onp.testing.assert_allclose(J, num, rtol=1e-6)


def test_grad_of_grad():
    d2 = fg.grad(fg.grad(lambda x: np.sin(x) * x))
    x = 0.7
    assert d2(x) == pytest.approx(2 * onp.cos(x) - x * onp.sin(x), rel=1e-12)
    d3 = fg.grad(fg.grad(fg.grad(lambda x: x**4)))
    assert d3(2.0) == pytest.approx(48.0)


def test_hessian_of_small_mlp_loss_matches_differences():
    rng = onp.random.default_rng(0)
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 1))
    W1, b1, W2 = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal((4, 1))

    def loss_of_w1(w):
        return mlp_loss({"W1": w.reshape(3, 4), "b1": b1, "W2": W2}, x, y)

    H = fg.hessian(loss_of_w1)(W1.ravel())
    assert H.shape == (12, 12)
    onp.testing.assert_allclose(H, H.T, atol=1e-12)
    g = fg.grad(loss_of_w1)
    num = onp.stack([central(lambda w, i=i: g(w)[i], W1.ravel(), eps=1e-5) for i in range(12)])
    onp.testing.assert_allclose(H, num, rtol=1e-5, atol=1e-8)


def test_hvp_matches_hessian_times_vector():
    f = lambda x: np.sum(np.tanh(x) ** 2 * x[::-1])
    x, v = onp.array([0.3, -0.5, 1.2]), onp.array([1.0, 2.0, -1.0])
    onp.testing.assert_allclose(fg.hvp(f)(x, v), fg.hessian(f)(x) @ v, rtol=1e-12)


def test_first_order_does_not_build_gradient_graphs():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    (gx,) = fg.autograd.grad((x * x).sum(), [x])
    assert not gx.requires_grad and gx.grad_fn is None


def test_flowgrad_numpy_returns_exactly_numpy_on_plain_arrays():
    a = onp.array([[0.5, -1.0], [2.0, 3.0]])
    for name in ("exp", "tanh", "sum", "mean", "square", "abs", "transpose", "ravel"):
        got, want = getattr(np, name)(a), getattr(onp, name)(a)
        assert type(got) is type(want)
        onp.testing.assert_array_equal(got, want)
    assert np.array([1.0, 2.0]).dtype == onp.float64  # NumPy's default, not flowgrad's float32
    assert np.linspace(0, 1, 3).tolist() == [0.0, 0.5, 1.0]
    assert np.pi == onp.pi and np.float32 is onp.float32
    assert np.argmax(fg.tensor([1.0, 3.0, 2.0])) == 1


def test_flowgrad_numpy_refuses_to_drop_gradients_silently():
    with pytest.raises(TypeError, match="not differentiable"):
        fg.grad(lambda x: np.sum(np.cbrt(x)))(onp.ones(2))


def test_flowgrad_numpy_array_of_tensors_and_joins():
    def f(x):
        stacked = np.array([x[0] * 2, x[1] ** 2])
        joined = np.concatenate([stacked, np.stack([x[0], x[1]])])
        return np.sum(joined * np.array([1.0, 1.0, 3.0, 4.0]))

    onp.testing.assert_allclose(fg.grad(f)(onp.array([1.0, 2.0])), [5.0, 8.0])
