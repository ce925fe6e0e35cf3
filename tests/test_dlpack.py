"""DLPack: zero-copy exchange with NumPy and PyTorch (JAX when installed), writes seen on the
other side; dtypes, strides, read-only arrays; refusals (DLPackError); gradients do not cross."""

import numpy as np
import pytest

import flowgrad as fg


def _shares(t, other_pointer):
    return t._data.__array_interface__["data"][0] == other_pointer


class Consumer:
    """Passes ``t.__dlpack__`` the keywords given here, over those the consumer library sends."""

    def __init__(self, t, **keywords):
        self.t, self.keywords = t, keywords

    def __dlpack__(self, **kwargs):
        return self.t.__dlpack__(**{**kwargs, **self.keywords})

    def __dlpack_device__(self):
        return self.t.__dlpack_device__()


def test_dlpack_error_is_a_flowgrad_error_and_a_buffer_error():
    assert issubclass(fg.DLPackError, fg.FlowgradError) and issubclass(fg.DLPackError, BufferError)


def test_numpy_both_ways_share_memory():
    a = np.arange(6.0).reshape(2, 3)
    t = fg.from_dlpack(a)
    assert np.shares_memory(t.numpy(), a) and t.dtype == fg.float64 and not t.requires_grad and t.is_leaf
    a[1, 2] = -5.0  # written on NumPy's side ...
    assert t[1, 2].item() == -5.0  # ... read on flowgrad's
    u = fg.tensor([1, 2, 3])
    b = np.from_dlpack(u)
    assert b.dtype == np.int64 and b.tolist() == [1, 2, 3]
    u[0] = 9  # and the other way round
    assert b[0] == 9
    assert tuple(int(v) for v in fg.tensor([1.0]).__dlpack_device__()) == (1, 0)  # DLPack's CPU


def test_torch_both_ways_share_memory_even_strided():
    torch = pytest.importorskip("torch")
    t = fg.tensor(np.arange(12.0).reshape(3, 4)).T  # a transposed view: strides cross as they are
    x = torch.from_dlpack(t)
    assert tuple(x.shape) == (4, 3) and x.stride() == (1, 4)
    x[0, 1] = -1.0  # written on torch's side ...
    assert t[0, 1].item() == -1.0  # ... read on flowgrad's
    y = torch.zeros(3, dtype=torch.int32)
    u = fg.from_dlpack(y)
    u[2] = 7  # and the other way round
    assert y.tolist() == [0, 0, 7] and u.dtype == fg.int32


def test_non_contiguous_torch_tensors_cross_with_their_strides():
    torch = pytest.importorskip("torch")
    base = torch.arange(24.0).reshape(4, 6)
    for view in (base.t(), base[:, ::2], base[1:3, 1:5], base.unsqueeze(1).expand(4, 3, 6)):
        t = fg.from_dlpack(view)
        assert t.tolist() == view.tolist()
        assert _shares(t, view.data_ptr())
    v = base[:, ::2]
    fg.from_dlpack(v)[0, 1] = 100.0
    assert base[0, 2].item() == 100.0


def test_negative_strides_are_refused_and_clone_crosses():
    torch = pytest.importorskip("torch")
    t = fg.tensor(np.arange(4.0))[::-1]
    # PyTorch 2.x aborts the process on a capsule with negative strides: refused before that.
    with pytest.raises(fg.DLPackError, match=r"negative strides.*tensor.clone\(\) or pass copy=True"):
        torch.from_dlpack(t)
    assert torch.from_dlpack(t.clone()).tolist() == [3.0, 2.0, 1.0, 0.0]
    assert np.from_dlpack(Consumer(t, copy=True)).tolist() == [3.0, 2.0, 1.0, 0.0]


TORCH_DTYPES = [
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
    "complex64",
    "complex128",
]


@pytest.mark.parametrize("name", TORCH_DTYPES)
def test_every_shared_dtype_crosses_both_ways_without_a_copy(name):
    torch = pytest.importorskip("torch")
    values = np.array([0, 1, 1, 0], dtype=name) if name == "bool" else np.arange(4).astype(name)
    t = fg.tensor(values)
    x = torch.from_dlpack(t)
    assert str(x.dtype) == f"torch.{name}" and x.data_ptr() == t._data.ctypes.data
    assert np.array_equal(x.numpy(), values)
    back = fg.from_dlpack(x)
    assert back.dtype == t.dtype and _shares(back, x.data_ptr())


@pytest.mark.parametrize("name", ["bfloat16", "float8_e4m3fn", "float8_e5m2"])
def test_dtypes_without_a_match_are_refused_clearly(name):
    torch = pytest.importorskip("torch")
    x = torch.ones(2).to(getattr(torch, name))
    with pytest.raises(
        fg.DLPackError, match=rf"from_dlpack: cannot take the memory of this Tensor of torch.{name}.*no match"
    ):
        fg.from_dlpack(x)


