"""Every primitive against NumPy, central differences and PyTorch, driven by one table.

The table lives in ``tests/opcases*.py``. For each row and shape set: the
forward pass equals the NumPy reference; first-order
gradients match central differences in float64 and come back in each input's
shape and dtype; second-order gradients (``create_graph=True``) match central
differences of the first-order ones, with respect to the inputs and to the
upstream gradient; float32 gradients stay float32 and near the float64 ones;
a second ``backward`` without zeroing doubles ``.grad`` exactly; and where the
row has a PyTorch twin, values and gradients equal torch's in float64 and
float32 (a tuple result is compared output by output; the other checks join
its float outputs into one vector). Further
tests pin the kink conventions and overflow-free activations, and fail when a
registry op has no case.
"""

from __future__ import annotations

import contextlib
import math
import warnings
import zlib
from collections import Counter
from collections.abc import Iterator

import numpy as np
import pytest

import flowgrad as fg
from flowgrad.core.ops import REGISTRY

from .op_table import CASES, run
from .opcases import OpCase
from .torch_twin import DTYPES, compare, leaves

pytestmark = pytest.mark.numeric  # rounding-dependent: run again on other kernels by make test

EPS = 1e-6
RTOL, ATOL = 1e-6, 1e-8


def _shape_id(shapes: tuple) -> str:
    return ",".join("x".join(map(str, s)) or "s" for s in shapes)


def _marks(case: OpCase) -> list:
    return [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []


def _params(select: callable) -> list:
    return [
        pytest.param(case, shapes, id=f"{case.id}-{_shape_id(shapes)}", marks=_marks(case))
        for case in CASES
        if select(case)
        for shapes in case.shapes
    ]


ALL = _params(lambda c: c.ref is not None)  # rows without a NumPy forward: torch is their referee
GRAD = _params(lambda c: c.grad_inputs != ())
TWICE = _params(lambda c: c.grad_inputs != () and c.twice_differentiable)


# ----- helpers ------------------------------------------------------------------------------
def rng_for(case: OpCase, shapes: tuple, salt: str = "") -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(f"{case.id}|{shapes}|{salt}".encode()))


def sample(case: OpCase, shapes: tuple, rng: np.random.Generator) -> list[np.ndarray]:
    arrays = [np.asarray(a) for a in case.sample(rng, shapes)]
    return [a.astype(np.float64) if a.dtype.kind == "f" else a for a in arrays]


def grad_index(case: OpCase, arrays: list[np.ndarray]) -> tuple[int, ...]:
    if case.grad_inputs is not None:
        return case.grad_inputs
    return tuple(i for i, a in enumerate(arrays) if a.dtype.kind == "f")


def cast(a: np.ndarray, dtype: type) -> np.ndarray:
    return a.astype(dtype) if a.dtype.kind == "f" else a


def tensors(arrays: list[np.ndarray], gi: tuple, dtype: type = np.float64) -> list[fg.Tensor]:
    return [fg.tensor(cast(a, dtype), requires_grad=i in gi) for i, a in enumerate(arrays)]


def first_grads(case: OpCase, arrays: list[np.ndarray], gi: tuple, w: np.ndarray, dtype: type = np.float64) -> list:
    """Gradients of sum(out * w) w.r.t. the inputs in ``gi`` (one plain first-order pass)."""
    ts = tensors(arrays, gi, dtype)
    out = run(case, ts)
    assert out.requires_grad, f"{case.id}: the output is not connected to the inputs {gi}"
    gs = fg.autograd.grad(out, [ts[i] for i in gi], grad_outputs=w)
    return [g.data for g in gs]


def central_differences(f: callable, arrays: list[np.ndarray], which: tuple) -> list[np.ndarray]:
    """d f(arrays) / d arrays[i] for i in ``which``, one element at a time."""
    result = []
    for i in which:
        x = arrays[i]
        g = np.zeros_like(x)
        for j in np.ndindex(x.shape):
            orig = x[j]
            x[j] = orig + EPS
            plus = f(arrays)
            x[j] = orig - EPS
            minus = f(arrays)
            x[j] = orig
            g[j] = (plus - minus) / (2 * EPS)
        result.append(g)
    return result


