"""The backward engine: accumulation, retain/create graph, depth, freeing, modes, anomalies."""

import gc
import threading
import weakref

import numpy as np
import pytest

import flowgrad as fg


def test_backward_accumulates_into_leaves():
    w = fg.tensor([1.0, 2.0], requires_grad=True)
    (w * 3).sum().backward()
    (w * 3).sum().backward()
    assert w.grad.tolist() == [6.0, 6.0]


def test_backward_twice_with_retained_graph_doubles_exactly():
    fg.manual_seed(0)
    w = fg.randn(4, 3, dtype=fg.float64, requires_grad=True)
    x = fg.randn(5, 4, dtype=fg.float64)
    loss = fg.tanh(x @ w).pow(2).mean()
    loss.backward(retain_graph=True)
    first = w.grad.numpy().copy()
    loss.backward()
    np.testing.assert_array_equal(w.grad.numpy(), 2 * first)


def test_second_backward_without_retain_graph_is_a_clear_error():
    w = fg.ones(2, requires_grad=True)
    loss = (w * w).sum()
    loss.backward()
    with pytest.raises(fg.FlowgradError, match="retain_graph=True"):
        loss.backward()


def test_non_scalar_backward_needs_gradient():
    w = fg.ones(3, requires_grad=True)
    y = w * 2
    with pytest.raises(fg.ShapeError, match="scalar"):
        y.backward()
    y.backward(fg.tensor([1.0, 2.0, 3.0]))
    assert w.grad.tolist() == [2.0, 4.0, 6.0]
    with pytest.raises(fg.ShapeError, match="gradient has shape"):
        (w * 2).backward(np.ones(2))


def test_backward_on_tensor_without_graph_is_an_error():
    with pytest.raises(fg.FlowgradError, match="does not require grad"):
        fg.ones(1).backward()


def test_shared_subexpressions_and_aliasing_grads_stay_separate():
    a = fg.tensor([1.0, 2.0], requires_grad=True)
    b = fg.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()  # both receive the same upstream array
    a.grad.zero_()
    assert b.grad.tolist() == [1.0, 1.0]
    x = fg.tensor([2.0], requires_grad=True)
    y = x * x
    z = y + y * x  # y used twice: 2x^3 ... d/dx (x^2 + x^3) = 2x + 3x^2
    z.sum().backward()
    assert x.grad.tolist() == [16.0]


def test_gradients_have_input_shape_and_dtype_under_broadcasting():
    w = fg.ones(1, 3, dtype=fg.float32, requires_grad=True)
    b = fg.ones(3, dtype=fg.float32, requires_grad=True)
    s = fg.tensor(2.0, requires_grad=True)
    x = np.ones((4, 1, 3), dtype=np.float64)  # a float64 constant upcasts the result...
    out = (x * w + b) * s
    assert out.dtype == fg.float64
    out.sum().backward()
    for t, want in ((w, 8.0), (b, 8.0), (s, 24.0)):  # ...but gradients keep their input's dtype
        assert t.grad.dtype == fg.float32 and t.grad.shape == t.shape
        assert np.all(t.grad.numpy() == want)


