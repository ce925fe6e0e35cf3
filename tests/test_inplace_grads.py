"""ReLU's rule writes into the incoming gradient only when the backward walk owns that buffer.

Every test compares with a referee computed in the same run: the out-of-place rule
``where(x > 0, g, 0)`` (the in-place one is switched off), or the gradient the user passed in.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

import flowgrad as fg
from flowgrad.core.ops import REGISTRY

RELU, GETITEM = REGISTRY["relu"], REGISTRY["getitem"]

RNG = np.random.default_rng(0)


@contextlib.contextmanager
def out_of_place() -> Iterator[None]:
    rule, RELU.vjp_in_place = RELU.vjp_in_place, None
    try:
        yield
    finally:
        RELU.vjp_in_place = rule


def grads(fn, *arrays: np.ndarray) -> list:
    xs = [fg.tensor(a, requires_grad=True) for a in arrays]
    fn(*xs).backward()
    return [x.grad.numpy().copy() for x in xs]


def both(fn, *arrays: np.ndarray) -> None:
    fast = grads(fn, *arrays)
    with out_of_place():
        slow = grads(fn, *arrays)
    for a, b in zip(fast, slow):
        np.testing.assert_array_equal(a, b)


def test_the_inplace_rule_runs_in_a_plain_chain() -> None:
    calls = []
    rule = RELU.vjp_in_place
    RELU.vjp_in_place = lambda *a: calls.append(1) or rule(*a)
    try:
        x = fg.tensor(RNG.standard_normal((4, 5)), requires_grad=True)
        (fg.relu(x * 2) ** 2).sum().backward()
    finally:
        RELU.vjp_in_place = rule
    assert calls == [1]
    np.testing.assert_array_equal(x.grad.numpy(), np.where(x.numpy() > 0, 8 * x.numpy(), 0))


def test_shared_and_branching_gradients_match_the_out_of_place_rule() -> None:
    a, b = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 2))
    both(lambda x: (fg.relu(x) * 3).sum() + (fg.relu(x) ** 2).sum(), a)  # two relus of one input
    both(lambda x: (fg.relu(x) + fg.relu(x)).sum(), a)  # add passes one g to both
    both(lambda x: (fg.relu(fg.relu(x) * 2) * x).sum(), a)  # a relu output used twice
    both(lambda x, w: fg.relu(fg.relu(x @ w) @ w.T).sum(), a, b)
    both(lambda x: fg.stack([fg.relu(x), fg.relu(-x)]).sum(), a)
    both(lambda x: fg.relu(x).sum(), a)  # the seed's broadcast view: not owned
    both(lambda x: (lambda r: (r * r).sum() + (r * 5).mean())(fg.relu(x * 1.5)), a)


def test_a_gradient_passed_in_is_never_written() -> None:
    x = fg.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    seed = RNG.standard_normal((3, 4))
    kept = seed.copy()
    fg.relu(x).backward(gradient=seed)
    (fg.relu(x) + 1).backward(gradient=seed)  # add hands the seed on unchanged
    np.testing.assert_array_equal(seed, kept)
    np.testing.assert_array_equal(x.grad.numpy(), 2 * np.where(x.numpy() > 0, kept, 0))


def test_retained_and_requested_gradients_are_not_masked_afterwards() -> None:
    x = fg.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    h = x * 2
    h.retain_grad()
    r = fg.relu(h)
    (r * r).sum().backward()
    np.testing.assert_array_equal(h.grad.numpy(), np.where(h.numpy() > 0, 2 * r.numpy(), 0))
    x2 = fg.tensor(x.numpy(), requires_grad=True)
    mid = x2 * 6
    (gm,) = fg.autograd.grad((fg.relu(mid) ** 2).sum(), [mid])
    np.testing.assert_array_equal(gm.numpy(), np.where(mid.numpy() > 0, 2 * mid.numpy(), 0))


def test_nan_inputs_and_gradients_keep_the_out_of_place_digits() -> None:
    a = np.array([[np.nan, -1.0, 2.0, 0.0]])
    both(lambda x: (fg.relu(x) * 2).sum(), a)


def test_scalars() -> None:
    both(lambda x: fg.relu(x * 2) * 3, np.array(1.5))
    both(lambda x: fg.relu(x * 2) * 3, np.array(-1.5))


def test_float32_and_second_derivatives() -> None:
    a = RNG.standard_normal((3, 4)).astype(np.float32)
    both(lambda x: (fg.relu(x) ** 2).sum(), a)
    x = fg.tensor(RNG.standard_normal((5,)), requires_grad=True)
    (g,) = fg.autograd.grad((fg.relu(x) ** 3).sum(), x, create_graph=True)
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(x.numpy() > 0, 6 * x.numpy(), 0), rtol=1e-12)


def test_slices_add_into_one_buffer_with_the_digits_of_scatter_and_add() -> None:
    calls = []
    rule = GETITEM.vjp_add_into
    GETITEM.vjp_add_into = lambda *a, **k: calls.append(1) or rule(*a, **k)
    a = RNG.standard_normal((6, 3, 4))
    try:
        fast = grads(lambda x: sum((x[t] * (t + 1)) ** 2 for t in range(6)).sum() + (x[1:3] * x[2:4]).sum(), a)
        mask = a[0] > 0
        fast += grads(lambda x: (x[0][mask] * 2).sum() + (x[0, :, 1] ** 3).sum() + x[0].sum(), a)
        fast += grads(lambda x: x[np.array([0, 0, 1])].sum() + x[0].sum(), a)  # repeated: never in place
    finally:
        GETITEM.vjp_add_into = rule
    assert calls
    saved, GETITEM.vjp_add_into = GETITEM.vjp_add_into, None
    try:
        slow = grads(lambda x: sum((x[t] * (t + 1)) ** 2 for t in range(6)).sum() + (x[1:3] * x[2:4]).sum(), a)
        slow += grads(lambda x: (x[0][mask] * 2).sum() + (x[0, :, 1] ** 3).sum() + x[0].sum(), a)
        slow += grads(lambda x: x[np.array([0, 0, 1])].sum() + x[0].sum(), a)
    finally:
        GETITEM.vjp_add_into = saved
    for f, s in zip(fast, slow):
        np.testing.assert_array_equal(f, s)
    # the upstream gradient a slice received is not changed by the buffer it went into
    x = fg.tensor(a, requires_grad=True)
    y = x[0] * 1.0
    y.retain_grad()
    (x[0] + x[0] + y).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), np.ones((3, 4)))
    np.testing.assert_array_equal(x.grad.numpy()[0], np.full((3, 4), 3.0))
