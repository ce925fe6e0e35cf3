"""flowgrad against PyTorch beyond single ops: random programs, second derivatives and dtype rules.

Each check is one function ``fn(M, *xs)`` written against a module ``M`` and
run twice, with ``M = fg`` and with ``M = torch`` (``softplus``/``leaky_relu``
taken from ``torch.nn.functional``), on the same data. Both then run backward
through ``(out * w).sum()`` for a fixed random ``w`` and every input's ``.grad``
is compared. The per-op comparisons are rows of the op table
(``tests/opcases*.py``, run by ``tests/test_ops_gradcheck.py``).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

import flowgrad as fg
import flowgrad.numpy as fnp

from .opcases import KINDS
from .torch_twin import DTYPES, TT, as_numpy, assert_same, compare, leaves

pytestmark = pytest.mark.numeric  # rounding-dependent: run again on other kernels by make test

torch = pytest.importorskip("torch")


def _xfail(reason):
    return pytest.mark.xfail(strict=True, reason=reason)


def arrays(spec, seed=0):
    """``"n3,4 p4 a"`` -> float64 arrays of those kinds and shapes (``a`` alone: 0-d)."""
    rng = np.random.default_rng(seed)
    return [np.asarray(KINDS[t[0]](rng, tuple(int(s) for s in t[1:].split(",") if s)), float) for t in spec.split()]


# ----------------------------------------------------------------------------- 1. random programs
Op = namedtuple("Op", "name fn need ok kink")


def op(name, fn, need=0, ok=None, kink=None):
    """``need``: 0 no dim argument, 1 a dim, 2 a dim of size >= 2. ``kink(h, y, d)``: distance to a kink."""
    return Op(name, fn, need, ok or (lambda h, y: True), kink)


def _works(f):
    try:
        f()
        return True
    except ValueError:
        return False


_bcast = lambda h, y: _works(lambda: np.broadcast_shapes(h, y))
_mm = lambda h, y: _works(lambda: np.matmul(np.zeros(h), np.zeros(y)))


def _gap(h, d=None):
    """Gap between the two largest values along ``d`` (a max's gradient is only defined when positive)."""
    s = np.sort(h.reshape(-1) if d is None else np.moveaxis(h, d, -1), axis=-1)
    return np.inf if s.shape[-1] < 2 else float((s[..., -1] - s[..., -2]).min())


_nd = lambda k: lambda h, y: len(h) >= k
_small = lambda h, y: len(h) < 4 and int(np.prod(h)) <= 32
_absmin = lambda a: float(np.abs(a).min(initial=np.inf))
PROGRAM_OPS = [
    op("tanh", lambda M, h, y, d: M.tanh(h)),
    op("sin", lambda M, h, y, d: M.sin(h)),
    op("cos", lambda M, h, y, d: h.cos()),
    op("sigmoid", lambda M, h, y, d: M.sigmoid(h)),
    op("exp", lambda M, h, y, d: M.exp(h)),
    op("affine", lambda M, h, y, d: 1.0 - 0.5 * h),
    op("square", lambda M, h, y, d: h * h),
    op("cube", lambda M, h, y, d: h**3),
    op("log_softplus", lambda M, h, y, d: M.log(M.softplus(h))),
    op("sqrt_softplus", lambda M, h, y, d: M.sqrt(M.softplus(h, beta=2.0))),
    op("log1p_exp", lambda M, h, y, d: M.log1p(M.exp(-h))),
    op("sqrt_exp", lambda M, h, y, d: M.exp(0.5 * h).sqrt()),
    op("recip", lambda M, h, y, d: 1.0 / (1.0 + h * h)),
    op("abs", lambda M, h, y, d: M.abs(h), kink=lambda h, y, d: _absmin(h)),
    op("relu", lambda M, h, y, d: M.relu(h) + h * 0.1, kink=lambda h, y, d: _absmin(h)),
    op("leaky_relu", lambda M, h, y, d: M.leaky_relu(h, 0.2), kink=lambda h, y, d: _absmin(h)),
    op("clamp", lambda M, h, y, d: M.clamp(h, -1.0, 1.0), kink=lambda h, y, d: _absmin(np.abs(h) - 1)),
    op("add_y", lambda M, h, y, d: h + y, ok=_bcast),
    op("sub_y", lambda M, h, y, d: y - h, ok=_bcast),
    op("mul_y", lambda M, h, y, d: h * y, ok=_bcast),
    op("div_y", lambda M, h, y, d: h / (1.0 + y * y), ok=_bcast),
    op("pow_y", lambda M, h, y, d: (M.softplus(y) + 0.1) ** M.tanh(h), ok=_bcast),
    op("maximum_y", lambda M, h, y, d: M.maximum(h, y), ok=_bcast, kink=lambda h, y, d: _absmin(h - y)),
    op("where_y", lambda M, h, y, d: M.where(y > 0, h, 2.0 * y), ok=_bcast, kink=lambda h, y, d: _absmin(y)),
    op("matmul_y", lambda M, h, y, d: h @ y, ok=_mm),
    op("sum", lambda M, h, y, d: h.sum()),
    op("mean", lambda M, h, y, d: h.mean()),
    op("max_all", lambda M, h, y, d: h.max(), kink=lambda h, y, d: _gap(h)),
    op("sum_dim", lambda M, h, y, d: M.sum(h, d), need=1),
    op("sum_keep", lambda M, h, y, d: h.sum(d, keepdim=True), need=1),
    op("mean_keep", lambda M, h, y, d: M.mean(h, d, keepdim=True), need=1),
    op("var", lambda M, h, y, d: h.var(d), need=2),
    op("std", lambda M, h, y, d: M.std(h, d, keepdim=True), need=2, kink=lambda h, y, d: float(h.std(d).min())),
    op("prod", lambda M, h, y, d: h.prod(d), need=1),
    op("logsumexp", lambda M, h, y, d: M.logsumexp(h, d), need=1),
    op("softmax", lambda M, h, y, d: M.softmax(h, d), need=1),
    op("log_softmax", lambda M, h, y, d: h.log_softmax(d), need=1),
    op("max_dim", lambda M, h, y, d: h.max(d).values, need=1, kink=lambda h, y, d: _gap(h, d)),
    op("min_keep", lambda M, h, y, d: M.min(h, d, keepdim=True)[0], need=1, kink=lambda h, y, d: _gap(-h, d)),
    op("transpose", lambda M, h, y, d: h.transpose(d, -1), need=1),
    op("permute_rev", lambda M, h, y, d: h.permute(*reversed(range(h.ndim))), ok=_nd(1)),
    op("flatten", lambda M, h, y, d: h.flatten()),
    op("reshape_col", lambda M, h, y, d: h.reshape(-1, 1)),
    op("unsqueeze", lambda M, h, y, d: h.unsqueeze(0), ok=_small),
    op("squeeze", lambda M, h, y, d: h.squeeze()),
    op("expand", lambda M, h, y, d: h.expand(2, *h.shape), ok=_small),
    op("index_rep", lambda M, h, y, d: h[..., [0, 0, -1]], ok=_nd(1)),
    op("index_first", lambda M, h, y, d: h[0], ok=_nd(1)),
    op("index_mask", lambda M, h, y, d: h[h > 0], ok=_nd(1), kink=lambda h, y, d: _absmin(h) * (h > 0).any()),
    op("cat", lambda M, h, y, d: M.cat([h, M.tanh(h)], d), need=1, ok=_small),
    op("stack", lambda M, h, y, d: M.stack([h, h.sin()], -1), ok=_small),
    op("split", lambda M, h, y, d: h.split(1, d)[-1], need=1),
    op("chunk", lambda M, h, y, d: M.chunk(h, 2, d)[0], need=1),
]


def run_program(data, dtype):
    rtol, atol = DTYPES[dtype][2:]
    # Hypothesis draws the number of inputs, the length (simplest: 8) and a seed; the seed picks shapes, ops and
    # dims (Hypothesis drawing those one by one gave a few programs many times over).
    nin, length = data.draw(st.integers(1, 2), label="inputs"), data.draw(st.sampled_from(range(8, 0, -1)))
    rng = np.random.default_rng([data.draw(st.integers(0, 2**32 - 1), label="seed"), nin, length])
    pick = lambda xs: xs[rng.integers(len(xs))]
    full = [pick([3, 2]) for _ in range(pick([1, 2, 3]))]
    shapes = [tuple(1 if pick([0, 0, 1]) else s for s in full)[(pick(range(len(full) + 1)) if i else 0) :]
              for i in range(nin)]  # fmt: skip
    fx, tx = leaves([rng.uniform(-2.0, 2.0, s) for s in shapes], dtype)
    (fh, th), (fy, ty) = (fx[0], tx[0]), (fx[-1], tx[-1])
    note(f"input shapes {shapes}")
    for step in range(length):
        cands = [o for o in PROGRAM_OPS if o.ok(fh.shape, fy.shape)]
        if step == 0 and len(fx) == 2:  # begin by combining the two inputs
            cands = [o for o in cands if o.ok is _bcast]
        dims = [i for i in range(fh.ndim) if fh.shape[i] >= 2] if fh.ndim else []
        cands = [o for o in cands if not o.need or (fh.ndim and (o.need == 1 or dims))]
        o = pick(cands)
        d = pick(dims if o.need == 2 else list(range(-fh.ndim, fh.ndim))) if o.need else None
        if o.kink is not None and not o.kink(fh.numpy(), fy.numpy(), d) > 1e-3:
            note(f"skipped {o.name}(dim={d}) on shape {fh.shape}: too near a kink")
            continue
        gh = o.fn(fg, fh, fy, d)
        if not (np.all(np.isfinite(gh.numpy())) and np.abs(gh.numpy()).max(initial=0.0) < 1e4):
            note(f"skipped {o.name}(dim={d}) on shape {fh.shape}: values too large")
            continue
        note(f"{o.name}(dim={d}) on shape {fh.shape}")
        fh, th = gh, o.fn(TT, th, ty, d)
    compare(fh, th, fx, tx, rtol, atol, scaled=True)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_zero_d_grad_accumulation(dtype):  # three 0-d gradient sums: once a TypeError (a NumPy scalar, not an array)
    fx, tx = leaves(arrays("n", seed=9), dtype)
    compare((fx[0] + fx[0]) + fx[0], (tx[0] + tx[0]) + tx[0], fx, tx, *DTYPES[dtype][2:])


@settings(derandomize=True, max_examples=150, deadline=None)
@given(st.data())
def test_random_programs_float64(data):
    run_program(data, "float64")


@settings(derandomize=True, max_examples=80, deadline=None)
@given(st.data())
def test_random_programs_float32(data):
    run_program(data, "float32")


# ----------------------------------------------------------------------------- 2. second derivatives
SECOND = [
    ("tanh_exp", lambda M, x: (M.tanh(x) * M.exp(x)).sum(), "n3,4"),
    ("pow_sin", lambda M, x: (x**3 * M.sin(x)).sum(), "n5"),
    ("logsumexp", lambda M, x: M.logsumexp(x * x, 1).sum(), "n3,4"),
    ("softmax_sq", lambda M, x: (M.softmax(x, -1) ** 2).sum(), "n3,4"),
    ("log_softmax_nll", lambda M, x: -M.log_softmax(x, 1)[:, 0].mean(), "n4,3"),
    ("var_std", lambda M, x: x.var(0).sum() + x.std(1).sum(), "n4,3"),
    ("sigmoid_mlp", lambda M, x, w: M.sigmoid(M.tanh(x @ w) @ w.T).mean(), "n4,3 n3,2"),
    ("mixed", lambda M, x, y: (M.log(M.softplus(x) * (y * y + 1)) / (1 + y.exp())).prod(1).sum(), "n2,3 n3"),
    ("einsum_div", lambda M, x, y: M.einsum("ij,jk->ik", x, y).sqrt().sum() / y.sum(), "p2,3 p3,2"),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("fn", "spec"), [pytest.param(f, s, id=i) for i, f, s in SECOND])
def test_second_derivatives(fn, spec, dtype):
    fx, tx = leaves(arrays(spec, seed=3), dtype)
    rtol, atol = DTYPES[dtype][2:]
    fgs = fg.autograd.grad(fn(fg, *fx), fx, create_graph=True)
    tgs = torch.autograd.grad(fn(TT, *tx), tx, create_graph=True)
    compare(list(fgs), list(tgs), fx, tx, rtol, atol, seed=4)


def _mlp(theta, X, Y, M, classify):
    W1, b1 = M.reshape(theta[:12], (3, 4)), theta[12:16]
    W2, b2 = M.reshape(theta[16:20], (4, 1)), theta[20]
    out = M.matmul(M.tanh(M.matmul(X, W1) + b1), W2) + b2
    if classify:  # logistic loss, log(1 + exp(-y z))
        return M.mean(M.log(1.0 + M.exp(-Y * out)))
    return M.mean((out - Y) ** 2)


@pytest.mark.parametrize("classify", [False, True], ids=["mse", "logistic"])
def test_hessian_mlp(classify):
    rng = np.random.default_rng(5)
    X, theta = rng.standard_normal((6, 3)), 0.5 * rng.standard_normal(21)
    Y = np.sign(rng.standard_normal((6, 1))) if classify else rng.standard_normal((6, 1))
    H = fg.hessian(lambda t: _mlp(t, X, Y, fnp, classify))(theta)
    Xt, Yt = torch.tensor(X), torch.tensor(Y)
    Ht = torch.autograd.functional.hessian(lambda t: _mlp(t, Xt, Yt, torch, classify), torch.tensor(theta))
    assert isinstance(H, np.ndarray)
    assert_same(H, Ht, 1e-9, 1e-12, "hessian")
    np.testing.assert_allclose(H, H.T, atol=1e-12)


# ----------------------------------------------------------------------------- 3. dtype rules
SCALARS = [2.0, 3, np.float64(1.5), np.float32(1.5), np.int64(2), np.float16(0.5)]
SCALAR_OPS = ["x + s", "s + x", "x - s", "s - x", "x * s", "s * x", "x / s", "s / x", "x ** s", "s ** x"]
SCALAR_OPS += ["x.add(s).mul(s).sub(s).div(s)", "x.pow(s)", "x.clamp(-s, s)"]
SCALAR_PARAMS = [pytest.param(e, s, id=f"{e}-{type(s).__name__}") for e in SCALAR_OPS for s in SCALARS]


@pytest.mark.parametrize(("expr", "s"), SCALAR_PARAMS)
def test_weak_scalar_keeps_float32(expr, s):
    fx, tx = leaves(arrays("p3,2", seed=6), "float32")
    fo, to = eval(expr, {"x": fx[0], "s": s}), eval(expr, {"x": tx[0], "s": s})
    assert fo.dtype == np.float32 and to.dtype == torch.float32
    compare(fo, to, fx, tx, 1e-6, 1e-6)
    assert fx[0].grad.dtype == np.float32


FN_SCALAR_CASES = [
    ("fn_add", lambda M, x, c: M.add(x, np.float64(2))),
    ("fn_sub", lambda M, x, c: M.sub(x, np.float64(2))),
    ("fn_mul", lambda M, x, c: M.mul(x, np.float64(2))),
    ("fn_div", lambda M, x, c: M.div(x, np.float64(2))),
    ("fn_pow", lambda M, x, c: M.pow(x, np.float64(2))),
    ("fn_clamp", lambda M, x, c: M.clamp(x, np.float64(0.5))),
    ("method_clamp_max", lambda M, x, c: x.clamp(max=np.float64(0.5))),
    ("fn_where", lambda M, x, c: M.where(c, x, np.float64(0.0))),
    ("masked_fill", lambda M, x, c: x.masked_fill(c, np.float64(0.0))),
    ("leaky_relu_slope", lambda M, x, c: M.leaky_relu(x, np.float64(0.1))),
    ("softplus_beta", lambda M, x, c: M.softplus(x, np.float64(2.0))),
]


@pytest.mark.parametrize("fn", [pytest.param(f, id=i) for i, f in FN_SCALAR_CASES])
def test_function_numpy_scalar_keeps_float32(fn):
    fx, tx = leaves(arrays("n2,3", seed=7), "float32")
    cond = np.array([True, False, True])
    fo, to = fn(fg, fx[0], fg.tensor(cond)), fn(TT, tx[0], torch.tensor(cond))
    assert to.dtype == torch.float32
    compare(fo, to, fx, tx, 1e-6, 1e-6)


def test_float32_times_float64_promotes():
    (f32, f64), (t32, t64) = leaves(arrays("n3,1 n4", seed=8), "float64")
    f32, t32 = f32.detach().float().requires_grad_(), t32.detach().float().requires_grad_()
    fo, to = f32 * f64 + f64 / f32, t32 * t64 + t64 / t32
    assert fo.dtype == np.float64 and to.dtype == torch.float64
    compare(fo, to, [f32, f64], [t32, t64], 1e-6, 1e-7)
    assert f32.grad.dtype == np.float32 and f64.grad.dtype == np.float64  # a gradient has its input's dtype


def _dt(t):
    return str(np.dtype(t.dtype)) if isinstance(t, fg.Tensor) else str(t.dtype).removeprefix("torch.")


_ZERO_D = "flowgrad: float64 (NumPy); torch: a 0-d tensor never promotes a dimensioned one of its category: float32"
_INT_FLOAT = "flowgrad: float64 (NumPy); torch: ints never widen a float tensor, and int -> float gives float32"
PROMOTION = [
    ("f32+bool", lambda M: M.tensor([1.0, 2.0], dtype=M.float32) + M.tensor([True, False]), None),
    ("f32*f64", lambda M: M.tensor([1.0, 2.0], dtype=M.float32) * M.tensor([3.0, 4.0], dtype=M.float64), None),
    ("i32+i64", lambda M: M.tensor([1, 2], dtype=M.int32) + M.tensor([3, 4]), None),
    ("i32*int", lambda M: M.tensor([1, 2], dtype=M.int32) * 3, None),
    ("u8+i8", lambda M: M.tensor([1, 2], dtype=M.uint8) + M.tensor([3, 4], dtype=M.int8), None),
    ("f32_0d*f64_0d", lambda M: M.tensor(1.0, dtype=M.float32) * M.tensor(2.0, dtype=M.float64), None),
    ("f32_sum", lambda M: M.tensor([1.0, 2.0], dtype=M.float32).sum(), None),
    ("i32_sum", lambda M: M.tensor([1, 2], dtype=M.int32).sum(), None),
    ("f32*f64_0d", lambda M: M.tensor([1.0, 2.0], dtype=M.float32) * M.tensor(2.0, dtype=M.float64), _ZERO_D),
    ("f32**f64_0d", lambda M: M.tensor([1.0, 2.0], dtype=M.float32) ** M.tensor(2.0, dtype=M.float64), _ZERO_D),
    ("f32+i64", lambda M: M.tensor([1.0, 2.0], dtype=M.float32) + M.tensor([1, 2]), _INT_FLOAT),
    ("i64_0d*f32", lambda M: M.tensor(2) * M.tensor([1.0, 2.0], dtype=M.float32), _INT_FLOAT),
    ("i64*float", lambda M: M.tensor([1, 2]) * 2.5, _INT_FLOAT),
    ("i64/i64", lambda M: M.tensor([1, 2]) / M.tensor([2, 2]), _INT_FLOAT),
    ("exp(i64)", lambda M: M.exp(M.tensor([1, 2])), _INT_FLOAT),
]


@pytest.mark.parametrize("fn", [pytest.param(f, id=i, marks=[_xfail(r)] if r else []) for i, f, r in PROMOTION])
def test_promotion(fn):
    fo, to = fn(fg), fn(TT)
    assert _dt(fo) == _dt(to)
    np.testing.assert_allclose(as_numpy(fo), as_numpy(to), rtol=1e-6)