@contextlib.contextmanager
def watching(name: str) -> Iterator[list]:
    """Record the calls of registry op ``name``'s forward (the case must really run it)."""
    op = REGISTRY[name]
    original = op.forward
    calls: list = []

    def spy(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return original(*args, **kwargs)

    op.forward = spy
    try:
        yield calls
    finally:
        op.forward = original


def upstream(case: OpCase, arrays: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    out = run(case, tensors(arrays, ()))
    return rng.standard_normal(out.shape)


# ----- (1) forward ---------------------------------------------------------------------------
@pytest.mark.parametrize("case, shapes", ALL)
def test_forward_matches_numpy(case: OpCase, shapes: tuple) -> None:
    arrays = sample(case, shapes, rng_for(case, shapes))
    floats = tuple(i for i, a in enumerate(arrays) if a.dtype.kind == "f")
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 1e-6)):
        xs = [cast(a, dtype) for a in arrays]
        expected = np.asarray(case.ref(*[x.copy() for x in xs]))
        with watching(case.name) as calls:
            out = case.fn(*tensors(xs, floats, dtype))
        assert calls, f"{case.id} never runs the registry op {case.name!r}"
        assert isinstance(out, fg.Tensor)
        assert out.dtype == expected.dtype, (out.dtype, expected.dtype)
        assert out.shape == expected.shape, (out.shape, expected.shape)
        if expected.dtype.kind in "fc":
            np.testing.assert_allclose(out.data, expected, rtol=tol, atol=tol, equal_nan=True)
        else:
            np.testing.assert_array_equal(out.data, expected)
        if not REGISTRY[case.name].differentiable:
            assert not out.requires_grad and out.grad_fn is None


# ----- (2) first order -----------------------------------------------------------------------
@pytest.mark.parametrize("case, shapes", GRAD)
def test_gradient_matches_central_differences(case: OpCase, shapes: tuple) -> None:
    rng = rng_for(case, shapes)
    arrays = sample(case, shapes, rng)
    gi = grad_index(case, arrays)
    w = upstream(case, arrays, rng)
    analytic = first_grads(case, arrays, gi, w)

    def f(xs: list[np.ndarray]) -> float:
        return float(np.sum(run(case, tensors(xs, ())).data * w))

    numeric = central_differences(f, arrays, gi)
    for i, g, n in zip(gi, analytic, numeric):
        assert g.shape == arrays[i].shape and g.dtype == arrays[i].dtype, (i, g.shape, g.dtype)
        np.testing.assert_allclose(g, n, rtol=RTOL, atol=ATOL, err_msg=f"{case.id}: input {i}")


# ----- (3) second order ----------------------------------------------------------------------
@pytest.mark.parametrize("case, shapes", TWICE)
def test_second_order_matches_central_differences(case: OpCase, shapes: tuple) -> None:
    rng = rng_for(case, shapes)
    arrays = sample(case, shapes, rng)
    gi = grad_index(case, arrays)
    w = upstream(case, arrays, rng)
    vs = [rng.standard_normal(arrays[i].shape) for i in gi]

    ts = tensors(arrays, gi)
    wt = fg.tensor(w, requires_grad=True)  # differentiating in w checks the rules' own transposes
    gs = fg.autograd.grad(run(case, ts), [ts[i] for i in gi], grad_outputs=wt, create_graph=True)
    plain = first_grads(case, arrays, gi, w)
    for g, p in zip(gs, plain):  # the graph-building pass computes the same first gradient
        assert g.shape == p.shape and g.dtype == p.dtype
        np.testing.assert_allclose(g.data, p, rtol=1e-12, atol=1e-12, err_msg=f"{case.id}: create_graph")
    phi = sum((fg.sum(g * v) for g, v in zip(gs, vs)), fg.tensor(0.0, dtype=fg.float64))
    targets = [ts[i] for i in gi] + [wt]
    second = fg.autograd.grad(phi, targets, allow_unused=True) if phi.requires_grad else [None] * len(targets)

    def f(xs: list[np.ndarray]) -> float:
        return float(sum(np.sum(g * v) for g, v in zip(first_grads(case, xs[:-1], gi, xs[-1]), vs)))

    numeric = central_differences(f, arrays + [w], gi + (len(arrays),))
    for t, s, n in zip(targets, second, numeric):
        s = np.zeros_like(t.data) if s is None else s.data
        assert s.shape == t.shape and s.dtype == t.dtype
        np.testing.assert_allclose(s, n, rtol=RTOL, atol=ATOL, err_msg=f"{case.id}: second order")


# ----- (4) float32 --------------------------------------------------------------------------
@pytest.mark.parametrize("case, shapes", GRAD)
def test_float32_gradients_stay_float32(case: OpCase, shapes: tuple) -> None:
    rng = rng_for(case, shapes)
    arrays = [cast(cast(a, np.float32), np.float64) for a in sample(case, shapes, rng)]
    gi = grad_index(case, arrays)
    w = upstream(case, arrays, rng)
    g64 = first_grads(case, arrays, gi, w)
    g32 = first_grads(case, arrays, gi, w.astype(np.float32), np.float32)
    for i, a, b in zip(gi, g32, g64):
        assert a.dtype == np.float32 and a.shape == arrays[i].shape, (i, a.dtype, a.shape)
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4, err_msg=f"{case.id}: input {i}")


