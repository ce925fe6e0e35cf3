"""Where torch 2.13 itself is wrong, so the random programs steer clear (see specs.py).

Each quirk computes one quantity three ways: torch's fused function, torch differentiating the
same formula written out with elementary ops, and flowgrad. flowgrad must match the written-out
formula; torch's fused function does not (a strict xfail: when torch fixes it, the xfail fails,
and the generator's workaround in specs.py can go).
"""

from __future__ import annotations

import numpy as np
import pytest

import flowgrad as fg
import flowgrad.nn.functional as FF

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.numeric  # rounding-dependent: run again on other kernels by make test
TF = torch.nn.functional


def _grads(lib, loss, xs, create_graph=False):
    return lib.autograd.grad(loss, xs, create_graph=create_graph, allow_unused=True)


def _sides():
    """(lib, functional, tensor maker, constant maker) for torch and flowgrad."""
    return {
        "torch": (torch, TF, lambda a: torch.tensor(a, requires_grad=True), lambda a: torch.from_numpy(a.copy())),
        "flowgrad": (fg, FF, lambda a: fg.tensor(a, requires_grad=True), lambda a: fg.from_numpy(a.copy())),
    }


def batch_norm_transposed_input(way):
    """Input gradient of batch_norm (eval) on a (4, 2, 1, 1) tensor transposed to (1, 2, 1, 4)."""
    RNG = np.random.default_rng(0)  # the same numbers for each way
    x, w = RNG.standard_normal((4, 2, 1, 1)), RNG.standard_normal((1, 2, 1, 4))
    rm, rv = RNG.standard_normal(2), RNG.uniform(0.5, 2.0, 2)
    lib, F, leaf, c = _sides()["flowgrad" if way == "flowgrad" else "torch"]
    X = leaf(x)
    h = X.transpose(3, 0)
    if way == "formula":
        out = (h - c(rm).reshape(1, -1, 1, 1)) / lib.sqrt(c(rv).reshape(1, -1, 1, 1) + 1e-5)
    else:
        out = F.batch_norm(h, c(rm), c(rv), None, None, False, 0.1, 1e-5)
    return _grads(lib, (out * c(w)).sum(), [X])


def batch_norm_double_backward_after_einsum(way):
    """Second derivative through batch_norm (eval, with weight) followed by an einsum."""
    RNG = np.random.default_rng(0)  # the same numbers for each way
    x, W, wt = RNG.standard_normal((1, 4, 1, 4)), RNG.standard_normal((3, 4, 1, 4, 2, 1)), RNG.uniform(0.5, 2, 4)
    rm, rv = RNG.standard_normal(4), RNG.uniform(0.5, 2.0, 4)
    vs = [RNG.standard_normal(a.shape) for a in (x, wt, W)]
    lib, F, leaf, c = _sides()["flowgrad" if way == "flowgrad" else "torch"]
    xs = [leaf(x), leaf(wt), leaf(W)]
    if way == "formula":
        b = (
            (xs[0] - c(rm).reshape(1, -1, 1, 1))
            / lib.sqrt(c(rv).reshape(1, -1, 1, 1) + 1e-3)
            * xs[1].reshape(1, -1, 1, 1)
        )
    else:
        b = F.batch_norm(xs[0], c(rm), c(rv), xs[1], None, False, 0.5, 1e-3)
    gs = _grads(lib, lib.einsum("dcba,ecbafd->", b, xs[2]), xs, create_graph=True)
    return _grads(lib, sum((g * c(v)).sum() for g, v in zip(gs, vs)), xs)


def binary_cross_entropy_double_backward(way):
    """Second derivatives of binary_cross_entropy(sigmoid(x), sigmoid(t)) in float64."""
    RNG = np.random.default_rng(0)  # the same numbers for each way
    x, t = np.array([-6.0, -2.5, 0.3, 2.5, 6.0]), RNG.standard_normal(5)
    vs = [RNG.standard_normal(5) for _ in range(2)]
    lib, F, leaf, c = _sides()["flowgrad" if way == "flowgrad" else "torch"]
    xs = [leaf(x), leaf(t)]
    p, q = lib.sigmoid(xs[0]), lib.sigmoid(xs[1])
    if way == "formula":
        loss = -(q * lib.log(p) + (1 - q) * lib.log(1 - p)).mean()
    else:
        loss = F.binary_cross_entropy(p, q)
    gs = _grads(lib, loss, xs, create_graph=True)
    return _grads(lib, sum((g * c(v)).sum() for g, v in zip(gs, vs)), xs)


QUIRKS = {
    "batch_norm_transposed_input": (batch_norm_transposed_input, 1e-12),
    "batch_norm_double_backward_after_einsum": (batch_norm_double_backward_after_einsum, 1e-12),
    "binary_cross_entropy_double_backward": (binary_cross_entropy_double_backward, 1e-12),
}


def _np(t):
    if t is None:
        return None
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.numpy()


def _close(a, b, rtol):
    return all((x is None and y is None) or np.allclose(_np(x), _np(y), rtol=rtol, atol=rtol) for x, y in zip(a, b))


@pytest.mark.parametrize("name", sorted(QUIRKS))
def test_flowgrad_matches_the_formula(name):
    fn, rtol = QUIRKS[name]
    assert _close(fn("flowgrad"), fn("formula"), rtol)


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason="torch 2.13")) for n in sorted(QUIRKS)]
)
def test_torch_fused_matches_the_formula(name):
    fn, rtol = QUIRKS[name]
    assert _close(fn("torch"), fn("formula"), rtol)


@pytest.mark.parametrize("norm", ["layer_norm", "batch_norm"])
def test_torch_norm_double_backward_without_weight_raises(norm):
    # specs.py: programs with layer_norm or batch_norm without a weight skip second derivatives
    x = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    b = torch.randn(2, dtype=torch.float64, requires_grad=True)
    if norm == "layer_norm":
        y = TF.layer_norm(x, (2,), None, b)
    else:
        y = TF.batch_norm(x, torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64), None, b, True)
    gx, gb = torch.autograd.grad((y * torch.randn(3, 2, dtype=torch.float64)).sum(), [x, b], create_graph=True)
    with pytest.raises(RuntimeError, match="Expected a proper Tensor but got None"):
        torch.autograd.grad((gx * torch.randn(3, 2, dtype=torch.float64)).sum() + gb.sum(), [x, b], allow_unused=True)
