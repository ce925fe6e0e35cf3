"""What HIPS autograd programs use beyond the op table: flowgrad.test_util's gradient checks,
autograd's container and type helpers (flowgrad.builtins), and the NumPy corners its test files
reach (make_diagonal, select, angle, where's forms, casts to int, plain NumPy reductions on
tensors, std of one value, eigh's upper triangle, a missing rule)."""

import numpy as onp
import pytest

import flowgrad as fg
import flowgrad.numpy as np
from flowgrad.extend import defjvp, defvjp, primitive
from flowgrad.test_util import check_equivalent, check_grads, combo_check, scalar_close

from .finite_differences import central

pytestmark = pytest.mark.numeric  # central differences


# ----- check_grads: passes right derivatives, catches wrong ones -----------------------------------
def test_check_grads_passes_right_derivatives_of_arrays_containers_and_argnums():
    x, y = onp.array([0.3, -1.2, 2.0]), onp.array([[0.5, 1.5], [-0.7, 0.1]])
    check_grads(lambda a, b: np.sin(a) * np.sum(b**2))(x, y)
    check_grads(lambda a, b: np.sin(a) * np.sum(b**2), argnum=1)(x, y)
    check_grads(lambda a, b: np.tanh(a)[:2] @ b, argnum=(0, 1))(x, y)
    check_grads(lambda d: {"s": d["a"] * np.sum(d["b"] ** 3), "t": (d["a"] ** 2, d["b"])})({"a": 1.5, "b": x})
    check_grads(lambda xs: [np.exp(xs[0]), xs[1] * xs[0]], modes=["rev"], order=3)([0.2, 0.7])


def _wrong(rule_factor, forward_mode):
    @primitive
    def square(x):
        return x**2

    if forward_mode:
        defjvp(square, lambda g, ans, x: g * rule_factor * x)
    else:
        defvjp(square, lambda ans, x: lambda g: g * rule_factor * x)
    return square


@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_check_grads_catches_a_wrong_first_derivative(mode):
    right, wrong = _wrong(2.0, mode == "fwd"), _wrong(2.5, mode == "fwd")
    check_grads(right, modes=[mode], order=1)(onp.array([0.4, -1.3]))
    with pytest.raises(AssertionError, match="derivative of square"):
        check_grads(wrong, modes=[mode], order=1)(onp.array([0.4, -1.3]))


def test_check_grads_catches_a_wrong_second_derivative():
    # The first derivative is right; its rule's own derivative is not (x * x.sum() / x.sum()
    # has the value 2x at every point but a different derivative).
    @primitive
    def square(x):
        return x**2

    defvjp(square, lambda ans, x: lambda g: g * 2 * x * np.sum(x) / np.sum(onp.asarray(fg.tensor(x).detach())))
    check_grads(square, modes=["rev"], order=1)(onp.array([0.4, 1.3]))
    with pytest.raises(AssertionError):
        check_grads(square, modes=["rev"], order=2)(onp.array([0.4, 1.3]))


def test_a_rule_giving_the_wrong_shape_is_refused_where_it_is_defined():
    @primitive
    def total(x):
        return onp.sum(x)

    defvjp(total, lambda ans, x: lambda g: g)  # a scalar where an array of x's shape belongs
    with pytest.raises(fg.ShapeError, match=r"<primitive total>: the derivative rule for argument 0 gave shape \(\)"):
        fg.grad(total)(onp.array([1.0, 2.0]))


def test_combo_check_runs_every_combination():
    seen = []

    def f(x, axis=None, keepdims=False):
        seen.append((onp.shape(getattr(x, "data", x)), axis, keepdims))
        return np.sum(x, axis=axis, keepdims=keepdims)

    combo_check(f, [0], modes=["rev"], order=1)([onp.ones((2, 3)), onp.ones((3, 2))], axis=[0, 1], keepdims=[True])
    assert {(s, a) for s, a, _ in seen} == {((2, 3), 0), ((2, 3), 1), ((3, 2), 0), ((3, 2), 1)}


def test_scalar_close_and_check_equivalent():
    assert scalar_close(1.0, 1.0 + 1e-9) and not scalar_close(1.0, 1.1)
    check_equivalent((onp.ones(2), 3.0), (onp.ones(2), 3.0))
    with pytest.raises(AssertionError, match="layouts differ"):
        check_equivalent(onp.ones(2), onp.ones(3))
    with pytest.raises(AssertionError, match="values differ"):
        check_equivalent(onp.ones(2), onp.array([1.0, 2.0]))


# ----- flowgrad.builtins: autograd's container and type helpers -----------------------------------
def test_builtins_see_a_tensor_as_the_array_it_holds():
    from flowgrad import dict as fg_dict
    from flowgrad import isinstance as fg_isinstance
    from flowgrad import tuple as fg_tuple
    from flowgrad import type as fg_type

    seen = []

    def f(x):
        seen.append((fg_isinstance(x, onp.ndarray), fg_isinstance(x, fg.Tensor), fg_type(x)))
        pair = fg_tuple((x, 2 * x))
        named = fg_dict(a=pair[0], b=pair[1])
        return np.sum(named["a"] * named["b"])

    onp.testing.assert_allclose(fg.grad(f)(onp.array([1.0, 2.0])), [4.0, 8.0])
    assert seen == [(True, True, onp.ndarray)]
    assert not fg_isinstance(fg.tensor([1.0]), float) and fg_isinstance(3.0, float)


