"""flowgrad against PyTorch: values and gradients of the PyTorch-style API.

Most cases are one function ``fn(M, *xs)`` written against a module ``M`` and
run twice, with ``M = fg`` and with ``M = torch`` (``softplus``/``leaky_relu``
taken from ``torch.nn.functional``), on the same data. Both then run backward
through ``(out * w).sum()`` for a fixed random ``w`` and every input's ``.grad``
is compared.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

import flowgrad as fg
import flowgrad.numpy as fnp

pytestmark = pytest.mark.numeric  # rounding-dependent: run again on other kernels by make test

torch = pytest.importorskip("torch")
F = torch.nn.functional


class _Torch:
    """``torch`` under flowgrad's top-level names."""

    softplus = staticmethod(F.softplus)
    leaky_relu = staticmethod(F.leaky_relu)

    def __getattr__(self, name):
        return getattr(torch, name)


TT = _Torch()
DTYPES = {"float64": (fg.float64, torch.float64, 1e-9, 1e-12), "float32": (fg.float32, torch.float32, 1e-4, 1e-5)}
KINDS = {
    "n": lambda r, s: r.standard_normal(s),  # normal
    "p": lambda r, s: r.uniform(0.5, 2.0, s),  # positive
    "a": lambda r, s: r.choice([-1.0, 1.0], s) * r.uniform(0.3, 2.0, s),  # away from zero
    "u": lambda r, s: r.uniform(-0.9, 0.9, s),  # inside (-1, 1)
    "w": lambda r, s: 15.0 * r.standard_normal(s),  # wide: past softplus's threshold, big logits
}


def _xfail(reason):
    return pytest.mark.xfail(strict=True, reason=reason)


def arrays(spec, seed=0):
    """``"n3,4 p4 a"`` -> float64 arrays of those kinds and shapes (``a`` alone: 0-d)."""
    rng = np.random.default_rng(seed)
    return [np.asarray(KINDS[t[0]](rng, tuple(int(s) for s in t[1:].split(",") if s)), float) for t in spec.split()]


def leaves(arrs, dtype):
    fdt, tdt = DTYPES[dtype][:2]
    fx = [fg.tensor(a, dtype=fdt, requires_grad=True) for a in arrs]
    return fx, [torch.tensor(a, dtype=tdt, requires_grad=True) for a in arrs]


def _np(t):
    if isinstance(t, torch.Tensor):
        return t.detach().numpy()
    return t.numpy() if isinstance(t, fg.Tensor) else np.asarray(t)


def assert_same(a, b, rtol, atol, what="", scaled=False):
    an, bn = _np(a), _np(b)
    assert an.shape == bn.shape, f"{what}: shape {an.shape} != torch {bn.shape}"
    assert an.dtype == bn.dtype, f"{what}: dtype {an.dtype} != torch {bn.dtype}"
    if scaled:  # long compositions: absolute error relative to the size of the numbers
        atol = atol * max(1.0, float(np.abs(bn).max(initial=0.0)))
    np.testing.assert_allclose(an, bn, rtol=rtol, atol=atol, err_msg=what)


def _flat(r):
    return list(r) if isinstance(r, (tuple, list)) else [r]


def compare(fo, to, fx, tx, rtol, atol, scaled=False, seed=1):
    """Compare outputs, then backward ``sum((out * w).sum())`` on both sides and compare every ``.grad``."""
    fo, to = _flat(fo), _flat(to)
    assert len(fo) == len(to)
    rng = np.random.default_rng(seed)
    floss, tloss = [], []
    for i, (a, b) in enumerate(zip(fo, to)):
        assert_same(a, b, rtol, atol, f"output {i}", scaled)
        if b.dtype.is_floating_point and b.requires_grad:
            w = rng.standard_normal(tuple(b.shape))
            floss.append((a * fg.tensor(w, dtype=a.dtype)).sum())
            tloss.append((b * torch.tensor(w, dtype=b.dtype)).sum())
    assert floss, "nothing to differentiate"
    sum(floss).backward()
    sum(tloss).backward()
    for i, (a, b) in enumerate(zip(fx, tx)):
        ga = np.zeros(a.shape, a.dtype) if a.grad is None else a.grad
        gb = torch.zeros_like(b) if b.grad is None else b.grad
        assert_same(ga, gb, rtol, atol, f"grad of input {i}", scaled)