def test_deep_graphs_do_not_recurse():
    # 100,000 ops deep (#7): backward walks without recursion, and a graph dropped without a
    # backward pass is freed without overflowing the C stack.
    x = fg.tensor(1.0, dtype=fg.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.00001
    y.backward()
    assert x.grad.item() == pytest.approx(1.00001**100_000)
    z = x
    for _ in range(100_000):
        z = z * 1.00001
    del z


def test_graph_is_freed_after_backward():
    x = fg.ones(3, requires_grad=True)
    h = x * 2
    ref = weakref.ref(h)
    loss = (h * h).sum()
    del h
    gc.collect()
    assert ref() is not None  # kept alive by the graph
    loss.backward()
    gc.collect()
    assert ref() is None  # the graph let go of it


def test_retain_grad_on_non_leaf():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    (h * h).sum().backward()
    assert h.grad.tolist() == [6.0, 12.0] and x.grad.tolist() == [18.0, 36.0]


def test_no_grad_builds_no_graph_and_enable_grad_inside():
    w = fg.ones(2, requires_grad=True)
    with fg.no_grad():
        y = w * 2
        assert not y.requires_grad and y.grad_fn is None
        assert not fg.is_grad_enabled()
        with fg.enable_grad():
            assert (w * 2).requires_grad
    assert fg.is_grad_enabled()

    @fg.no_grad()
    def f(t):
        return t * 2

    assert not f(w).requires_grad
    with fg.set_grad_enabled(False):
        assert not (w * 2).requires_grad
    assert fg.is_grad_enabled()


def test_grad_mode_is_thread_local():
    seen = {}

    def other():
        seen["other"] = fg.is_grad_enabled()

    with fg.no_grad():
        t = threading.Thread(target=other)
        t.start()
        t.join()
        assert not fg.is_grad_enabled()
    assert seen["other"] is True


def test_create_graph_gives_second_derivatives():
    x = fg.tensor([1.0, 2.0], dtype=fg.float64, requires_grad=True)
    y = (x**3).sum()
    y.backward(create_graph=True)
    gx = x.grad
    assert gx.requires_grad and gx.tolist() == [3.0, 12.0]
    (g2,) = fg.autograd.grad(gx.sum(), x)
    assert g2.tolist() == [6.0, 12.0]


def test_autograd_grad_leaves_dot_grad_alone():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    y = fg.tensor([3.0], requires_grad=True)
    (gx, gy) = fg.autograd.grad((x * y).sum(), [x, y])
    assert x.grad is None and y.grad is None
    assert gx.tolist() == [3.0, 3.0] and gy.tolist() == [3.0]
    z = fg.tensor([1.0], requires_grad=True)
    with pytest.raises(fg.FlowgradError, match="allow_unused"):
        fg.autograd.grad((x * 2).sum(), [z])
    assert fg.autograd.grad((x * 2).sum(), [z], allow_unused=True) == (None,)


def test_backward_inputs_restricts_accumulation():
    a = fg.tensor([1.0], requires_grad=True)
    b = fg.tensor([2.0], requires_grad=True)
    (a * b).sum().backward(inputs=[a])
    assert a.grad.tolist() == [2.0] and b.grad is None


def test_detect_anomaly_forward_and_backward():
    x = fg.tensor([-1.0, 1.0], requires_grad=True)
    with fg.detect_anomaly():
        with pytest.raises(
            fg.AnomalyError, match=r"sqrt produced nan in its forward pass \(called at .*test_engine.py"
        ):
            fg.sqrt(x)
        z = fg.tensor([0.0], requires_grad=True)
        y = fg.sqrt(z)  # forward fine (0), backward divides by zero
        with pytest.raises(fg.AnomalyError, match="sqrt produced inf in its backward pass"):
            y.sum().backward()
    assert not fg.is_anomaly_enabled()
    with np.errstate(invalid="ignore"):
        assert np.isnan(fg.sqrt(x.detach())[0].item())  # off by default: NaN flows through


def test_leaf_gradient_owns_a_plain_layout():
    # A broadcast gradient must become an ordinary C-ordered array (users reshape it in place);
    # a transposed one may stay Fortran-ordered, which copies without transposing.
    x = fg.tensor(np.ones((2, 3)), requires_grad=True)
    fg.sum(x, axis=0).sum().backward()
    assert x.grad.numpy().flags["C_CONTIGUOUS"] and x.grad.numpy().flags["OWNDATA"]
    w = fg.tensor(np.ones((3, 4)), requires_grad=True)
    (fg.tensor(np.ones((5, 3))) @ w).sum().backward()
    assert w.grad.shape == (3, 4)
    assert w.grad.numpy().flags["C_CONTIGUOUS"] or w.grad.numpy().flags["F_CONTIGUOUS"]
    gx = fg.grad(lambda t: fg.sum(t, axis=0).sum())(np.ones((2, 3)))
    assert np.asarray(gx).flags["C_CONTIGUOUS"]