# ----- NumPy corners --------------------------------------------------------------------------------
def test_make_diagonal_inverts_diagonal_for_every_offset_and_axis_order():
    d = onp.random.default_rng(0).standard_normal((2, 3))
    for offset in (0, 1, -2):
        for axes in ((-1, -2), (-2, -1)):
            a = np.make_diagonal(d, offset, *axes)
            onp.testing.assert_array_equal(onp.diagonal(a, offset, *axes), d)
            assert onp.count_nonzero(a) == d.size
            w = onp.random.default_rng(1).standard_normal(a.shape)
            got = fg.grad(lambda v, o=offset, ax=axes: np.sum(np.make_diagonal(v, o, *ax) * w))(d)
            onp.testing.assert_allclose(got, onp.diagonal(w, offset, *axes))  # linear: exact adjoint
    with pytest.raises(fg.ShapeError, match="last two axes"):
        np.make_diagonal(d, 0, 0, 1)


def test_select_first_true_wins_and_gradients_reach_the_picked_choice():
    x = onp.array([-1.0, 0.5, 2.0, 3.0])
    conds = [x > 1.5, x > 0]
    f = lambda v: np.sum(np.select([v > 1.5, v > 0], [v**2, 3 * v], default=np.sin(v)))  # noqa: E731
    onp.testing.assert_array_equal(
        fg.numpy.select(conds, [x**2, 3 * x], np.sin(x)), onp.select(conds, [x**2, 3 * x], onp.sin(x))
    )
    onp.testing.assert_allclose(fg.grad(f)(x), central(f, x), rtol=1e-7, atol=1e-9)
    with pytest.raises(fg.ShapeError, match="2 conditions but 1 choices"):
        np.select(conds, [fg.tensor(x, requires_grad=True)])


def test_angle_of_real_values_is_piecewise_constant():
    x = onp.array([-2.0, 0.0, 3.0])
    onp.testing.assert_array_equal(np.angle(fg.tensor(x)).numpy(), onp.angle(x))
    onp.testing.assert_array_equal(np.angle(fg.tensor(x), deg=True).numpy(), onp.angle(x, deg=True))
    onp.testing.assert_array_equal(fg.grad(lambda v: np.sum(np.angle(v) * v))(x), onp.angle(x))


def test_where_forms():
    c, x, y = [True, False, True], onp.array([1.0, 2.0, 3.0]), onp.array([4.0, 5.0, 6.0])
    onp.testing.assert_array_equal(np.where(c, x=x, y=y), [1.0, 5.0, 3.0])
    onp.testing.assert_array_equal(np.where(c, x, y=y), [1.0, 5.0, 3.0])
    onp.testing.assert_array_equal(np.where(c)[0], [0, 2])
    onp.testing.assert_array_equal(fg.grad(lambda v: np.sum(np.where(c, x=v, y=2 * v)))(x), [1.0, 2.0, 1.0])
    with pytest.raises(ValueError, match="both x and y"):
        np.where(c, x)


def test_column_stack_of_scalars_and_rows():
    f = lambda v: np.column_stack(v)  # noqa: E731
    v = fg.tensor([1.0, 2.0], requires_grad=True)
    onp.testing.assert_array_equal(f(v).numpy(), onp.column_stack(onp.array([1.0, 2.0])))
    onp.testing.assert_array_equal(fg.jacobian(f)(onp.array([1.0, 2.0])).reshape(2, 2), onp.eye(2))


def test_integer_casts_of_a_traced_tensor_are_allowed_float_conversions_are_not():
    def f(w):
        idx = np.int64(w[:, -1])  # indexes read from the data: no gradient to lose
        assert idx.dtype == onp.int64
        return np.sum(w[idx, :2])

    w = onp.zeros((3, 3))
    w[:, -1] = [2.7, 0.2, 1.9]
    expected = onp.zeros((3, 3))
    for i in (2, 0, 1):
        expected[i, :2] += 1
    onp.testing.assert_array_equal(fg.grad(f)(w), expected)
    with pytest.raises(fg.DTypeError, match="requires grad"):
        fg.grad(lambda v: onp.sum(onp.float64(v)))(w)


def test_plain_numpy_reductions_call_tensor_methods_with_out_none():
    base = onp.array([1.0, 2.0, 0.5])
    for plain, ours in [(onp.sum, np.sum), (onp.prod, np.prod), (onp.max, np.max), (onp.min, np.min)]:
        f_plain = lambda a, r=plain: r(np.exp(a) * base)  # noqa: E731
        f_ours = lambda a, r=ours: r(np.exp(a) * base)  # noqa: E731
        assert fg.grad(f_plain)(0.7) == fg.grad(f_ours)(0.7)
    with pytest.raises(fg.DTypeError, match="out= is not supported"):
        fg.tensor([1.0]).sum(out=onp.zeros(()))