# ----------------------------------------------------------------------------- 1. per-op
MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])
CASES = [
    # elementwise, with broadcasting and Python scalars on either side
    ("add", lambda M, x, y: x + y, "n2,3,4 n3,1"),
    ("add_fn_alpha", lambda M, x, y: M.add(x, y).add(y, alpha=2), "n3,4 n4"),
    ("add_scalar", lambda M, x: (x + 1.5) * (2.5 + x), "n3,4"),
    ("sub", lambda M, x, y: x - y - M.sub(y, x) + (1.0 - x), "n3,1 n1,4"),
    ("mul", lambda M, x, y: x * y * M.mul(x, 3.0), "n3,1 n1,4"),
    ("div", lambda M, x, y: x / y + M.div(y, x) + 2.0 / y, "a3,4 a4"),
    ("pow_tensor", lambda M, x, y: x**y + M.pow(x, y), "p3,4 n3,4"),
    ("pow_scalar", lambda M, x: x**3 + x.pow(2) + M.pow(x, -1.5) ** 0.5, "p2,5"),
    ("rpow", lambda M, x: 2.0**x + 0.5**x, "n2,5"),
    ("neg", lambda M, x: -x + M.neg(x) * 2, "n4"),
    ("exp", lambda M, x: M.exp(x) + x.exp(), "n3,4"),
    ("log", lambda M, x: M.log(x) + x.log(), "p3,4"),
    ("log1p", lambda M, x: M.log1p(x), "u3,4"),
    ("sqrt", lambda M, x: M.sqrt(x) + x.sqrt(), "p3,4"),
    ("abs", lambda M, x: M.abs(x) + abs(x), "a3,4"),
    ("sin_cos", lambda M, x: M.sin(x) * M.cos(x) + x.sin() - x.cos(), "n3,4"),
    ("tanh", lambda M, x: M.tanh(x) + x.tanh(), "w3,4"),
    ("sigmoid", lambda M, x: M.sigmoid(x) + x.sigmoid(), "w3,4"),
    ("relu", lambda M, x: M.relu(x) + x.relu(), "a3,4"),
    ("leaky_relu", lambda M, x: M.leaky_relu(x) + M.leaky_relu(x, 0.2), "a3,4"),
    ("softplus", lambda M, x: M.softplus(x), "w4,5"),
    ("softplus_beta", lambda M, x: M.softplus(x, beta=2.0) + M.softplus(x, 0.5, 5.0), "w4,5"),
    ("clamp", lambda M, x: M.clamp(x, -0.5, 0.5) + x.clamp(min=0.1) + x.clamp(max=-0.2), "n4,5"),
    ("maximum_minimum", lambda M, x, y: M.maximum(x, y) + M.minimum(x, y) * 2, "n3,4 n4"),
    ("max_min_pair", lambda M, x, y: M.max(x, y) - M.min(x, y), "n3,4 n3,4"),
    ("where", lambda M, x, y: M.where(x > 0, x, y) + M.where(y < 0.3, 2.0 * y, x * x), "n3,4 n4"),
    ("where_scalar", lambda M, x: M.where(x > 0, x, 0.0), "n3,4"),
    ("where_mask_tensor", lambda M, x, y: M.where(M.tensor(MASK), x, y), "n3,4 n3,1"),
    # reductions, dim / keepdim / tuples of dims
    ("sum", lambda M, x: (x.sum(), M.sum(x, 1), x.sum(-1, keepdim=True), x.sum((0, 2))), "n2,3,4"),
    ("reduce_0d", lambda M, x: (x.sum(), x.mean(), x.max(), x.softmax(0), x.log_softmax(-1)), "n"),
    (
        "reduce_0d_dim",
        lambda M, x: (x.sum(0), x.mean(-1), x.prod(0), x.logsumexp(0), x.max(0).values, x.squeeze(0)),
        "n",  # a 0-d tensor has one wrappable dim in torch, and in flowgrad's PyTorch-style API
    ),
    ("mean", lambda M, x: (x.mean(), M.mean(x, 0), x.mean(1, keepdim=True), x.mean((0, 1))), "n2,3,4"),
    ("var", lambda M, x: (x.var(), M.var(x, 1), x.var(0, keepdim=True), x.var(2, correction=0)), "n2,3,4"),
    ("var_dims", lambda M, x: x.var((0, 2)), "n2,3,4"),
    ("std", lambda M, x: (x.std(), M.std(x, 1), x.std(-1, keepdim=True), x.std(0, correction=0)), "n2,3,4"),
    ("max_all", lambda M, x: (x.max(), M.max(x), x.min(), M.min(x)), "n3,4"),
    ("max_dim", lambda M, x: (*x.max(1), *M.max(x, 0, keepdim=True)), "n3,4,2"),
    ("min_dim", lambda M, x: (*x.min(-1), *M.min(x, 1, keepdim=True)), "n3,4,2"),
    ("max_dim_values", lambda M, x: x.max(dim=1).values + M.min(x, 1).values, "n3,4"),
    ("amax_amin", lambda M, x: (M.amax(x, (0, 2)), x.amin(1, keepdim=True)), "n2,3,4"),
    ("prod", lambda M, x: (x.prod(), M.prod(x, 1), x.prod(0, keepdim=True)), "a3,4"),
    ("logsumexp", lambda M, x: (M.logsumexp(x, 1), x.logsumexp(0, keepdim=True), x.logsumexp((0, 1))), "w3,4"),
    ("softmax", lambda M, x: (M.softmax(x, -1), x.softmax(0), M.softmax(x, dim=1)), "w3,4"),
    ("log_softmax", lambda M, x: (M.log_softmax(x, 1), x.log_softmax(0)), "w3,4"),
    # shapes
    ("reshape_view", lambda M, x: (x.reshape(4, 6), x.reshape((2, -1)), x.view(-1), M.reshape(x, (6, 4))), "n2,3,4"),
    ("flatten", lambda M, x: (x.flatten(), M.flatten(x, 1), x.flatten(0, 1)), "n2,3,4"),
    ("squeeze", lambda M, x: (x.squeeze(), x.squeeze(1), x.squeeze(0), M.squeeze(x, -1)), "n3,1,4,1"),
    ("unsqueeze", lambda M, x: (x.unsqueeze(0), M.unsqueeze(x, -1), x.unsqueeze(1)), "n3,4"),
    ("transpose", lambda M, x: (x.transpose(0, 2), M.transpose(x, 1, -1)), "n2,3,4"),
    ("t_T_mT", lambda M, x, y: (x.t(), x.T, y.mT), "n3,4 n2,3,4"),
    ("permute", lambda M, x: (x.permute(2, 0, 1), M.permute(x, (1, 2, 0))), "n2,3,4"),
    ("expand", lambda M, x: (x.expand(3, -1, 4), x.expand(2, 3, 1, 4), M.broadcast_to(x, (3, 1, 4))), "n3,1,4"),
    ("expand_as", lambda M, x, y: x.expand_as(y) * y, "n1,4 n3,4"),
    ("cat", lambda M, x, y: (M.cat([x, y], 1), M.cat((x, x * 2), dim=-1), M.cat([x, y], dim=1)), "n3,2 n3,4"),
    ("stack", lambda M, x, y: (M.stack([x, y]), M.stack((x, y * 2), dim=-1), M.stack([x, y], 1)), "n3,4 n3,4"),
    ("split", lambda M, x: (*x.split(2, 1), *M.split(x, [1, 3, 1], dim=1)), "n3,5"),
    ("chunk", lambda M, x: (*x.chunk(3, 1), *M.chunk(x, 4, 0)), "n6,5"),
    ("index_basic", lambda M, x: (x[1], x[:, 1:3], x[..., ::2], x[None, -1, :, None], x[1:, 2]), "n3,4,2"),
    ("index_int_list_repeat", lambda M, x: (x[[0, 0, 2]], x[:, [1, 1, 0, 3]]), "n3,4"),
    ("index_tensor_repeat", lambda M, x: (x[M.tensor([2, 0, 2, 2])], x[M.tensor([[0, 1], [1, 1]])]), "n3,4"),
    ("index_pairs", lambda M, x: (x[[0, 1, 1], [2, 2, 3]], x[[0, 1], :, [1, 1]], x[1:, [0, 0]]), "n3,4,2"),
    ("index_bool", lambda M, x: (x[M.tensor(MASK)], x[x > 0], x[:, M.tensor([True, False, True, True])]), "n3,4"),
    ("index_neg_adv", lambda M, x: x[..., [-1, 0, -1]], "n2,3,4"),
    # matmul / einsum / outer
    ("matmul_2d", lambda M, x, y: (x @ y, M.matmul(x, y), M.mm(x, y), x.mm(y)), "n3,4 n4,2"),
    ("matmul_vec", lambda M, x, y, v: (v @ v, x @ v, v @ y, M.matmul(v, y)), "n3,4 n4,2 n4"),
    ("matmul_batched", lambda M, x, y: x @ y, "n2,1,3,4 n5,4,2"),
    ("matmul_bcast_vec", lambda M, x, v: (x @ v, v @ x.transpose(-1, -2)), "n2,3,4 n4"),
    ("matmul_2d_3d", lambda M, x, y: M.matmul(x, y), "n3,4 n2,4,5"),
    ("einsum_mm", lambda M, x, y: M.einsum("ij,jk->ik", x, y), "n3,4 n4,2"),
    ("einsum_batch", lambda M, x, y: M.einsum("bij,bjk->bik", x, y), "n2,3,4 n2,4,5"),
    ("einsum_misc", lambda M, x: (M.einsum("ij->", x), M.einsum("ij->ji", x), M.einsum("ij->j", x)), "n3,3"),
    (
        "einsum_diag",
        lambda M, x: (M.einsum("ii->i", x), M.einsum("ii", x)),
        "n3,3",
        "flowgrad's einsum raises NotImplementedError (no gradient for repeated axes in 'ii'); torch supports it",
    ),
    ("einsum_outer_dot", lambda M, x, y: (M.einsum("i,j->ij", x, y), M.einsum("i,i->", x, x)), "n3 n4"),
    (
        "einsum_ellipsis",
        lambda M, x, y: M.einsum("...ij,jk->...ik", x, y),
        "n2,3,4 n4,2",
    ),
    ("outer", lambda M, x, y: (M.outer(x, y), x.outer(y)), "n3 n4"),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    ("fn", "spec"), [pytest.param(c[1], c[2], id=c[0], marks=[_xfail(r) for r in c[3:]]) for c in CASES]
)
def test_op(fn, spec, dtype):
    fx, tx = leaves(arrays(spec), dtype)
    compare(fn(fg, *fx), fn(TT, *tx), fx, tx, *DTYPES[dtype][2:])


# ----------------------------------------------------------------------------- 2. random programs
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


# ----------------------------------------------------------------------------- 3. second derivatives
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


# ----------------------------------------------------------------------------- 4. dtype rules
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
    np.testing.assert_allclose(_np(fo), _np(to), rtol=1e-6)
