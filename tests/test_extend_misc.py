"""flowgrad.extend (primitive, defvjp, defjvp, ...) and flowgrad.misc (flatten, optimizers,
fixed_point), against hand values, central differences and HIPS autograd where installed."""

import numpy as onp
import pytest

import flowgrad as fg
import flowgrad.numpy as np
from flowgrad.extend import defjvp, defjvp_argnum, defvjp, defvjp_argnum, defvjp_argnums, notrace_primitive, primitive
from flowgrad.misc import flatten, flatten_func
from flowgrad.misc.fixed_points import fixed_point
from flowgrad.misc.optimizers import adam, rmsprop, sgd

X = onp.array([0.1, 0.7, -0.3])


@primitive
def logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


defvjp(logsumexp, lambda ans, x: lambda g: g * np.exp(x - ans))


def test_a_primitive_with_a_vjp_has_first_and_second_derivatives():
    softmax = onp.exp(X) / onp.exp(X).sum()
    onp.testing.assert_allclose(fg.grad(logsumexp)(X), softmax, rtol=1e-14)
    # the VJP is written with flowgrad.numpy, so the Hessian comes from it: diag(p) - p p'
    onp.testing.assert_allclose(fg.hessian(logsumexp)(X), onp.diag(softmax) - onp.outer(softmax, softmax), atol=1e-14)
    assert float(logsumexp(X)) == pytest.approx(onp.log(onp.exp(X).sum()))  # plain data: NumPy


def test_forward_rules_and_argnum_forms():
    @primitive
    def scale(x, a, power=2):
        return a * x**power

    defjvp(
        scale,
        lambda g, ans, x, a, power=2: power * a * x ** (power - 1) * g,
        lambda g, ans, x, a, power=2: g * x**power,
    )
    gx, ga = fg.grad(lambda x, a: np.sum(scale(x, a, power=3)), (0, 1))(X, 2.0)
    onp.testing.assert_allclose(gx, 6 * X**2, rtol=1e-14)
    assert float(ga) == pytest.approx(onp.sum(X**3))

    @primitive
    def mul(a, b):
        return a * b

    defvjp_argnum(mul, lambda n, ans, args, kwargs: lambda g: g * args[1 - n])
    assert fg.grad(mul, 1)(3.0, 4.0) == 3.0

    @primitive
    def mul2(a, b):
        return a * b

    defvjp_argnums(mul2, lambda ns, ans, args, kwargs: lambda g: tuple(g * args[1 - n] for n in ns))
    assert fg.grad(mul2, 0)(3.0, 4.0) == 4.0

    @primitive
    def double(x):
        return 2 * x

    defjvp(double, "same")  # linear: the rule is the function itself
    onp.testing.assert_array_equal(fg.grad(lambda x: np.sum(double(x)))(X), [2.0, 2.0, 2.0])

    @primitive
    def shifted(x, s):
        return x + s

    defjvp_argnum(shifted, lambda n, g, ans, args, kwargs: g)
    assert fg.grad(shifted, 1)(1.0, 2.0) == 1.0


def test_a_missing_rule_raises_instead_of_giving_zeros():
    @primitive
    def opaque(x):
        return x * 2

    with pytest.raises(fg.FlowgradError, match="no derivative rule for argument 0"):
        fg.grad(lambda x: np.sum(opaque(x)))(X)
    with pytest.raises(fg.FlowgradError, match="@flowgrad.extend.primitive"):
        defvjp(lambda x: x, None)


def test_notrace_primitive_is_a_constant():
    plus_ten = notrace_primitive(lambda v: v + 10)
    onp.testing.assert_array_equal(fg.grad(lambda x: np.sum(x * plus_ten(x)))(X), X + 10)


def test_flatten_round_trips_and_is_differentiable():
    params = {"W": onp.arange(6.0).reshape(2, 3), "b": [onp.array([1.0, 2.0]), 3.0], "a": (onp.ones(1),)}
    flat, unflatten = flatten(params)
    # dict keys in sorted order ("W" < "a" < "b"), as autograd
    onp.testing.assert_array_equal(flat, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 1.0, 1.0, 2.0, 3.0])
    back = unflatten(flat)
    onp.testing.assert_array_equal(back["W"], params["W"])
    assert isinstance(back["b"], list) and isinstance(back["a"], tuple)

    def loss(p):
        return np.sum(p["W"] ** 2) + np.sum(p["b"][0]) * p["b"][1]

    flat_loss, unflatten2, flat0 = flatten_func(loss, params)
    g = fg.grad(flat_loss)(flat0)
    direct = fg.grad(loss)(params)
    onp.testing.assert_allclose(unflatten2(g)["W"], direct["W"])
    onp.testing.assert_allclose(unflatten2(g)["b"][0], direct["b"][0])


@pytest.mark.parametrize("optimizer,kwargs", [(sgd, {}), (rmsprop, {}), (adam, {"step_size": 0.05})])
def test_optimizers_minimise_a_quadratic_on_nested_parameters(optimizer, kwargs):
    target = {"w": onp.array([1.0, -2.0]), "b": 0.5}

    def objective(p):
        return np.sum((p["w"] - target["w"]) ** 2) + (p["b"] - target["b"]) ** 2

    seen = []
    result = optimizer(
        lambda p, i: fg.grad(objective)(p),
        {"w": onp.zeros(2), "b": 0.0},
        callback=lambda p, i, g: seen.append(i),
        num_iters=400,
        **kwargs,
    )
    assert seen == list(range(400))
    onp.testing.assert_allclose(result["w"], target["w"], atol=2e-2)


def test_flatten_is_autograds():
    ag_flatten = pytest.importorskip("autograd.misc").flatten
    params = {"W": onp.arange(6.0).reshape(2, 3), "b": [onp.array([1.0, 2.0]), 3.0], "a": (onp.ones(1),)}
    onp.testing.assert_array_equal(flatten(params)[0], ag_flatten(params)[0])


def test_optimizers_give_autograds_numbers():
    autograd_optimizers = pytest.importorskip("autograd.misc.optimizers")
    ag_np = pytest.importorskip("autograd.numpy")
    import autograd

    def ours(x):
        return np.sum(np.sin(x) * x**2)

    def theirs(x):
        return ag_np.sum(ag_np.sin(x) * x**2)

    for name in ("sgd", "rmsprop", "adam"):
        a = getattr(autograd_optimizers, name)(lambda x, i: autograd.grad(theirs)(x), X.copy(), num_iters=50)
        b = {"sgd": sgd, "rmsprop": rmsprop, "adam": adam}[name](lambda x, i: fg.grad(ours)(x), X.copy(), num_iters=50)
        onp.testing.assert_allclose(b, a, rtol=1e-12, err_msg=name)  # same formulas; sin may differ by an ulp


def test_fixed_point_and_its_implicit_gradient():
    def newton_sqrt(a):
        return fixed_point(lambda a: lambda x: 0.5 * (x + a / x), a, 1.0, lambda x, y: abs(x - y), 1e-14)

    assert float(newton_sqrt(2.0)) == pytest.approx(onp.sqrt(2.0), rel=1e-15)
    assert float(fg.grad(newton_sqrt)(2.0)) == pytest.approx(0.5 / onp.sqrt(2.0), rel=1e-10)
