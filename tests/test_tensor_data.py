"""``Tensor.data`` as PyTorch has it: a tensor sharing memory, outside autograd, so the
hand-written updates of old tutorials (``w.data -= lr * w.grad.data``, ``p.data.add_``,
``out.data.max(1)``) run unchanged, checked against torch where it is installed."""

import numpy as np
import pytest

import flowgrad as fg


def test_data_is_a_tensor_sharing_memory_outside_autograd():
    w = fg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    d = w.data
    assert isinstance(d, fg.Tensor) and not d.requires_grad and d.grad_fn is None and d.is_leaf
    assert np.shares_memory(d.numpy(), w.numpy())
    d[0] = 10.0  # writes through
    assert w.tolist() == [10.0, 2.0, 3.0] and w.requires_grad and w.is_leaf


def test_the_hand_written_sgd_step_of_old_tutorials():
    w = fg.tensor([1.0, -2.0], requires_grad=True)
    (w * w).sum().backward()
    w.data -= 0.1 * w.grad.data
    assert w.tolist() == pytest.approx([0.8, -1.6]) and w.requires_grad and w.is_leaf
    w.grad.data.zero_()
    assert w.grad.tolist() == [0.0, 0.0]
    w.data.add_(fg.ones(2), alpha=0.5)
    assert w.tolist() == pytest.approx([1.3, -1.1])


def test_in_place_changes_through_data_are_not_seen_by_autograd():
    # PyTorch: no version bump, so backward runs with the changed value and raises nothing.
    w = fg.tensor([2.0, 3.0], requires_grad=True)
    y = (w * w).sum()  # saves w for the backward
    w.data.mul_(10)
    y.backward()
    assert w.grad.tolist() == [40.0, 60.0]  # 2 * w, read at backward time


def test_data_reads_as_the_tensor_it_views():
    out = fg.tensor([[0.1, 0.7, 0.2], [0.9, 0.05, 0.05]], requires_grad=True)
    values, indices = out.data.max(1)
    assert indices.tolist() == [1, 0] and not values.requires_grad
    assert out.data.numpy() is not None and float(out.data.norm()) == pytest.approx(float(out.detach().norm()))
    assert out.data.shape == (2, 3) and out.data.dtype == out.dtype


def test_assigning_data_swaps_the_values_and_checks_the_dtype():
    w = fg.tensor([1.0, 2.0], requires_grad=True)
    w.data = fg.zeros(3)  # PyTorch allows another shape, too
    assert w.shape == (3,) and w.tolist() == [0.0, 0.0, 0.0] and w.requires_grad
    w.data = np.ones(2, dtype=np.float32)
    assert w.tolist() == [1.0, 1.0]
    with pytest.raises(fg.DTypeError, match="data"):
        w.data = fg.tensor([1, 2])  # an integer tensor cannot require grad


def test_the_same_as_torch():
    torch = pytest.importorskip("torch")
    for lib in (fg, torch):
        w = lib.tensor([1.5, -0.5], requires_grad=True)
        loss = (w * w * w).sum()
        loss.backward()
        w.data -= 0.01 * w.grad.data
        w.grad.data.zero_()
        y = (w * 2).sum()
        w.data.mul_(3)
        y.backward()
        if lib is fg:
            ours = (w.detach().numpy().copy(), w.grad.numpy().copy())
        else:
            theirs = (w.detach().numpy(), w.grad.numpy())
    # float32, and the backward of w*w*w may sum its products in another order than torch's
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6)
