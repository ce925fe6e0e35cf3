"""autograd's other transforms (flowgrad/core/transforms.py) against the core ones, hand values
and central differences, alone and nested inside grad."""

import numpy as onp
import pytest

import flowgrad as fg
import flowgrad.numpy as np

from .finite_differences import central

pytestmark = pytest.mark.numeric  # central differences

X = onp.array([0.3, 1.2, -0.7])
V = onp.array([1.0, -2.0, 0.5])


def f(x):
    return np.sum(np.sin(x) * x**2)


def g(x):
    return np.tanh(x) * x[::-1]


def test_make_vjp_and_make_jvp_are_the_two_products_with_the_jacobian():
    J = fg.jacobian(g)(X)
    vjp_fn, ans = fg.make_vjp(g)(X)
    onp.testing.assert_allclose(ans, g(X))
    onp.testing.assert_allclose(vjp_fn(V), V @ J, rtol=1e-14)
    ans, jv = fg.make_jvp(g)(X)(V)
    onp.testing.assert_allclose(jv, J @ V, rtol=1e-14)
    ans, jv = fg.make_jvp(f)(X)(V)  # a scalar function: the directional derivative
    assert float(jv) == pytest.approx(float(fg.grad(f)(X) @ V), rel=1e-14)


def test_hessian_products():
    H = fg.hessian(f)(X)
    hvp_fn, gradient = fg.make_hvp(f)(X)
    onp.testing.assert_allclose(gradient, fg.grad(f)(X))
    onp.testing.assert_allclose(hvp_fn(V), H @ V, rtol=1e-13)
    onp.testing.assert_allclose(fg.hessian_tensor_product(f)(X, V), H @ V, rtol=1e-13)
    assert fg.hessian_vector_product is fg.hessian_tensor_product
    # a matrix argument: the "vector" has the argument's shape and is contracted over both axes
    A = onp.array([[0.5, -0.2], [0.1, 0.3]])
    W = onp.array([[1.0, 2.0], [-1.0, 0.5]])
    h = fg.hessian(lambda a: np.sum(np.tanh(a) ** 3))(A)  # (2, 2, 2, 2)
    onp.testing.assert_allclose(
        fg.hessian_tensor_product(lambda a: np.sum(np.tanh(a) ** 3))(A, W), onp.tensordot(h, W, 2), rtol=1e-13
    )


def test_tensor_jacobian_product_and_ggn():
    J = fg.jacobian(g)(X)
    onp.testing.assert_allclose(fg.tensor_jacobian_product(g)(X, V), V @ J, rtol=1e-14)
    onp.testing.assert_allclose(fg.make_ggnvp(g)(X)(V), J.T @ J @ V, rtol=1e-13)
    # with a loss of our own: H_g = diag(2) for g(y) = sum(y**2)
    onp.testing.assert_allclose(fg.make_ggnvp(g, lambda y: np.sum(y**2))(X)(V), 2 * J.T @ J @ V, rtol=1e-13)


def test_grad_and_aux_grad_named_multigrad_dict_deriv():
    gradient, aux = fg.grad_and_aux(lambda x: (f(x), {"n": 3}))(X)
    onp.testing.assert_allclose(gradient, fg.grad(f)(X))
    assert aux == {"n": 3}
    assert fg.grad_named(lambda a, b: a * b**2, "b")(3.0, 2.0) == 12.0
    grads = fg.multigrad_dict(lambda a, b, c=2.0: a * b * c)(1.0, 3.0)
    assert list(grads) == ["a", "b", "c"] and [float(v) for v in grads.values()] == [6.0, 2.0, 3.0]
    onp.testing.assert_allclose(fg.deriv(np.tanh)(X), 1 - onp.tanh(X) ** 2)
    assert fg.checkpoint(f) is f
    with pytest.raises(fg.DTypeError, match="no argument 'z'"):
        fg.grad_named(lambda a: a, "z")
    with pytest.raises(fg.DTypeError, match=r"\(value, aux\)"):
        fg.grad_and_aux(lambda x: x * 2)(1.0)


@pytest.mark.parametrize(
    "inner",
    [
        lambda x: fg.make_jvp(lambda y: np.sum(np.sin(x * y)))(X)(V)[1],
        lambda x: fg.make_vjp(lambda y: np.sin(x * y))(X)[0](V) @ V,
        lambda x: fg.make_hvp(lambda y: np.sum(np.sin(x * y)))(X)[0](V) @ V,
        lambda x: np.sum(fg.hessian_tensor_product(lambda y: np.sum(np.sin(x * y)))(X, V)),
        lambda x: np.sum(fg.tensor_jacobian_product(lambda y: np.sin(x * y))(X, V)),
        lambda x: np.sum(fg.make_ggnvp(lambda y: np.sin(x * y))(X)(V)),
        lambda x: np.sum(fg.grad_and_aux(lambda y: (np.sum(np.sin(x * y)), 0))(X)[0]),
    ],
    ids=[
        "make_jvp",
        "make_vjp",
        "make_hvp",
        "hessian_tensor_product",
        "tensor_jacobian_product",
        "ggnvp",
        "grad_and_aux",
    ],
)
def test_nested_inside_grad_with_a_closure(inner):
    x0 = onp.array([0.9, -0.4, 0.2])
    # central differences of float64 values: error ~1e-10
    onp.testing.assert_allclose(fg.grad(inner)(x0), central(inner, x0), rtol=1e-6, atol=1e-8)


def test_make_vjp_and_make_jvp_take_and_give_containers():
    # autograd's transforms accept tuples, lists and dicts in the argument and in the result
    f = lambda xy: np.sin(xy[0]) * xy[1]  # noqa: E731
    vjp_fn, ans = fg.make_vjp(f)((3.5, 0.3))
    assert isinstance(vjp_fn(1.0), tuple) and float(ans) == pytest.approx(onp.sin(3.5) * 0.3)
    onp.testing.assert_allclose([float(v) for v in vjp_fn(1.0)], [onp.cos(3.5) * 0.3, onp.sin(3.5)])
    g = lambda d: (d["a"] * 2, np.sum(d["b"] ** 2))  # noqa: E731
    point = {"a": onp.ones(2), "b": onp.array([1.0, 2.0])}
    vjp_fn, ans = fg.make_vjp(g)(point)
    assert isinstance(ans, tuple) and float(ans[1]) == 5.0
    grads = vjp_fn((onp.ones(2), 1.0))
    onp.testing.assert_array_equal(grads["a"], [2.0, 2.0])
    onp.testing.assert_array_equal(grads["b"], [2.0, 4.0])
    ans, tangent = fg.make_jvp(g)(point)({"a": onp.ones(2), "b": onp.array([1.0, 0.0])})
    onp.testing.assert_array_equal(tangent[0], [2.0, 2.0])
    assert float(tangent[1]) == 2.0
    flat, unflatten = fg.misc.flatten([onp.array([1 + 2j]), 3.0])  # complex nests: autograd's way
    assert flat.dtype.kind == "c" and unflatten(flat)[1] == 3.0
