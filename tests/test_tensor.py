"""Tensors: construction, dtypes, devices, attributes, conversion, printing, in-place rules."""

import numpy as np
import pytest

import flowgrad as fg


def test_default_dtypes_follow_pytorch():
    assert fg.tensor([1.0, 2.0]).dtype == fg.float32
    assert fg.tensor(3.5).dtype == fg.float32
    assert fg.tensor([1, 2]).dtype == fg.int64
    assert fg.tensor([True, False]).dtype == fg.bool
    assert fg.tensor(np.array([1.0])).dtype == fg.float64  # an ndarray keeps its dtype
    assert fg.tensor(np.float64(2.0)).dtype == fg.float64
    assert fg.zeros(2).dtype == fg.float32
    assert fg.arange(3).dtype == fg.int64 and fg.arange(0.0, 1.0, 0.5).dtype == fg.float32
    assert fg.float is fg.float32 and fg.double is fg.float64 and fg.long is fg.int64


def test_set_default_dtype():
    try:
        fg.set_default_dtype(fg.float64)
        assert fg.tensor([1.0]).dtype == fg.float64 and fg.randn(2).dtype == fg.float64
    finally:
        fg.set_default_dtype(fg.float32)
    with pytest.raises(fg.DTypeError):
        fg.set_default_dtype(fg.int64)


def test_no_silent_upcast_of_float32():
    x = fg.ones(3)
    for other in (2.0, 2, np.float64(2.0), np.array(2.0), np.float32(2)):
        for y in (x * other, other * x, x + other, x - other, other - x, x / other, x**other):
            assert y.dtype == fg.float32, (other, y.dtype)
    assert fg.exp(x).dtype == fg.float32 and fg.sigmoid(x).dtype == fg.float32
    assert fg.ones(3, dtype=fg.float64).dtype == fg.float64


def test_factories_take_dtype_requires_grad_device():
    fg.manual_seed(0)
    for make in (fg.zeros, fg.ones, fg.empty, fg.randn, fg.rand):
        t = make(10, 7, dtype=fg.float, requires_grad=True, device="cpu")
        assert t.shape == (10, 7) and t.dtype == fg.float32 and t.requires_grad and t.is_leaf
        assert make((2, 3)).shape == (2, 3)
    assert fg.full((2, 2), 7.0).data.tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert fg.eye(3, dtype=fg.float64).dtype == fg.float64
    assert fg.linspace(0, 1, 5).data.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    r = fg.randint(0, 10, (4, 5))
    assert r.dtype == fg.int64 and r.shape == (4, 5) and 0 <= r.data.min() and r.data.max() < 10
    assert fg.zeros_like(fg.ones(2, 3, dtype=fg.float64)).dtype == fg.float64
    assert fg.ones_like(np.zeros((2,), np.float32)).shape == (2,)


def test_manual_seed_reproduces():
    fg.manual_seed(123)
    a = fg.randn(5), fg.rand(3), fg.randint(0, 100, (4,))
    fg.manual_seed(123)
    b = fg.randn(5), fg.rand(3), fg.randint(0, 100, (4,))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.numpy(), y.numpy())


def test_requires_grad_only_for_floats():
    with pytest.raises(fg.DTypeError, match="only floating-point"):
        fg.tensor([1, 2], requires_grad=True)
    with pytest.raises(fg.DTypeError):
        fg.arange(3, requires_grad=True)


def test_devices():
    assert fg.device("cpu") == fg.device("cpu") and str(fg.device("cpu")) == "cpu"
    t = fg.ones(2, device=fg.device("cpu"))
    assert t.device == fg.device("cpu") and t.device == "cpu"
    assert t.to("cpu") is t and t.cpu() is t
    for bad in ("cuda", "cuda:0", "mps"):
        with pytest.raises(fg.FlowgradError, match="not available"):
            fg.ones(2, device=bad)
    with pytest.raises(fg.FlowgradError):
        t.cuda()
    with pytest.raises(fg.FlowgradError):
        t.to("cuda")


def test_attributes_and_conversion():
    t = fg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert t.shape == (2, 3) and t.ndim == 2 and t.dim() == 2 and t.numel() == 6
    assert t.size == 6 and t.size() == (2, 3) and t.size(1) == 3  # NumPy's and PyTorch's size
    assert t.T.shape == (3, 2) and len(t) == 2
    assert isinstance(t.numpy(), np.ndarray) and np.shares_memory(t.numpy(), t.data.numpy())
    assert t.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert t[1, 2].item() == 6.0 and isinstance(t[1, 2].item(), float)
    assert float(t[0, 0]) == 1.0 and int(t[1, 1]) == 5
    assert np.asarray(t).dtype == np.float32
    assert t.to(fg.float64).dtype == fg.float64 and t.double().dtype == fg.float64
    assert t.astype("float64").dtype == fg.float64 and t.long().dtype == fg.int64
    with pytest.raises(fg.ShapeError, match="one-element"):
        t.item()
    with pytest.raises(ValueError):
        bool(t)
    assert [row.shape for row in t] == [(3,), (3,)]


