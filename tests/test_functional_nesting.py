"""Transforms nested inside transforms: an inner transform must stay differentiable in whatever
it closes over or is given, so an outer one sees the whole dependence (no "perturbation
confusion", no silently dropped term).

Hand-derived values first, then every transform inside every other (two levels) and random
three-level nestings, each against central differences of the same function one level down
(top-level transforms being checked against hand values and finite differences elsewhere)."""

import itertools

import numpy as onp
import pytest

import flowgrad as fg
import flowgrad.numpy as np

pytestmark = pytest.mark.numeric  # finite differences: tolerances are rounding-dependent


# ----- hand-derived ------------------------------------------------------------------------------
def test_the_two_cases_that_were_silently_wrong():
    # d/dx [d/dy (x*y)] = d/dx x = 1 (was 0: the inner result came back as plain data)
    assert fg.grad(lambda x: fg.grad(lambda x, y: x * y, 1)(x, 2.0))(3.0) == 1.0
    # d/dx [x * d/dy (x*y)] = d/dx x**2 = 2x = 6 (was 3: the closure's x was dropped)
    assert fg.grad(lambda x: x * fg.grad(lambda y: x * y)(2.0))(3.0) == 6.0


@pytest.mark.parametrize(
    "inner",
    [
        lambda x: fg.jacobian(lambda y: x * y)(2.0),
        lambda x: fg.elementwise_grad(lambda y: x * y)(2.0),
        lambda x: fg.vjp(lambda y: x * y, 2.0)[1](1.0)[0],
        lambda x: fg.value_and_grad(lambda y: x * y)(2.0)[1],
        lambda x: fg.value_and_grad(lambda y: x * y * 0.5)(2.0)[0],  # the value: x
        lambda x: fg.vjp(lambda y: x * y * 0.5, 2.0)[0],  # the value: x
        lambda x: fg.hvp(lambda y: x * y**2 / 2)(2.0, 1.0),  # x
        lambda x: fg.hessian(lambda y: x * y**2 / 2)(2.0),  # x
    ],
    ids=["jacobian", "elementwise_grad", "vjp", "value_and_grad", "vg-value", "vjp-value", "hvp", "hessian"],
)
def test_every_transform_keeps_its_closure(inner):
    # inner(x) == x for every row, so d/dx [x * inner(x)] = 2x
    assert float(fg.grad(lambda x: x * inner(x))(3.0)) == 6.0


def test_three_levels_with_closures_and_arguments():
    # innermost d/dz (x*y*z**2) at z=y is 2xy**2; d/dy of that at y=x is 4x**2; d/dx is 8x.
    def middle(x):
        return fg.grad(lambda y: fg.grad(lambda z: x * y * z**2)(y))(x)

    assert fg.grad(middle)(3.0) == 24.0
    assert fg.hessian(middle)(3.0) == 8.0
    # Arrays: d/dW of sum(grad_x [sum(W * x**2)]) = d/dW sum(2 W x) = 2x
    x0 = onp.array([1.0, -2.0])
    g = fg.grad(lambda W: np.sum(fg.grad(lambda x: np.sum(W * x**2))(x0)))(onp.array([0.5, 0.25]))
    onp.testing.assert_array_equal(g, 2 * x0)


def test_results_at_the_top_level_are_numpy_and_tensors_inside():
    seen = []

    def outer(x):
        inner = fg.grad(lambda y: x * y)(2.0)
        seen.append(type(inner))
        return inner * x

    assert isinstance(fg.grad(outer)(onp.float64(3.0)), (float, onp.floating))
    assert seen == [fg.Tensor]  # kept in the graph inside an outer transform
    assert isinstance(fg.grad(lambda y: y * 2.0)(1.0), (float, onp.floating))


# ----- every transform inside every other: against finite differences ---------------------------
def _first(f, p):
    return fg.grad(f)(p)


INNER = {  # scalar function of one scalar -> a scalar built by a transform
    "grad": _first,
    "value_and_grad": lambda f, p: sum(fg.value_and_grad(f)(p)),
    "elementwise_grad": lambda f, p: fg.elementwise_grad(f)(p),
    "jacobian": lambda f, p: fg.jacobian(f)(p),
    "vjp": lambda f, p: fg.vjp(f, p)[1](1.0)[0] + fg.vjp(f, p)[0],
    "hessian": lambda f, p: fg.hessian(f)(p),
    "hvp": lambda f, p: fg.hvp(f)(p, 1.0),
}
# outer transforms: (apply to h at x, reference from h by central differences)
EPS1, EPS2 = 1e-5, 1e-4


def _d1(h, x):
    return (h(x + EPS1) - h(x - EPS1)) / (2 * EPS1)