def test_std_of_single_values_has_zero_gradient_as_in_torch():
    torch = pytest.importorskip("torch")
    for shape, axis in [((1,), None), ((3, 1), 1), ((1, 4), 0)]:
        x = onp.random.default_rng(2).standard_normal(shape)
        ours = fg.grad(lambda v, a=axis: np.sum(np.std(v, axis=a)))(x)
        t = torch.tensor(x, requires_grad=True)
        (t.std(dim=axis, unbiased=False) if axis is not None else t.std(unbiased=False)).sum().backward()
        onp.testing.assert_array_equal(ours, t.grad.numpy())
    assert fg.grad(np.std)(3.5) == 0.0


def test_eigh_reads_the_triangle_it_is_asked_for_with_numpys_vectors():
    a = onp.random.default_rng(3).standard_normal((5, 5))  # not symmetric: the triangle matters
    for uplo in ("L", "U"):
        w, v = np.linalg.eigh(fg.tensor(a, requires_grad=True), uplo)
        ref_w, ref_v = onp.linalg.eigh(a, uplo)
        onp.testing.assert_array_equal(w.numpy(), ref_w)
        onp.testing.assert_array_equal(v.numpy(), ref_v)  # same signs as NumPy's on plain arrays
        weights = onp.random.default_rng(4).standard_normal((5, 5))
        f = lambda m, u=uplo: onp.sum(onp.linalg.eigh(m, u)[1] * weights)  # noqa: E731
        got = fg.grad(lambda m, u=uplo: np.sum(np.linalg.eigh(m, u)[1] * weights))(a)
        onp.testing.assert_allclose(got, central(f, a), rtol=1e-6, atol=1e-8)
        untouched = onp.triu(onp.ones((5, 5)), 1) if uplo == "L" else onp.tril(onp.ones((5, 5)), -1)
        assert not onp.any(got[untouched == 1])
    with pytest.raises(fg.ArgumentError, match="UPLO"):
        np.linalg.eigh(fg.tensor(a), "X")


def test_a_missing_rule_is_not_implemented_error():
    twice = primitive(lambda x: 2.0 * x)
    with pytest.raises(NotImplementedError, match="no derivative rule"):
        fg.grad(twice)(1.0)
    with pytest.raises(fg.NoDerivativeError):
        fg.deriv(twice)(1.0)


def test_predicates_of_traced_tensors_answer_without_a_gradient():
    def f(x):
        assert not np.iscomplex(x).any() and np.isreal(x).all() and not np.signbit(x).any()
        return np.sum(x**2) if not np.iscomplexobj(x) else None

    onp.testing.assert_array_equal(fg.grad(f)(onp.array([1.0, 2.0])), [2.0, 4.0])


def test_full_with_a_traced_fill_value():
    weights = onp.arange(6.0).reshape(2, 3)
    assert fg.grad(lambda v: np.sum(np.full((2, 3), v) * weights))(2.0) == 15.0
    assert np.full((2,), 2.0, dtype=onp.float32).dtype == onp.float32  # plain: NumPy's own


def test_fixed_point_derivatives_of_every_order():
    from flowgrad.misc.fixed_points import fixed_point

    def root(a):  # sqrt(a) by a gradient-descent iteration
        return fixed_point(lambda a: lambda x: x - 0.05 * (x**2 - a), a, 10.0, lambda x, y: np.abs(x - y), 1e-12)

    # d^k sqrt(a) / da^k at 2: 1/2 a^-1/2, -1/4 a^-3/2, 3/8 a^-5/2 (the iteration's 1e-12 limits them)
    assert float(fg.grad(root)(2.0)) == pytest.approx(0.5 * 2**-0.5, rel=1e-9)
    assert float(fg.grad(fg.grad(root))(2.0)) == pytest.approx(-0.25 * 2**-1.5, rel=1e-8)
    assert float(fg.grad(fg.grad(fg.grad(root)))(2.0)) == pytest.approx(3 / 8 * 2**-2.5, rel=1e-7)


def test_a_gradient_runs_only_the_rules_of_branches_that_reach_its_inputs():
    calls = []

    @primitive
    def noted(x):
        return x * 1.0

    defvjp(noted, lambda ans, x: lambda g: calls.append("noted") or g)
    no_rule = primitive(lambda y: y * 2.0)

    x, y = fg.tensor(1.5, requires_grad=True), fg.tensor(2.0, requires_grad=True)
    out = x * 3.0 + noted(y) + no_rule(y)  # y's branches have no part in d out / d x
    (gx,) = fg.autograd.grad(out, [x], retain_graph=True)
    assert float(gx) == 3.0 and calls == []
    with pytest.raises(NotImplementedError):
        fg.autograd.grad(out, [y])  # asked for: the missing rule is an error, as it must be
    assert float(fg.grad(lambda v: noted(v) * 2.0)(1.0)) == 2.0 and calls == ["noted"]