def test_wrong_objects_and_arguments_are_refused_clearly():
    with pytest.raises(fg.DTypeError, match=r"expected an object with __dlpack__.*list"):
        fg.from_dlpack([1.0, 2.0])
    t = fg.ones(2)
    with pytest.raises(fg.DLPackError, match="stream must be None for a CPU tensor, got 1"):
        t.__dlpack__(stream=1)
    with pytest.raises(fg.DLPackError, match=r"cannot export to \(2, 0\)"):
        t.__dlpack__(dl_device=(2, 0))
    with pytest.raises(fg.DTypeError, match="copy must be True, False or None, got 'yes'"):
        t.__dlpack__(copy="yes")
    with pytest.raises(fg.DLPackError, match="device must be None or 'cpu', got 'cuda'"):
        fg.from_dlpack(np.ones(2), device="cuda")


def test_dlpack_keywords_of_the_array_api():
    t = fg.tensor([1.0, 2.0])
    assert "dltensor_versioned" in repr(t.__dlpack__(max_version=(1, 0)))
    assert "dltensor_versioned" not in repr(t.__dlpack__())
    np.from_dlpack(Consumer(t, dl_device=(1, 0), copy=False))[0] = 3.0  # shared
    assert t.tolist() == [3.0, 2.0]
    a = np.zeros(2)
    assert not np.shares_memory(fg.from_dlpack(a, copy=True).numpy(), a)
    assert np.shares_memory(fg.from_dlpack(a, device="cpu", copy=False).numpy(), a)


def test_copy_true_exports_a_copy():
    torch = pytest.importorskip("torch")
    t = fg.zeros(3)
    x = torch.from_dlpack(Consumer(t, copy=True))
    x[0] = 1.0
    assert t.tolist() == [0.0, 0.0, 0.0]


def test_read_only_arrays():
    a = np.arange(3.0)
    a.flags.writeable = False
    t = fg.from_dlpack(a)  # shares, and stays read-only
    assert _shares(t, a.__array_interface__["data"][0]) and not t._data.flags.writeable
    with pytest.raises(fg.FlowgradError, match="read-only"):
        t[0] = 1.0
    b = np.from_dlpack(t)  # NumPy asks for DLPack 1.0, whose read-only flag it honours
    assert not b.flags.writeable and b.tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(fg.DLPackError, match="read-only tensor needs a consumer of DLPack 1.0 or later"):
        t.__dlpack__()  # an old consumer: no flag to say read-only
    assert np.from_dlpack(t.clone()).flags.writeable


def test_zero_size_and_zero_dim_tensors():
    torch = pytest.importorskip("torch")
    assert tuple(torch.from_dlpack(fg.zeros(0, 3)).shape) == (0, 3)
    assert torch.from_dlpack(fg.tensor(3.0)).item() == 3.0
    assert fg.from_dlpack(torch.tensor(2.5)).shape == ()


def test_gradients_do_not_cross():
    torch = pytest.importorskip("torch")
    w = fg.ones(2, requires_grad=True)
    with pytest.raises(fg.DLPackError, match=r"requires grad \(gradients do not cross DLPack\).*detach\(\)"):
        torch.from_dlpack(w)
    with pytest.raises(fg.DLPackError, match="requires grad"):
        np.from_dlpack(fg.nn.Linear(2, 2).weight)
    x = torch.from_dlpack(w.detach())  # the fix shares the same memory
    with torch.no_grad():
        x[0] = 4.0
    assert w.tolist() == [4.0, 1.0]
    with pytest.raises(fg.DLPackError, match=r"Tensor of torch.float32.*detach"):
        fg.from_dlpack(torch.ones(2, requires_grad=True))
    u = fg.from_dlpack(torch.ones(2, requires_grad=True).detach())
    assert not u.requires_grad and u.is_leaf
    (u.requires_grad_() * 3.0).sum().backward()  # differentiable from here on, in flowgrad only
    assert u.grad.tolist() == [3.0, 3.0]


def test_torch_conjugate_views_are_refused_by_torch_clearly():
    torch = pytest.importorskip("torch")
    with pytest.raises(fg.DLPackError, match="conjugate"):
        fg.from_dlpack(torch.tensor([1 + 1j]).conj())


def test_jax_when_installed():
    jnp = pytest.importorskip("jax.numpy")
    t = fg.tensor([1.0, 2.0])
    assert jnp.from_dlpack(t).tolist() == [1.0, 2.0]
    a = jnp.arange(3.0)
    u = fg.from_dlpack(a)
    assert u.tolist() == [0.0, 1.0, 2.0] and _shares(u, a.unsafe_buffer_pointer())
    with pytest.raises(fg.DLPackError, match="requires grad"):
        jnp.from_dlpack(fg.ones(2, requires_grad=True))
