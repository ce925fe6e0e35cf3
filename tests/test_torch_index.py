"""PyTorch's everyday functions made of primitives (ops/torch_index.py) and the comparison and
logical names, against torch: values, dtypes and float64 gradients of every float input."""

import numpy as np
import pytest

import flowgrad as fg

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.numeric  # rounding-dependent: run again on other kernels by make test

R = np.random.default_rng(0)
A34 = R.standard_normal((3, 4))
B34 = R.standard_normal((3, 4))
A234 = R.standard_normal((2, 3, 4))
B245 = R.standard_normal((2, 4, 5))
IDX = np.array([[0, 3, 3], [1, 0, 2], [2, 2, 1]])  # gather/scatter index for dim=1 (repeats: 3, 2)
JDX = np.array([2, 0, 2, 1])  # index_select/index_add index (a repeat)

# name -> (function of a library and float args, the float args, ints/bools/other args)
CASES = {
    "bmm": (lambda M, a, b: M.bmm(a, b), [A234, B245]),
    "bmm_method": (lambda M, a, b: a.bmm(b), [A234, B245]),
    "mv": (lambda M, a, v: M.mv(a, v), [A34, A34[0]]),
    "addmm": (lambda M, c, a, b: M.addmm(c, a, b, beta=0.5, alpha=2.0), [A34[:, :3], A34, B34.T[:, :3]]),
    "baddbmm": (lambda M, c, a, b: M.baddbmm(c, a, b, alpha=-1.5), [np.ones((2, 3, 5)), A234, B245]),
    "gather": (lambda M, a: M.gather(a, 1, M.tensor(IDX)), [A34]),
    "gather_neg_dim": (lambda M, a: M.gather(a, -2, M.tensor(IDX[:2].T % 3)), [A34]),
    "index_select": (lambda M, a: M.index_select(a, 1, M.tensor(JDX)), [A34]),
    "take_along_dim": (lambda M, a: M.take_along_dim(a, M.tensor(IDX), dim=1), [A34]),
    "take_along_dim_flat": (lambda M, a: M.take_along_dim(a, M.tensor(JDX)), [A34]),
    "masked_select": (lambda M, a: M.masked_select(a, M.tensor(A34[0] > 0)), [A34]),
    # src of the index's shape: torch's backward fails for a larger src (its gradient keeps the index's shape)
    "scatter_add": (lambda M, a, s: M.scatter_add(a, 1, M.tensor(IDX), s), [A34, B34[:, :3]]),
    "scatter_add_dim0": (lambda M, a, s: M.scatter_add(a, 0, M.tensor(IDX[:2] % 3), s), [A34, B34[:2, :3]]),
    "scatter_src": (
        lambda M, a, s: M.scatter(a, 1, M.tensor(np.array([[3, 1], [0, 2], [1, 0]])), s),
        [A34, B34[:, :2]],
    ),
    "scatter_value": (lambda M, a: M.scatter(a, 1, M.tensor(np.array([[3], [0], [1]])), value=2.5), [A34]),
    "index_add": (lambda M, a, s: M.index_add(a, 1, M.tensor(JDX), s, alpha=0.5), [A34, B34]),
    "trunc": (lambda M, a: M.trunc(a * 3), [A34]),
    "frac": (lambda M, a: M.frac(a * 3), [A34]),
    "fmod": (lambda M, a, b: M.fmod(a * 3, b), [A34, B34]),
    "remainder": (lambda M, a, b: M.remainder(a * 3, b), [A34, B34]),
    "floor_divide": (lambda M, a, b: M.floor_divide(a.detach() * 3, b.detach()), [A34, B34]),  # torch: no gradient
    "lerp": (lambda M, a, b, w: M.lerp(a, b, w), [A34, B34, np.abs(B34)]),
    "clamp_min": (lambda M, a: M.clamp_min(a, -0.3), [A34]),
    "clamp_max": (lambda M, a: a.clamp_max(0.2), [A34]),
    "addcmul": (lambda M, a, b, c: M.addcmul(a, b, c, value=0.5), [A34, B34, A34]),
    "addcdiv": (lambda M, a, b, c: M.addcdiv(a, b, c, value=-2.0), [A34, B34, np.abs(A34) + 1]),
    "cumsum": (lambda M, a: M.cumsum(a, dim=1), [A34]),
    "cumprod": (lambda M, a: M.cumprod(a, 0), [A34]),
    "cumprod_method": (lambda M, a: a.cumprod(dim=1), [A34]),
    "argsort": (lambda M, a: M.argsort(a, dim=1, descending=True), [A34]),
    "compare": (lambda M, a, b: (M.eq(a, a), M.ne(a, b), M.lt(a, b), M.le(a, b), M.gt(a, b), M.ge(a, b)), [A34, B34]),
    "logical": (
        lambda M, a, b: (
            M.logical_and(a > 0, b > 0),
            M.logical_or(a > 0, b > 0),
            M.logical_xor(a > 0, b > 0),
            M.logical_not(a > 0),
            (a > 0).logical_and(b > 0),
        ),
        [A34, B34],
    ),  # fmt: skip
}