def test_astype_to_float32_sends_float64_gradients_back() -> None:
    x = fg.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    w = np.array([0.1, 0.2, 0.3])
    (g,) = fg.autograd.grad(x.astype(np.float32), x, grad_outputs=w)
    assert g.dtype == np.float64
    np.testing.assert_array_equal(g.data, w.astype(np.float32).astype(np.float64))


# ----- (5) PyTorch ----------------------------------------------------------------------------
TWINS = [
    pytest.param(case, shapes, dtype, id=f"{case.id}-{_shape_id(shapes)}-{dtype}", marks=_marks(case))
    for case in CASES
    if case.torch is not None
    for shapes in case.shapes
    for dtype in DTYPES
]


# a var over an empty dim is an empty result: torch's warning about its nans has nothing to warn of
@pytest.mark.filterwarnings("ignore:var\\(\\). degrees of freedom:UserWarning")
@pytest.mark.parametrize("case, shapes, dtype", TWINS)
def test_matches_torch(case: OpCase, shapes: tuple, dtype: str) -> None:
    pytest.importorskip("torch")
    arrays = sample(case, shapes, rng_for(case, shapes))
    fx, tx = leaves(arrays, dtype, grad_index(case, arrays))
    with watching(case.name) as calls:
        fo = case.fn(*fx)
    assert calls, f"{case.id} never runs the registry op {case.name!r}"
    compare(fo, case.torch(*tx), fx, tx, *DTYPES[dtype][2:])


# ----- (6) coverage ---------------------------------------------------------------------------
def test_every_registry_op_has_a_case() -> None:
    covered = {c.name for c in CASES}
    missing = sorted(set(REGISTRY) - covered)
    assert not missing, f"registry ops with no case in tests/opcases*.py: {missing}"
    unknown = sorted(covered - set(REGISTRY))
    assert not unknown, f"cases name ops that are not in the registry: {unknown}"
    no_grad_check = sorted(
        name
        for name, op in REGISTRY.items()
        if op.differentiable and all(c.grad_inputs == () for c in CASES if c.name == name)
    )
    assert not no_grad_check, f"differentiable ops with only forward-only cases: {no_grad_check}"
    wrongly_checked = sorted(c.id for c in CASES if not REGISTRY[c.name].differentiable and c.grad_inputs != ())
    assert not wrongly_checked, f"ops without gradient rules must have forward-only cases: {wrongly_checked}"


def test_every_op_has_ten_shape_sets() -> None:
    counts = Counter()
    for c in CASES:
        counts[c.name] += len(c.shapes)
    few = {name: n for name, n in counts.items() if n < 10}
    assert not few, f"ops with fewer than 10 shape sets: {few}"


# ----- (7) kink conventions (flowgrad/ops/elementwise.py, reduce.py) ------------------------
def grad_of(fn: callable, *values: object, upstream_grad: object = None) -> list[np.ndarray]:
    ts = [fg.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for v in values]
    out = fn(*ts)
    go = np.ones(out.shape) if upstream_grad is None else np.asarray(upstream_grad, dtype=np.float64)
    return [g.data for g in fg.autograd.grad(out, ts, grad_outputs=go)]