def test_detach_clone_and_from_numpy():
    a = np.zeros(3)
    t = fg.from_numpy(a)
    a[0] = 1.0
    assert t[0].item() == 1.0 and t.dtype == fg.float64
    w = fg.ones(2, requires_grad=True)
    d = w.detach()
    assert not d.requires_grad and d.numpy() is w.numpy()
    c = w.clone()
    assert c.requires_grad and c.grad_fn is not None and c.numpy() is not w.numpy()
    c.sum().backward()
    assert w.grad.tolist() == [1.0, 1.0]


def test_repr():
    assert repr(fg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(fg.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(fg.tensor([0.5], dtype=fg.float64)) == "tensor([0.5], dtype=fg.float64)"
    assert repr(fg.ones(1, requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert "grad_fn=<MulBackward>" in repr(fg.ones(1, requires_grad=True) * 2)
    assert f"{fg.tensor(1.5):.2f}" == "1.50"


def test_operators_with_scalars_arrays_and_both_sides():
    x = fg.tensor([1.0, 2.0, 4.0])
    a = np.array([2.0, 2.0, 2.0], dtype=np.float32)
    np.testing.assert_array_equal((x + 1).numpy(), [2, 3, 5])
    np.testing.assert_array_equal((1 - x).numpy(), [0, -1, -3])
    np.testing.assert_array_equal((2 / x).numpy(), [2, 1, 0.5])
    np.testing.assert_array_equal((x // 2).numpy(), [0, 1, 2])
    np.testing.assert_array_equal((x % 3).numpy(), [1, 2, 1])
    np.testing.assert_array_equal((2**x).numpy(), [2, 4, 16])
    np.testing.assert_array_equal((x * a).numpy(), [2, 4, 8])
    assert isinstance(a * x, fg.Tensor) and isinstance(a - x, fg.Tensor)  # NumPy defers
    np.testing.assert_array_equal((a - x).numpy(), [1, 0, -2])
    np.testing.assert_array_equal((-x).numpy(), [-1, -2, -4])
    m = fg.ones(2, 3)
    assert (m @ fg.ones(3, 4)).shape == (2, 4) and (np.ones((5, 2)) @ m).shape == (5, 3)
    assert m.mm(fg.ones(3, 1)).shape == (2, 1) and m.matmul(fg.ones(3)).shape == (2,)
    assert x.add(1).sub(1).mul(2).div(2).pow(1).neg().neg().tolist() == x.tolist()
    assert x.add(x, alpha=2).tolist() == [3.0, 6.0, 12.0]


def test_comparisons_have_no_gradient():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    for c in (x > 1, x >= 1, x < 1, x <= 1, x == 1, x != 1):
        assert c.dtype == fg.bool and not c.requires_grad
    assert (~(x > 1)).tolist() == [True, False]
    assert ((x > 0) & (x < 2)).tolist() == [True, False]


def test_numpy_ufuncs_on_tensors_are_differentiable():
    x = fg.tensor([0.5, 1.0], requires_grad=True)
    y = np.exp(x)
    assert isinstance(y, fg.Tensor) and y.requires_grad
    np.sum(y).backward() if False else y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.5, 1.0]), rtol=1e-6)
    assert (np.float64(2.0) * fg.ones(2)).dtype == fg.float32


def test_item_assignment_for_custom_backward_style():
    g = fg.tensor([1.0, -1.0, 2.0])
    g[g < 0] = 0
    assert g.tolist() == [1.0, 0.0, 2.0]
    g[0] = fg.tensor(5.0)
    assert g.tolist() == [5.0, 0.0, 2.0]
    w = fg.ones(3, requires_grad=True)
    with pytest.raises(fg.FlowgradError, match="requires grad"):
        w[0] = 2.0
    with fg.no_grad():
        w[0] = 2.0
    assert w.tolist() == [2.0, 1.0, 1.0]


def test_inplace_parameter_update_inside_no_grad():
    w = fg.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    with pytest.raises(fg.FlowgradError, match="no_grad"):
        w -= 0.1 * w.grad
    data_before = w.numpy()
    with fg.no_grad():
        w -= 0.1 * w.grad
        w.grad.zero_()
    assert w.numpy() is data_before  # updated in place, still a leaf
    assert w.is_leaf and w.requires_grad
    np.testing.assert_allclose(w.numpy(), [0.8, 1.6])
    assert w.grad.tolist() == [0.0, 0.0]


def test_inplace_on_non_leaf_records_out_of_place():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y += 1
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_changing_a_saved_input_in_place_is_caught():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    c = fg.tensor([3.0, 4.0])
    y = (x * c).sum()
    c[0] = 10.0  # c was saved by the multiply
    with pytest.raises(fg.FlowgradError, match="changed in place"):
        y.backward()


def test_indexing_reads_and_scatters_gradients():
    x = fg.arange(12, dtype=fg.float64).reshape(3, 4).requires_grad_()
    y = x[0, 1:3].sum() + x[[0, 0, 2], [1, 1, 3]].sum() + x[x > 9].sum() + x[..., None][1, 2, 0]
    y.backward()
    expected = np.zeros((3, 4))
    expected[0, 1:3] += 1
    expected[0, 1] += 2
    expected[2, 3] += 1  # the advanced index
    expected[2, 2:4] += 1  # the mask x > 9
    expected[1, 2] += 1
    np.testing.assert_array_equal(x.grad.numpy(), expected)