def _d2(h, x):
    return (h(x + EPS2) - 2 * h(x) + h(x - EPS2)) / EPS2**2


OUTER = {
    "grad": (lambda h, x: fg.grad(h)(x), _d1),
    "value_and_grad": (lambda h, x: sum(fg.value_and_grad(h)(x)), lambda h, x: h(x) + _d1(h, x)),
    "elementwise_grad": (lambda h, x: fg.elementwise_grad(h)(x), _d1),
    "jacobian": (lambda h, x: fg.jacobian(h)(x), _d1),
    "vjp": (lambda h, x: fg.vjp(h, x)[1](1.0)[0], _d1),
    "hessian": (lambda h, x: fg.hessian(h)(x), _d2),
    "hvp": (lambda h, x: fg.hvp(h)(x, 1.0), _d2),
}
POINTS = {"closure only": lambda x: 0.7, "the outer variable": lambda x: x, "2x": lambda x: 2 * x}


def _program(x, y):
    return np.sin(x * y) + x * y**3


def _close(got, want, second):
    # Central differences: truncation ~EPS**2 * f''' and rounding ~1e-16 / EPS (1e-11 for the
    # first derivative, 1e-8 for the second through EPS2**2); the tolerances sit well above both.
    tol = 1e-6 if second else 1e-8
    return abs(float(got) - float(want)) <= tol * max(1.0, abs(float(want)))


@pytest.mark.parametrize("point", sorted(POINTS))
@pytest.mark.parametrize("inner,outer", list(itertools.product(sorted(INNER), sorted(OUTER))))
def test_two_levels(inner, outer, point):
    def h(x):
        return INNER[inner](lambda y: _program(x, y), POINTS[point](x))

    apply, reference = OUTER[outer]
    x0 = 0.9
    assert _close(apply(h, x0), reference(h, x0), outer in ("hessian", "hvp"))


def _program3(x, y, z):
    return np.sin(x * y * z) + x * y * z**3


@pytest.mark.parametrize("seed", range(24))
def test_random_three_levels(seed):
    rng = onp.random.default_rng(seed)
    first_order = [k for k in INNER if k not in ("hessian", "hvp")]  # keeps the FD referee accurate
    t_mid, t_in = (first_order[i] for i in rng.integers(len(first_order), size=2))
    outer = sorted(OUTER)[rng.integers(len(OUTER))]
    q = [lambda x, y: 0.4, lambda x, y: y, lambda x, y: x * y][rng.integers(3)]
    p = [lambda x: 0.6, lambda x: x][rng.integers(2)]

    def h(x):
        def mid(y):
            return INNER[t_in](lambda z: _program3(x, y, z), q(x, y))

        return INNER[t_mid](mid, p(x))

    apply, reference = OUTER[outer]
    assert _close(apply(h, 0.8), reference(h, 0.8), outer in ("hessian", "hvp")), (t_mid, t_in, outer)


def test_nested_on_arrays_and_structures_against_finite_differences():
    # grad over a dict of arrays, with a jacobian inside closing over one of them
    W0, b0 = onp.array([[0.3, -0.2], [0.1, 0.4]]), onp.array([0.05, -0.1])

    def loss(params):
        J = fg.jacobian(lambda v: np.tanh(np.dot(params["W"], v) + params["b"]))(onp.array([0.5, -1.0]))
        return np.sum(J**2)

    g = fg.grad(loss)({"W": W0, "b": b0})
    for name, base in (("W", W0), ("b", b0)):
        fd = onp.zeros_like(base)
        for i in onp.ndindex(base.shape):
            plus, minus = base.copy(), base.copy()
            plus[i] += 1e-6
            minus[i] -= 1e-6
            args = {"W": W0, "b": b0}
            fd[i] = (loss({**args, name: plus}) - loss({**args, name: minus})) / 2e-6
        onp.testing.assert_allclose(g[name], fd, rtol=1e-6, atol=1e-9)  # FD error ~1e-10


# ----- nothing being differentiated is dropped silently ------------------------------------------
def test_numpy_functions_refuse_traced_values_nested_in_lists():
    a = onp.array([1.0, 2.0])
    with pytest.raises(TypeError, match="piecewise is not differentiable"):
        fg.grad(lambda a: np.sum(np.piecewise(a, [[a[0] > 0, a[1] > 0]], [lambda v: v])))(a)
    # np.append and np.select are differentiable (flowgrad/ops/compose_more.py): nested values count
    assert fg.grad(lambda a: np.sum(np.select([onp.array([True, False])], [a])))(a).tolist() == [1.0, 0.0]
    assert fg.grad(lambda a: np.sum(np.append([[a[0], a[1]]], [[1.0, 2.0]]) * 2))(a).tolist() == [2.0, 2.0]
    assert np.select([a > 1], [a]).tolist() == [0.0, 2.0]  # plain data: NumPy's answer