def test_relu_and_abs_have_zero_gradient_at_zero() -> None:
    np.testing.assert_array_equal(grad_of(fg.relu, [-1.0, 0.0, 2.0])[0], [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(grad_of(fg.abs, [-1.0, 0.0, 2.0])[0], [-1.0, 0.0, 1.0])


def test_maximum_minimum_ties_split_the_gradient() -> None:
    for fn in (fg.maximum, fg.minimum):
        ga, gb = grad_of(fn, [1.0, 2.0, 3.0], [1.0, 0.0, 5.0], upstream_grad=[4.0, 4.0, 4.0])
        big = fn is fg.maximum
        np.testing.assert_array_equal(ga, [2.0, 4.0 if big else 0.0, 0.0 if big else 4.0])
        np.testing.assert_array_equal(gb, [2.0, 0.0 if big else 4.0, 4.0 if big else 0.0])
        ga, gb = grad_of(fn, [2.0, 2.0, 2.0], 2.0)  # broadcast tie: halves add up in the scalar
        np.testing.assert_array_equal(ga, [0.5, 0.5, 0.5])
        assert gb.shape == () and gb == 1.5


@pytest.mark.parametrize("reduce", [fg.amax, fg.amin])
def test_max_min_reductions_split_ties_evenly(reduce: callable) -> None:
    (g,) = grad_of(lambda x: reduce(x), [1.0, 3.0, 3.0, 1.0, 3.0] if reduce is fg.amax else [1.0, 3.0, 1.0, 1.0])
    expected = [0.0, 1 / 3, 1 / 3, 0.0, 1 / 3] if reduce is fg.amax else [1 / 3, 0.0, 1 / 3, 1 / 3]
    np.testing.assert_allclose(g, expected, rtol=1e-15)
    x = np.array([[[2.0, 2.0], [1.0, 2.0]], [[0.0, 5.0], [5.0, 5.0]]])
    x, best = (x, np.max) if reduce is fg.amax else (-x, np.min)
    for dim, keep in ((-1, True), ((1, 2), False), (None, False), (0, True)):
        out = reduce(fg.tensor(x), dim=dim, keepdim=keep)
        up = np.arange(1.0, 1.0 + out.data.size).reshape(out.shape)
        (g,) = grad_of(lambda t, d=dim, k=keep: reduce(t, dim=d, keepdim=k), x, upstream_grad=up)
        axes = tuple(range(x.ndim)) if dim is None else dim
        np.testing.assert_allclose(np.sum(g, axis=axes, keepdims=keep), up, rtol=1e-15)
        winners = x == best(x, axis=axes, keepdims=True)
        assert np.all(g[~winners] == 0) and np.all(g[winners] > 0)
        counts = np.sum(winners, axis=axes, keepdims=True)
        np.testing.assert_allclose(
            g, np.where(winners, np.broadcast_to(np.reshape(up, counts.shape) / counts, x.shape), 0)
        )


def test_clip_passes_the_gradient_at_its_bounds() -> None:
    (g,) = grad_of(lambda x: fg.clip(x, -1.0, 1.0), [-2.0, -1.0, 0.0, 1.0, 2.0])
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0, 1.0, 0.0])


# ----- (8) no overflow in float32 at +-1e4 ----------------------------------------------------
STABLE = {
    "sigmoid": (fg.sigmoid, [0.0, 0.2689414, 0.5, 0.7310586, 1.0]),
    "softplus": (fg.softplus, [0.0, 0.3132617, 0.6931472, 1.3132617, 1e4]),
    "logsumexp": (lambda x: fg.logsumexp(x, dim=-1), 1e4),
    "softmax": (lambda x: fg.softmax(x, dim=-1), [0.0, 0.0, 0.0, 0.0, 1.0]),
    "log_softmax": (lambda x: fg.log_softmax(x, dim=-1), [-2e4, -10001.0, -1e4, -9999.0, 0.0]),
}


@pytest.mark.parametrize("name", sorted(STABLE))
def test_activations_stay_finite_at_large_float32_inputs(name: str) -> None:
    fn, expected = STABLE[name]
    x = fg.tensor(np.array([-1e4, -1.0, 0.0, 1.0, 1e4], np.float32), requires_grad=True)
    # exp(-2e4) underflowing to 0 is the right answer, not an error: only overflow,
    # invalid operations (nan) and division by zero are refused here.
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        out = fn(x)
        w = np.linspace(0.5, 1.5, out.data.size).reshape(out.shape)
        (g,) = fg.autograd.grad(out, x, grad_outputs=w, create_graph=True)
        (gg,) = fg.autograd.grad(fg.sum(g * g), x)
    assert out.dtype == np.float32 and g.dtype == np.float32 and gg.dtype == np.float32
    assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(g.data)) and np.all(np.isfinite(gg.data))
    np.testing.assert_allclose(out.data, expected, rtol=1e-6, atol=1e-7)


# ----- (9) accumulation -------------------------------------------------------------------------
BIGGEST = [
    pytest.param(case, max(case.shapes, key=lambda s: sum(math.prod(x) for x in s)), id=case.id, marks=_marks(case))
    for case in CASES
    if case.grad_inputs != ()
]


@pytest.mark.parametrize("case, shapes", BIGGEST)
def test_second_backward_doubles_the_gradient(case: OpCase, shapes: tuple) -> None:
    rng = rng_for(case, shapes, "twice")
    arrays = sample(case, shapes, rng)
    gi = grad_index(case, arrays)
    w = upstream(case, arrays, rng)
    ts = tensors(arrays, gi)
    loss = fg.sum(run(case, ts) * w)
    loss.backward(retain_graph=True)
    first = [ts[i].grad.data.copy() for i in gi]
    loss.backward()
    for i, g in zip(gi, first):
        np.testing.assert_array_equal(ts[i].grad.data, 2 * g)


def test_scalar_gradient_accumulates_over_three_uses() -> None:
    # A 0-d input reached by three paths: NumPy turns 0-d `prev + g` into a scalar,
    # which later in-place accumulation (np.add(..., out=prev)) cannot write into.
    x = fg.tensor(np.array(2.0), requires_grad=True)
    (x + x + x).backward()
    assert x.grad.shape == () and x.grad.item() == 3.0
