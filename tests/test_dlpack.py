"""DLPack: zero-copy exchange with NumPy and PyTorch (JAX when installed); gradients do not cross."""

import numpy as np
import pytest

import flowgrad as fg


def test_numpy_both_ways_share_memory():
    a = np.arange(6.0).reshape(2, 3)
    t = fg.from_dlpack(a)
    assert np.shares_memory(t.numpy(), a) and t.dtype == fg.float64 and not t.requires_grad
    b = np.from_dlpack(fg.tensor([1, 2, 3]))
    assert b.dtype == np.int64 and b.tolist() == [1, 2, 3]
    assert fg.tensor([1.0]).__dlpack_device__() == (1, 0)  # DLPack's CPU


def test_torch_both_ways_share_memory_even_strided():
    torch = pytest.importorskip("torch")
    t = fg.tensor(np.arange(12.0).reshape(3, 4)).T  # a transposed view: strides cross as they are
    x = torch.from_dlpack(t)
    assert tuple(x.shape) == (4, 3)
    x[0, 1] = -1.0  # written on torch's side ...
    assert t[0, 1].item() == -1.0  # ... read on flowgrad's
    y = torch.zeros(3, dtype=torch.int32)
    u = fg.from_dlpack(y)
    u[2] = 7  # and the other way round
    assert y.tolist() == [0, 0, 7] and u.dtype == fg.int32


def test_gradients_do_not_cross():
    torch = pytest.importorskip("torch")
    with pytest.raises(fg.FlowgradError, match=r"requires grad cannot be shared.*detach"):
        torch.from_dlpack(fg.ones(2, requires_grad=True))
    torch.from_dlpack(fg.ones(2, requires_grad=True).detach())  # the fix works
    with pytest.raises(fg.DTypeError, match="cannot share"):
        fg.from_dlpack(torch.ones(2, requires_grad=True))


def test_unmatched_dtypes_and_wrong_objects_are_refused_clearly():
    torch = pytest.importorskip("torch")
    with pytest.raises(fg.DTypeError, match="from_dlpack: cannot share Tensor's memory"):
        fg.from_dlpack(torch.ones(2, dtype=torch.bfloat16))  # NumPy has no bfloat16
    with pytest.raises(fg.DTypeError, match=r"expected an object with __dlpack__.*list"):
        fg.from_dlpack([1.0, 2.0])


def test_jax_when_installed():
    jnp = pytest.importorskip("jax.numpy")
    t = fg.tensor([1.0, 2.0])
    assert jnp.from_dlpack(t).tolist() == [1.0, 2.0]
    assert fg.from_dlpack(jnp.arange(3.0)).tolist() == [0.0, 1.0, 2.0]