def test_plain_numpy_on_a_traced_value_names_the_function():
    with pytest.raises(TypeError, match=r"np\.linalg\.det .* requires grad"):
        fg.grad(onp.linalg.det)(onp.eye(2))
    with pytest.raises(TypeError, match="requires grad"):
        fg.grad(lambda x: onp.asarray(x).sum())(onp.ones(2))
    assert fg.grad(lambda x: np.sum(x * onp.asarray(x.detach())))(onp.ones(2)).tolist() == [1.0, 1.0]


def test_complex_values_follow_autograds_convention_or_are_refused():
    # A complex result has no gradient; a real one of complex values does (dL/dx - i dL/dy).
    for fun, x in [(lambda z: z * 2, 1.0 + 2j), (lambda x: x * (1 + 1j), 2.0)]:
        with pytest.raises(fg.DTypeError, match="complex result"):
            fg.grad(fun)(x)
    assert fg.grad(lambda x: np.real(x * (1 + 1j)))(2.0) == 1.0
    assert fg.grad(lambda z: np.imag(z * z))(1.0 + 2j) == 4.0 - 2.0j  # d(2xy)/dx - i d(2xy)/dy
    with pytest.raises(fg.DTypeError, match="real numbers only"):
        fg.grad(lambda z: np.real(np.arccosh(z)))(0.5 + 0.5j)  # no complex rule: refused
    with pytest.raises(fg.DTypeError, match="real numbers only"):
        fg.tensor([1 + 2j], requires_grad=True)


def test_bool_and_int_results_have_no_derivative():
    for fun in (lambda x: np.allclose(x, x), lambda x: np.argmax(x), lambda x: (x > 0).sum(), lambda x: 0):
        with pytest.raises(TypeError, match="floating-point value"):
            fg.grad(fun)(onp.array([1.0, 2.0]))


def test_in_place_change_of_a_traced_value_is_a_type_error():
    def f(x):
        x[0] = 1.0
        return np.sum(x)

    with pytest.raises(fg.InPlaceError) as info:
        fg.grad(f)(onp.array([1.0, 2.0]))
    assert isinstance(info.value, TypeError) and isinstance(info.value, fg.FlowgradError)


def test_inner_of_a_scalar_and_of_matrices():
    v = onp.array([1.0, 2.0, 3.0])
    onp.testing.assert_array_equal(np.inner(fg.tensor(1.5), fg.tensor(v)).data, onp.inner(1.5, v))
    a, b = onp.arange(6.0).reshape(2, 3), onp.arange(12.0).reshape(4, 3)
    onp.testing.assert_array_equal(np.inner(fg.tensor(a), fg.tensor(b)).data, onp.inner(a, b))


# ----- property: random transforms nested over random programs ----------------------------------
UNARY_OPS = [np.sin, np.cos, np.tanh, lambda v: np.exp(0.3 * v), lambda v: v * v, lambda v: np.log1p(v * v)]


def _random_program(rng, depth=3):
    """A random smooth scalar expression in (x, y): a tree of unary ops, sums and products."""
    if depth == 0 or rng.random() < 0.25:
        leaf = int(rng.integers(3))
        constant = float(rng.uniform(-1, 1))
        return [lambda x, y: x, lambda x, y: y, lambda x, y, c=constant: c + 0 * x][leaf]
    kind = int(rng.integers(3))
    if kind == 0:
        op, inner = UNARY_OPS[int(rng.integers(len(UNARY_OPS)))], _random_program(rng, depth - 1)
        return lambda x, y: op(inner(x, y))
    left, right = _random_program(rng, depth - 1), _random_program(rng, depth - 1)
    return (lambda x, y: left(x, y) + right(x, y)) if kind == 1 else (lambda x, y: left(x, y) * right(x, y))


@pytest.mark.parametrize("seed", range(40))
def test_random_transforms_over_random_programs(seed):
    rng = onp.random.default_rng(1000 + seed)
    program = _random_program(rng)
    first_order = ["grad", "value_and_grad", "elementwise_grad", "jacobian", "vjp"]
    t_in = first_order[int(rng.integers(len(first_order)))]
    outer = sorted(OUTER)[int(rng.integers(len(OUTER)))]
    point = [lambda x: 0.4, lambda x: x, lambda x: x * x][int(rng.integers(3))]

    def h(x):
        return INNER[t_in](lambda y: program(x, y) + 0.1 * y * x, point(x))  # the extra term: h depends on x

    apply, reference = OUTER[outer]
    x0 = float(rng.uniform(-0.8, 0.8))
    assert _close(apply(h, x0), reference(h, x0), outer in ("hessian", "hvp")), (t_in, outer)
