"""Regression tests for the flowgrad bugs the differential programs found (no torch needed)."""

from __future__ import annotations

import numpy as np
import pytest

import flowgrad as fg
import flowgrad.numpy as fnp


@pytest.mark.parametrize("axis", [0, -1])
def test_reducing_a_0d_tensor_over_axis_0(axis):
    # NumPy reduces a 0-d array over axis 0 or -1; flowgrad.numpy turned the axis into the
    # tuple (0,), which NumPy rejects, so it raised on tensors.
    x = fg.tensor(2.5, requires_grad=True)
    for fn in (fnp.sum, fnp.mean, fnp.max, fnp.prod):
        assert float(fn(x, axis=axis)) == 2.5
    assert fnp.sum(x, axis=axis, keepdims=True).shape == ()
    assert float(fnp.var(x, axis=axis)) == 0.0


@pytest.mark.parametrize("fn", [fg.softmax, fg.log_softmax])
def test_second_derivative_of_softmax_of_a_0d_tensor(fn):
    # Softmax's rule sums over its axis with keepdims; with create_graph that ran
    # flowgrad.numpy.sum(g, axis=0) on a 0-d tensor, which raised.
    x = fg.tensor(0.7, dtype=fg.float64, requires_grad=True)
    (g,) = fg.autograd.grad(fn(x, 0) * 3.0, [x], create_graph=True)
    (h,) = fg.autograd.grad(g, [x], allow_unused=True)
    assert float(g) == 0.0  # softmax of one number is 1, log_softmax 0: constant
    assert h is None or float(h) == 0.0


@pytest.mark.parametrize("fn", [fg.softmax, fg.log_softmax])
@pytest.mark.parametrize(("shape", "dim"), [((3, 1, 0), 2), ((3, 1, 0), 1), ((0, 4), 0), ((0, 4), -1)])
def test_softmax_of_an_empty_tensor(fn, shape, dim):
    # np.max has no identity for an empty axis, so softmax of an empty tensor raised
    # "zero-size array to reduction operation maximum"; torch returns it empty.
    x = fg.zeros(*shape, dtype=fg.float32, requires_grad=True)
    y = fn(x, dim)
    assert y.shape == shape and y.dtype == np.float32
    y.sum().backward()
    assert x.grad.shape == shape


@pytest.mark.parametrize("chunks", [1, 2, 3])
def test_chunk_of_an_empty_dim(chunks):
    # torch.chunk gives `chunks` empty pieces of a dim of length 0 (0 divides evenly);
    # flowgrad gave one.
    x = fg.zeros(0, 3, requires_grad=True)
    pieces = fg.chunk(x, chunks, 0)
    assert len(pieces) == chunks
    assert all(p.shape == (0, 3) for p in pieces)
    assert len(x.chunk(chunks, dim=1)) == min(chunks, 3)


def test_clamp_with_tensor_bounds_passes_them_their_gradient():
    # clip unwrapped tensor bounds, so a bound that requires grad silently got none; torch
    # gives it the gradient where it is the result (x < min, x > max; max wins if min > max).
    x = fg.tensor([-2.0, 0.0, 2.0, 0.5, 0.5], requires_grad=True)
    lo = fg.tensor([-1.0, -1.0, -1.0, 1.0, 0.7], requires_grad=True)
    hi = fg.tensor([1.0, 1.0, 1.0, 0.0, 0.2], requires_grad=True)
    y = fg.clamp(x, lo, hi)
    np.testing.assert_allclose(y.data, [-1.0, 0.0, 1.0, 0.0, 0.2])
    y.backward(fg.tensor([1.0, 2.0, 3.0, 4.0, 5.0]))
    # the numbers torch 2.13 gives
    assert x.grad.tolist() == [0.0, 2.0, 0.0, 0.0, 0.0]
    assert lo.grad.tolist() == [1.0, 0.0, 0.0, 0.0, 0.0]
    assert hi.grad.tolist() == [0.0, 0.0, 3.0, 4.0, 5.0]


def test_clamp_with_a_broadcast_bound_and_second_derivatives():
    x = fg.tensor([[-2.0, 0.0, 2.0], [3.0, -3.0, 0.5]], dtype=fg.float64, requires_grad=True)
    lo = fg.tensor([-1.0], dtype=fg.float64, requires_grad=True)
    (g,) = fg.autograd.grad((fg.clamp(x, min=lo) ** 2).sum(), [lo], create_graph=True)
    assert g.shape == (1,) and g.tolist() == [2 * (-1.0) * 2]  # two elements below -1
    (h,) = fg.autograd.grad(g.sum(), [lo])
    assert h.tolist() == [4.0]


@pytest.mark.parametrize(("x_shape", "out"), [((3, 2, 1, 0), 1), ((2, 3, 0), 4), ((0, 2, 3), 2)])
def test_linear_weight_gradient_with_batch_dimensions_and_empty_sizes(x_shape, out):
    # The weight rule folded batch dimensions with reshape(-1, in_features), which NumPy cannot
    # do when the array is empty (seed 14041 of `make verify`: x (3, 2, 1, 0), W (1, 0)).
    x = fg.zeros(*x_shape, dtype=fg.float64, requires_grad=True)
    w = fg.ones(out, x_shape[-1], dtype=fg.float64, requires_grad=True)
    b = fg.ones(out, dtype=fg.float64, requires_grad=True)
    fg.linear(x, w, b).sum().backward()
    assert w.grad.shape == w.shape and x.grad.shape == x.shape
    assert b.grad.tolist() == [float(np.prod(x_shape[:-1]))] * out