def _run(M, fn, arrays):
    tensors = [M.tensor(a, dtype=M.float64, requires_grad=True) for a in arrays]
    out = fn(M, *tensors)
    outs = list(out) if isinstance(out, tuple) else [out]
    floats = [o for o in outs if o.dtype == M.float64]
    grads = [None] * len(tensors)
    if floats and any(o.requires_grad for o in floats):
        w = [M.tensor(np.linspace(-1, 1, o.numel()).reshape(tuple(o.shape)), dtype=M.float64) for o in floats]
        total = sum((o * wi).sum() for o, wi in zip(floats, w) if o.requires_grad)
        total.backward()
        grads = [None if t.grad is None else t.grad.detach().numpy().copy() for t in tensors]
    return [o.detach().numpy() for o in outs], [str(o.dtype).replace("torch.", "") for o in outs], grads


@pytest.mark.parametrize("name", sorted(CASES))
def test_against_torch(name):
    fn, arrays = CASES[name]
    ours, our_dtypes, our_grads = _run(fg, fn, arrays)
    theirs, their_dtypes, their_grads = _run(torch, fn, arrays)
    assert our_dtypes == their_dtypes
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)  # float64, a few ops: rounding only
    for a, b in zip(our_grads, their_grads):
        if b is None or not np.any(b):
            assert a is None or not np.any(a)  # zero or no gradient on both sides
        else:
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_gradients_against_central_differences():
    from tests.finite_differences import central

    for name in ("gather", "scatter_add", "index_add", "scatter_src", "lerp", "baddbmm"):
        fn, arrays = CASES[name]

        def f(*xs, fn=fn):
            return fn(fg, *xs).sum()

        xs = [fg.tensor(a, dtype=fg.float64, requires_grad=True) for a in arrays]
        f(*xs).backward()
        for k, x in enumerate(xs):
            numeric = central(
                lambda v, k=k: f(*[fg.tensor(v) if i == k else xs[i].detach() for i in range(len(xs))]).item(),
                arrays[k],
            )
            np.testing.assert_allclose(x.grad.numpy(), numeric, rtol=1e-6, atol=1e-8, err_msg=f"{name} input {k}")


def test_clear_errors():
    x = fg.ones(3, 4)
    with pytest.raises(fg.ShapeError, match="gather: index 7 is out of range for dim 1 of size 4"):
        fg.gather(x, 1, fg.tensor([[7]]))
    with pytest.raises(fg.ShapeError, match=r"bmm: expected \(b, n, m\) and \(b, m, p\), got \(3, 4\)"):
        fg.bmm(x, x)
    with pytest.raises(fg.ArgumentError, match="scatter: index writes the same place twice along dim 1"):
        fg.scatter(x, 1, fg.tensor([[0, 0]]), value=1.0)
    with pytest.raises(fg.ArgumentError, match="index must hold integers"):
        fg.index_select(x, 0, fg.tensor([0.0]))
    with pytest.raises(fg.ShapeError, match=r"index_add: source must have shape \(3, 2\)"):
        fg.index_add(x, 1, fg.tensor([0, 1]), fg.ones(3, 3))
    with pytest.raises(fg.ArgumentError, match="mask must be boolean"):
        fg.masked_select(x, fg.ones(3, 4))


def test_scatter_add_takes_a_src_larger_than_the_index():
    src = np.arange(12.0).reshape(3, 4)
    ours = fg.scatter_add(fg.zeros(3, 4, dtype=fg.float64), 1, fg.tensor(IDX), fg.tensor(src))
    theirs = torch.scatter_add(torch.zeros(3, 4, dtype=torch.float64), 1, torch.tensor(IDX), torch.tensor(src))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())  # small integers: exact
